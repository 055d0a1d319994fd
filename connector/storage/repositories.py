"""Queries. Services call these; nothing outside storage/ writes SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from sqlalchemy import bindparam, func, update
from sqlalchemy import select as core_select
from sqlalchemy.orm import defer
from sqlmodel import Session, SQLModel, col, select

from .tables import (
    ApiKey,
    BomLine,
    CfpRequest,
    Footprint,
    Grant,
    InboxEvent,
    OwnEmission,
    Partner,
    Product,
    ProductIdentifier,
    UpstreamFootprint,
)

M = TypeVar("M", bound=SQLModel)


def page(session: Session, model: type[M], *where: object, order: object, limit: int, offset: int) -> tuple[list[M], int]:
    stmt = select(model)
    count = select(func.count()).select_from(model)
    for cond in where:
        stmt = stmt.where(cond)  # type: ignore[arg-type]
        count = count.where(cond)  # type: ignore[arg-type]
    # the primary key breaks ties, so rows created in the same instant never shift between pages
    keys = [col.desc() if _descending(order) else col for col in model.__table__.primary_key.columns]  # type: ignore[attr-defined]
    stmt = stmt.order_by(order, *keys).limit(limit).offset(offset)  # type: ignore[arg-type]
    return list(session.exec(stmt)), session.exec(count).one()


def _descending(order: object) -> bool:
    return getattr(getattr(order, "modifier", None), "__name__", "") == "desc_op"


def product_by_urn(session: Session, urn: str) -> Product | None:
    """URNs compare case-insensitively everywhere (as in products_by_urns and latest_upstreams)."""
    ident = session.get(ProductIdentifier, urn)
    if ident is None:
        stmt = select(ProductIdentifier).where(func.lower(ProductIdentifier.urn) == urn.lower())
        ident = session.exec(stmt).first()
    return session.get(Product, ident.product_id) if ident else None


def products_by_urns(session: Session, urns: Sequence[str]) -> list[Product]:
    if not urns:
        return []
    lowered = [u.lower() for u in urns]
    ids = select(ProductIdentifier.product_id).where(func.lower(ProductIdentifier.urn).in_(lowered))
    return list(session.exec(select(Product).where(col(Product.id).in_(ids)).order_by(col(Product.created_at))))


def bom_lines(session: Session, product_id: str) -> list[BomLine]:
    return list(session.exec(select(BomLine).where(BomLine.product_id == product_id).order_by(col(BomLine.created_at))))


def own_emissions(session: Session, product_id: str) -> list[OwnEmission]:
    stmt = select(OwnEmission).where(OwnEmission.product_id == product_id).order_by(col(OwnEmission.created_at))
    return list(session.exec(stmt))


def internal_edges(session: Session, company_id: str) -> dict[str, list[str]]:
    """Product id -> product ids of our own products it consumes (lines whose supplier is this company)."""
    edges: dict[str, list[str]] = {}
    stmt = (
        select(BomLine.product_id, ProductIdentifier.product_id)
        .join(ProductIdentifier, func.lower(ProductIdentifier.urn) == func.lower(BomLine.supplier_product_id))
        .where(BomLine.supplier_company_id == company_id)
    )
    for src, dst in session.exec(stmt):
        edges.setdefault(src, []).append(dst)
    return edges


def active_footprint(session: Session, product_id: str) -> Footprint | None:
    stmt = select(Footprint).where(Footprint.product_id == product_id, Footprint.status == "Active")
    return session.exec(stmt.order_by(col(Footprint.version).desc())).first()


def footprint_versions(session: Session, product_id: str) -> list[Footprint]:
    stmt = select(Footprint).where(Footprint.product_id == product_id).order_by(col(Footprint.version).desc())
    return list(session.exec(stmt))


def latest_upstreams(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], UpstreamFootprint]:
    """The newest active upstream footprint of many (supplier company id, product URN) pairs in one query; keyed by
    (company id, lower-cased URN), pairs with nothing held are absent."""
    wanted = {(company, urn.lower()) for company, urn in pairs}
    if not wanted:
        return {}
    stmt = (
        select(UpstreamFootprint)
        # the evidence and the PACT document (the largest JSON of a node) are never needed to compute
        .options(defer(UpstreamFootprint.evidence), defer(UpstreamFootprint.pact))  # type: ignore[arg-type]
        .where(
            col(UpstreamFootprint.supplier_company_id).in_(sorted({c for c, _ in wanted})),
            func.lower(UpstreamFootprint.product_id).in_(sorted({u for _, u in wanted})),
            UpstreamFootprint.status == "Active",
        )
        .order_by(col(UpstreamFootprint.received_at).desc())
    )
    found: dict[tuple[str, str], UpstreamFootprint] = {}
    for up in session.exec(stmt):
        key = (up.supplier_company_id, up.product_id.lower())
        if key in wanted and key not in found:  # newest first: the first row of a pair is its latest
            found[key] = up
    return found


_BOM = BomLine.__table__  # type: ignore[attr-defined]
_USING_UPSTREAM = core_select(_BOM.c.product_id).where(_BOM.c.supplier_company_id == bindparam("c"),
                                                       func.lower(_BOM.c.supplier_product_id) == bindparam("u"))


def products_using_upstream(session: Session, supplier_company_id: str, product_urn: str) -> list[str]:
    session.flush()
    rows = session.connection().execute(_USING_UPSTREAM, {"c": supplier_company_id, "u": product_urn.lower()})
    return sorted({row[0] for row in rows})


def partner_by_company(session: Session, company_id: str) -> Partner | None:
    return session.exec(select(Partner).where(Partner.company_id == company_id)).first()


def api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()


def count_admin_keys(session: Session) -> int:
    stmt = select(func.count()).select_from(ApiKey).where(ApiKey.role == "admin", col(ApiKey.revoked).is_(False))
    return session.exec(stmt).one()


# the event path: prepared core statements on the session's connection (no ORM objects, no statement building) -----


def _scalar(session: Session, stmt: object, params: dict[str, object]) -> object:
    session.flush()  # what autoflush does before an ORM query: the transaction's pending rows count
    return session.connection().execute(stmt, params).scalar()  # type: ignore[call-overload]


_GRANT = Grant.__table__  # type: ignore[attr-defined]
_HAS_GRANT = core_select(_GRANT.c.id).where(_GRANT.c.product_id == bindparam("p"),
                                            _GRANT.c.company_id == bindparam("c")).limit(1)


def has_grant(session: Session, product_id: str, company_id: str) -> bool:
    return _scalar(session, _HAS_GRANT, {"p": product_id, "c": company_id}) is not None


_INBOX = InboxEvent.__table__  # type: ignore[attr-defined]
_INBOX_SEEN = core_select(_INBOX.c.event_id).where(_INBOX.c.event_id == bindparam("k"))
_INBOX_INSERT = _INBOX.insert()


def inbox_seen(session: Session, key: str) -> bool:
    return _scalar(session, _INBOX_SEEN, {"k": key}) is not None


def inbox_record(session: Session, key: str, source: str, type_: str, at: object) -> None:
    """Record an incoming event id; a concurrent duplicate raises IntegrityError (the primary key)."""
    session.connection().execute(_INBOX_INSERT, {"event_id": key, "source": source, "type": type_, "received_at": at})


_REQ = CfpRequest.__table__  # type: ignore[attr-defined]
_LATEST_VERIFIERS = (core_select(_REQ.c.verifier_certs)
                     .where(_REQ.c.direction == "incoming", _REQ.c.company_id == bindparam("c"),
                            _REQ.c.product_id == bindparam("p"))
                     .order_by(_REQ.c.created_at.desc()).limit(1))


_OPEN_FOR_LINE = core_select(_REQ.c.id).where(_REQ.c.direction == "outgoing", _REQ.c.bom_line_id == bindparam("l"),
                                              _REQ.c.state == "pending").limit(1)


def open_request_for_line(session: Session, line_id: str) -> str | None:
    """The id of the pending outgoing request for a BOM line, if there is one."""
    return _scalar(session, _OPEN_FOR_LINE, {"l": line_id})  # type: ignore[return-value]


def latest_verifiers(session: Session, company_id: str, product_id: str) -> list[str]:
    """The verifier certificates named by the customer's latest request for the product."""
    return list(_scalar(session, _LATEST_VERIFIERS, {"c": company_id, "p": product_id}) or [])  # type: ignore[call-overload]


_UP = UpstreamFootprint.__table__  # type: ignore[attr-defined]
_UP_HELD = core_select(_UP.c.id).where(_UP.c.footprint_id == bindparam("f")).limit(1)
_UP_LATEST_ID = (core_select(_UP.c.id, _UP.c.footprint_id)
                 .where(_UP.c.supplier_company_id == bindparam("c"), func.lower(_UP.c.product_id) == bindparam("u"),
                        _UP.c.status == "Active")
                 .order_by(_UP.c.received_at.desc()).limit(1))


def deprecate_upstream(session: Session, row_id: str) -> None:
    """One UPDATE (ORM-enabled: an instance of the row in the session is updated too, and the commit counts as a
    write that may change a PACT answer)."""
    session.execute(update(UpstreamFootprint).where(col(UpstreamFootprint.id) == row_id)
                    .values(status="Deprecated"))


def upstream_held(session: Session, footprint_id: str) -> bool:
    return _scalar(session, _UP_HELD, {"f": footprint_id}) is not None


def latest_upstream_ids(session: Session, supplier_company_id: str, product_urn: str) -> tuple[str, str] | None:
    """(row id, footprint id) of the newest active upstream footprint of one pair, without loading the row."""
    session.flush()
    row = session.connection().execute(_UP_LATEST_ID, {"c": supplier_company_id, "u": product_urn.lower()}).first()
    return (row[0], row[1]) if row else None
