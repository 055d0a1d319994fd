"""The statements of supplier data: which BOM lines an imported footprint can be for, and per product each supplier
line with the upstream value held for it and its latest request (the "missing supplier data" view)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session

from .repositories import first_row, rows
from .tables import BomLine, CfpRequest, Product, UpstreamFootprint

_BOM = BomLine.__table__  # type: ignore[attr-defined]
_PRODUCT = Product.__table__  # type: ignore[attr-defined]
_UP = UpstreamFootprint.__table__  # type: ignore[attr-defined]
_REQ = CfpRequest.__table__  # type: ignore[attr-defined]

_LINES_FOR_PRODUCTS = (
    core_select(_BOM, _PRODUCT.c.name.label("product_name"))
    .join(_PRODUCT, _PRODUCT.c.id == _BOM.c.product_id)
    .where(_BOM.c.kind == "supplier", func.lower(_BOM.c.supplier_product_id).in_(bindparam("us", expanding=True)))
    .order_by(_PRODUCT.c.name, _BOM.c.created_at)
)


def supplier_lines_for(session: Session, product_urns: list[str]) -> Sequence[Row[Any]]:
    """The supplier BOM lines (of any product) whose upstream product is one of ``product_urns`` (compared
    case-insensitively), with their product's name."""
    if not product_urns:
        return []
    return rows(session, _LINES_FOR_PRODUCTS, {"us": sorted({u.lower() for u in product_urns})})


_SUPPLIER_LINES = (
    core_select(_BOM, _PRODUCT.c.name.label("product_name"))
    .join(_PRODUCT, _PRODUCT.c.id == _BOM.c.product_id)
    .where(_BOM.c.kind == "supplier")
    .order_by(_PRODUCT.c.name, _PRODUCT.c.id, _BOM.c.created_at)
)
_SUPPLIER_LINES_OF = _SUPPLIER_LINES.where(_BOM.c.product_id == bindparam("p"))

_HELD = (
    core_select(
        _UP.c.supplier_company_id,
        _UP.c.product_id,
        _UP.c.footprint_id,
        _UP.c.basis,
        _UP.c.source_kind,
        _UP.c.entered_by,
        _UP.c.received_at,
    )
    .where(_UP.c.status == "Active")
    .order_by(_UP.c.received_at.desc())
)

_LATEST_REQUESTS = (
    core_select(_REQ.c.bom_line_id, _REQ.c.id, _REQ.c.state, _REQ.c.reason, _REQ.c.updated_at)
    .where(_REQ.c.direction == "outgoing", _REQ.c.bom_line_id.in_(bindparam("ls", expanding=True)))
    .order_by(_REQ.c.created_at.desc())
)


_BUYS_FROM = (
    core_select(_BOM.c.id).where(_BOM.c.kind == "supplier", _BOM.c.supplier_company_id == bindparam("c")).limit(1)
)


def buys_from(session: Session, supplier: str) -> bool:
    """Whether any supplier BOM line (of any product) buys from the company ``supplier``."""
    return first_row(session, _BUYS_FROM, {"c": supplier}) is not None


def supplier_lines(session: Session, product_id: str | None) -> Sequence[Row[Any]]:
    """Every supplier BOM line of the product (all products when None), with the product's name, by product."""
    if product_id is None:
        return rows(session, _SUPPLIER_LINES, {})
    return rows(session, _SUPPLIER_LINES_OF, {"p": product_id})


def held_values(session: Session, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], Row[Any]]:
    """The newest active upstream value of each (supplier company id, lower-cased product URN) pair, without its
    document; pairs with nothing held are absent."""
    if not pairs:
        return {}
    stmt = _HELD.where(
        _UP.c.supplier_company_id.in_(sorted({c for c, _ in pairs})),
        func.lower(_UP.c.product_id).in_(sorted({u for _, u in pairs})),
    )
    found: dict[tuple[str, str], Row[Any]] = {}
    for row in rows(session, stmt, {}):
        key = (row.supplier_company_id, row.product_id.lower())
        if key in pairs and key not in found:
            found[key] = row
    return found


def latest_requests(session: Session, line_ids: list[str]) -> dict[str, Row[Any]]:
    """The newest outgoing request of each BOM line (any state), keyed by line id."""
    if not line_ids:
        return {}
    found: dict[str, Row[Any]] = {}
    for row in rows(session, _LATEST_REQUESTS, {"ls": line_ids}):
        found.setdefault(row.bom_line_id, row)
    return found
