"""Listing reads of the catalog and requests, paged by cursor (the Ouranos data-transport API's ``after``)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from .tables import Attestation, BomLine, CfpRequest, Partner, Product


def plant_names(session: Session) -> list[str | None]:
    """Each distinct plant name of our products (None: products without a plant)."""
    return sorted(set(session.exec(select(Product.plant_name).distinct())), key=lambda n: (n is not None, n or ""))


def products_page(
    session: Session,
    *,
    after: str | None,
    limit: int,
    product_id: str | None = None,
    name: str | None = None,
    plant_names: Sequence[str | None] | None = None,
    ids_in: Sequence[str] | None = None,
    ids_out: Sequence[str] | None = None,
) -> list[Product]:
    """Products by name then id, after the product ``after`` (a cursor), at most ``limit``."""
    stmt = select(Product)
    if product_id is not None:
        stmt = stmt.where(col(Product.id) == product_id)
    if name is not None:
        stmt = stmt.where(col(Product.name) == name)
    if plant_names is not None:
        named = [n for n in plant_names if n is not None]
        if None in plant_names:
            stmt = stmt.where(or_(col(Product.plant_name).in_(named), col(Product.plant_name).is_(None)))
        else:
            stmt = stmt.where(col(Product.plant_name).in_(named))
    if ids_in is not None:
        stmt = stmt.where(col(Product.id).in_(list(ids_in)))
    if ids_out:
        stmt = stmt.where(col(Product.id).not_in(list(ids_out)))
    if after is not None:
        last = session.get(Product, after)
        if last is None:
            return []
        stmt = stmt.where(
            or_(col(Product.name) > last.name, and_(col(Product.name) == last.name, col(Product.id) > last.id))
        )
    return list(session.exec(stmt.order_by(col(Product.name), col(Product.id)).limit(limit)))


def internal_children(session: Session, company_id: str) -> list[tuple[str, str]]:
    """(parent product id, child product URN) of every line naming a product of our own company."""
    stmt = select(BomLine.product_id, BomLine.supplier_product_id).where(
        col(BomLine.kind) == "supplier", col(BomLine.supplier_company_id) == company_id
    )
    return [(p, u or "") for p, u in session.exec(stmt)]


def supplier_lines(session: Session, product_id: str) -> list[BomLine]:
    stmt = select(BomLine).where(col(BomLine.product_id) == product_id, col(BomLine.kind) == "supplier")
    return list(session.exec(stmt.order_by(col(BomLine.created_at), col(BomLine.id))))


def requests_page(
    session: Session,
    *,
    direction: str | None,
    after: str | None,
    limit: int,
    line_ids: Sequence[str] | None = None,
    request_id: str | None = None,
) -> list[CfpRequest]:
    """Requests newest first, after the request ``after`` (a cursor), at most ``limit``."""
    stmt = select(CfpRequest)
    if direction is not None:
        stmt = stmt.where(col(CfpRequest.direction) == direction)
    if line_ids is not None:
        stmt = stmt.where(col(CfpRequest.bom_line_id).in_(list(line_ids)))
    if request_id is not None:
        stmt = stmt.where(col(CfpRequest.id) == request_id)
    if after is not None:
        last = session.get(CfpRequest, after)
        if last is None:
            return []
        stmt = stmt.where(
            or_(
                col(CfpRequest.created_at) < last.created_at,
                and_(col(CfpRequest.created_at) == last.created_at, col(CfpRequest.id) < last.id),
            )
        )
    order = (col(CfpRequest.created_at).desc(), col(CfpRequest.id).desc())
    return list(session.exec(stmt.order_by(*order).limit(limit)))


def lines_for_products(session: Session, product_ids: Sequence[str]) -> list[BomLine]:
    stmt = select(BomLine).where(col(BomLine.product_id).in_(list(product_ids)), col(BomLine.kind) == "supplier")
    return list(session.exec(stmt))


def partners(session: Session) -> list[Partner]:
    return list(session.exec(select(Partner).order_by(col(Partner.company_id))))


def attestations_of(session: Session, footprint_id: str) -> list[Attestation]:
    """Every attestation issued for a footprint, oldest first."""
    stmt = select(Attestation).where(col(Attestation.footprint_id) == footprint_id)
    return list(session.exec(stmt.order_by(col(Attestation.created_at), col(Attestation.id))))


def requests_by_event(session: Session, event_id: str) -> list[CfpRequest]:
    """The requests (ours and a partner's, when both live on this node) asked by one event."""
    return list(session.exec(select(CfpRequest).where(col(CfpRequest.event_id) == event_id)))
