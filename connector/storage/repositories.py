"""Queries. Services call these; nothing outside storage/ writes SQL."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Result, Row, bindparam, func, insert, text, update
from sqlalchemy import select as core_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, SQLModel, col, select

from .tables import (
    ApiKey,
    Attestation,
    BomLine,
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


_PRODUCT = Product.__table__  # type: ignore[attr-defined]
_LOCK_PRODUCT = core_select(_PRODUCT.c.id).where(_PRODUCT.c.id == bindparam("i")).with_for_update()
_LINE = BomLine.__table__  # type: ignore[attr-defined]
_LOCK_LINE = core_select(_LINE.c.id).where(_LINE.c.id == bindparam("i")).with_for_update()
_ADVISORY = text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))")


def lock_product(session: Session, product_id: str) -> bool:
    """Serialise the writers of one product's footprints until the transaction ends: ``SELECT ... FOR UPDATE`` of
    its row on PostgreSQL, where concurrent computes otherwise both read the same active version and fork it. True
    when a lock was taken (what the caller read before may be stale); False on SQLite, whose writers hold the
    database's write lock from their first statement (``BEGIN IMMEDIATE``), so nothing read can be."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return False
    conn.execute(_LOCK_PRODUCT, {"i": product_id})
    return True


def lock_line(session: Session, line_id: str) -> None:
    """:func:`lock_product` for one BOM line: the requests for it are opened one at a time (PostgreSQL)."""
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(_LOCK_LINE, {"i": line_id})


def lock_key(session: Session, key: str) -> bool:
    """A transaction-scoped lock on a name with no row of its own (an upstream product of one supplier), on
    PostgreSQL (True); SQLite's writers are serialised already (False)."""
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return False
    conn.execute(_ADVISORY, {"k": key})
    return True


def page(
    session: Session, model: type[M], *where: object, order: object, limit: int, offset: int
) -> tuple[list[M], int]:
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


_PRODUCTS_BY_URNS = (
    select(Product)
    .where(
        col(Product.id).in_(
            select(ProductIdentifier.product_id).where(
                func.lower(ProductIdentifier.urn).in_(bindparam("urns", expanding=True))
            )
        )
    )
    .order_by(col(Product.created_at))
)


def products_by_urns(session: Session, urns: Sequence[str]) -> list[Product]:
    if not urns:
        return []
    return list(session.exec(_PRODUCTS_BY_URNS, params={"urns": [u.lower() for u in urns]}))


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


# ORM look-ups of the event path built once, bound per call (building the statement, its expressions and their
# coercions, cost as much as running it): the same SQL, the same instances
_ACTIVE_FOOTPRINT = (
    select(Footprint)
    .where(Footprint.product_id == bindparam("p"), Footprint.status == "Active")
    .order_by(col(Footprint.version).desc())
)


def active_footprint(session: Session, product_id: str) -> Footprint | None:
    return session.exec(_ACTIVE_FOOTPRINT, params={"p": product_id}).first()


_ATTESTATIONS_FOR = select(Attestation).where(
    Attestation.footprint_id == bindparam("f"), Attestation.audience == bindparam("a")
)


def attestations_for(session: Session, footprint_id: str, audience: str) -> list[Attestation]:
    """The attestations of a footprint issued to one audience (one per set of verifiers)."""
    return list(session.exec(_ATTESTATIONS_FOR, params={"f": footprint_id, "a": audience}))


def footprint_versions(session: Session, product_id: str) -> list[Footprint]:
    stmt = select(Footprint).where(Footprint.product_id == product_id).order_by(col(Footprint.version).desc())
    return list(session.exec(stmt))


_BOM = BomLine.__table__  # type: ignore[attr-defined]
_USING_UPSTREAM = core_select(_BOM.c.product_id).where(
    _BOM.c.supplier_company_id == bindparam("c"), func.lower(_BOM.c.supplier_product_id) == bindparam("u")
)


def products_using_upstream(session: Session, supplier_company_id: str, product_urn: str) -> list[str]:
    return sorted(
        {row[0] for row in rows(session, _USING_UPSTREAM, {"c": supplier_company_id, "u": product_urn.lower()})}
    )


def partner_by_company(session: Session, company_id: str) -> Partner | None:
    """The partner as an ORM instance, to change it (the event path reads :func:`partner_row`)."""
    return session.exec(select(Partner).where(Partner.company_id == company_id)).first()


def api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.exec(select(ApiKey).where(ApiKey.prefix == prefix)).first()


def count_admin_keys(session: Session) -> int:
    stmt = select(func.count()).select_from(ApiKey).where(ApiKey.role == "admin", col(ApiKey.revoked).is_(False))
    return session.exec(stmt).one()


# the event path: prepared core statements on the session's connection (no ORM objects, no statement building) -----


def execute(session: Session, stmt: Any, params: dict[str, Any]) -> Result[Any]:
    """A prepared core statement on the session's connection, after flushing the session's pending rows (what
    autoflush does before an ORM query: the transaction's own writes count)."""
    session.flush()
    return session.connection().execute(stmt, params)


def scalar(session: Session, stmt: object, params: dict[str, object]) -> object:
    return execute(session, stmt, params).scalar()


def rows(session: Session, stmt: Any, params: dict[str, Any]) -> Sequence[Row[Any]]:
    return execute(session, stmt, params).all()


def first_row(session: Session, stmt: Any, params: dict[str, Any]) -> Row[*tuple[Any, ...]] | None:
    return execute(session, stmt, params).first()


_GRANT = Grant.__table__  # type: ignore[attr-defined]
_HAS_GRANT = (
    core_select(_GRANT.c.id)
    .where(_GRANT.c.product_id == bindparam("p"), _GRANT.c.company_id == bindparam("c"))
    .limit(1)
)


def has_grant(session: Session, product_id: str, company_id: str) -> bool:
    return scalar(session, _HAS_GRANT, {"p": product_id, "c": company_id}) is not None


_INBOX = InboxEvent.__table__  # type: ignore[attr-defined]
_INBOX_FIRST = {
    "postgresql": pg_insert(_INBOX)
    .on_conflict_do_nothing(index_elements=[_INBOX.c.event_id])
    .returning(_INBOX.c.event_id),
    "sqlite": sqlite_insert(_INBOX)
    .on_conflict_do_nothing(index_elements=[_INBOX.c.event_id])
    .returning(_INBOX.c.event_id),
}
"""RETURNING says whether a row went in (the cursor's rowcount is not reliable through every driver: -1 here)."""


def inbox_first(session: Session, key: str, source: str, type_: str, at: object) -> bool:
    """Record an incoming event id, in one statement: True the first time, False when an earlier delivery (or a
    concurrent one, once it commits) recorded it (``INSERT ... ON CONFLICT DO NOTHING``)."""
    conn = session.connection()
    result = conn.execute(
        _INBOX_FIRST[conn.dialect.name], {"event_id": key, "source": source, "type": type_, "received_at": at}
    )
    return result.first() is not None


_UP = UpstreamFootprint.__table__  # type: ignore[attr-defined]
_UP_HELD = core_select(_UP.c.id).where(_UP.c.footprint_id == bindparam("f")).limit(1)
_UP_LATEST_ID = (
    core_select(_UP.c.id, _UP.c.footprint_id)
    .where(
        _UP.c.supplier_company_id == bindparam("c"),
        func.lower(_UP.c.product_id) == bindparam("u"),
        _UP.c.status == "Active",
    )
    .order_by(_UP.c.received_at.desc())
    .limit(1)
)


_ORM_INSERTS: dict[type[SQLModel], Any] = {}


def insert_new(session: Session, row: SQLModel) -> None:
    """INSERT a new row built as an instance (its defaults filled in), in one ORM-enabled statement rather than a
    unit-of-work flush: the instance stays out of the session (transient), its values are what a flush would have
    written, and the commit still counts as a write that may change a PACT answer (ORM execute events)."""
    model = type(row)
    stmt = _ORM_INSERTS.get(model)
    if stmt is None:
        stmt = _ORM_INSERTS[model] = insert(model)
    columns = model.__table__.columns  # type: ignore[attr-defined]
    session.execute(stmt, [{c.key: getattr(row, c.key) for c in columns}])


def deprecate_upstream(session: Session, row_id: str) -> None:
    """One UPDATE (ORM-enabled: an instance of the row in the session is updated too, and the commit counts as a
    write that may change a PACT answer)."""
    session.execute(update(UpstreamFootprint).where(col(UpstreamFootprint.id) == row_id).values(status="Deprecated"))


def upstream_held(session: Session, footprint_id: str) -> bool:
    return scalar(session, _UP_HELD, {"f": footprint_id}) is not None


def latest_upstream_ids(session: Session, supplier_company_id: str, product_urn: str) -> tuple[str, str] | None:
    """(row id, footprint id) of the newest active upstream footprint of one pair, without loading the row."""
    row = first_row(session, _UP_LATEST_ID, {"c": supplier_company_id, "u": product_urn.lower()})
    return (row[0], row[1]) if row else None


# read-only rows for the event path: the table's columns through the same column types (JSON, decimals as text,
# UTC datetimes), attribute access like the ORM instance's, but no identity map, no instance state, no unit of work

_BOM_OF = core_select(_BOM).where(_BOM.c.product_id == bindparam("p")).order_by(_BOM.c.created_at)


def bom_line_rows(session: Session, product_id: str) -> Sequence[Row[Any]]:
    """:func:`bom_lines` as read-only rows."""
    return rows(session, _BOM_OF, {"p": product_id})


_OWN = OwnEmission.__table__  # type: ignore[attr-defined]
_OWN_OF = core_select(_OWN).where(_OWN.c.product_id == bindparam("p")).order_by(_OWN.c.created_at)


def own_emission_rows(session: Session, product_id: str) -> Sequence[Row[Any]]:
    """:func:`own_emissions` as read-only rows."""
    return rows(session, _OWN_OF, {"p": product_id})


_PARTNER = Partner.__table__  # type: ignore[attr-defined]
_PARTNER_OF = core_select(_PARTNER).where(_PARTNER.c.company_id == bindparam("c")).limit(1)


def partner_row(session: Session, company_id: str) -> Row[Any] | None:
    """:func:`partner_by_company` as a read-only row."""
    return first_row(session, _PARTNER_OF, {"c": company_id})


_GRANTEES = core_select(_GRANT.c.company_id).where(_GRANT.c.product_id == bindparam("p"))


def grantees(session: Session, product_id: str) -> list[str]:
    """The companies holding a grant on the product."""
    return [row[0] for row in rows(session, _GRANTEES, {"p": product_id})]


# the evidence and the PACT document (the largest JSON of a node) are never needed to compute
_LATEST_UPSTREAMS = (
    core_select(*(c for c in _UP.c if c.name not in ("evidence", "pact")))
    .where(
        _UP.c.supplier_company_id.in_(bindparam("cs", expanding=True)),
        func.lower(_UP.c.product_id).in_(bindparam("us", expanding=True)),
        _UP.c.status == "Active",
    )
    .order_by(_UP.c.received_at.desc())
)


def latest_upstreams(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Row[Any]]:
    """The newest active upstream footprint of many (supplier company id, product URN) pairs in one query, as
    read-only rows without the evidence and PACT columns; keyed by (company id, lower-cased URN), pairs with nothing
    held are absent."""
    wanted = {(company, urn.lower()) for company, urn in pairs}
    if not wanted:
        return {}
    found: dict[tuple[str, str], Row[Any]] = {}
    for up in rows(
        session, _LATEST_UPSTREAMS, {"cs": sorted({c for c, _ in wanted}), "us": sorted({u for _, u in wanted})}
    ):
        key = (up.supplier_company_id, up.product_id.lower())
        if key in wanted and key not in found:  # newest first: the first row of a pair is its latest
            found[key] = up
    return found


_UP_ATTESTATION = core_select(_UP.c.attestation, _UP.c.evidence).where(_UP.c.footprint_id == bindparam("f")).limit(1)


def upstream_attestation(session: Session, footprint_id: str) -> tuple[str | None, Any] | None:
    """(attestation, sealed evidence) of an upstream footprint we hold, or None when not held."""
    row = first_row(session, _UP_ATTESTATION, {"f": footprint_id})
    return (row[0], row[1]) if row else None
