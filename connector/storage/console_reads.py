"""What the console's overview pages count and list: one grouped query per figure, on indexed columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from .tables import BomLine, CfpRequest, DeclarationRecord, Footprint, OutboxMessage, Product


def request_counts(session: Session) -> dict[tuple[str, str], int]:
    """(direction, state) -> number of requests."""
    stmt = select(CfpRequest.direction, CfpRequest.state, func.count()).group_by(
        col(CfpRequest.direction), col(CfpRequest.state)
    )
    return {(d, s): n for d, s, n in session.exec(stmt)}


def stalled_outgoing(session: Session, before: datetime, limit: int) -> tuple[int, list[CfpRequest]]:
    """Outgoing requests still pending since before ``before``, oldest first, and how many there are."""
    where = (CfpRequest.direction == "outgoing", CfpRequest.state == "pending", col(CfpRequest.created_at) < before)
    count = session.exec(select(func.count()).select_from(CfpRequest).where(*where)).one()
    rows = session.exec(select(CfpRequest).where(*where).order_by(col(CfpRequest.created_at)).limit(limit))
    return count, list(rows)


def outbox_counts(session: Session) -> dict[str, int]:
    stmt = select(OutboxMessage.state, func.count()).group_by(col(OutboxMessage.state))
    return {s: n for s, n in session.exec(stmt)}


def table_counts(session: Session) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, model in (("products", Product), ("footprints", Footprint), ("declarations", DeclarationRecord)):
        out[name] = session.exec(select(func.count()).select_from(model)).one()
    return out


def products_page(session: Session, limit: int, offset: int, search: str | None) -> tuple[list[Any], int]:
    """Products with their number of BOM lines, newest first (one query for the page, one for the count)."""
    lines = select(BomLine.product_id, func.count().label("n")).group_by(col(BomLine.product_id)).subquery("lines")
    p = Product.__table__  # type: ignore[attr-defined]
    stmt = core_select(p.c.id, p.c.name, p.c.product_ids, p.c.declared_unit, p.c.created_at, lines.c.n)
    stmt = stmt.join(lines, lines.c.product_id == p.c.id, isouter=True)
    count = select(func.count()).select_from(Product)
    if search:
        pattern = f"%{search.lower()}%"
        stmt = stmt.where(func.lower(p.c.name).like(pattern))
        count = count.where(func.lower(Product.name).like(pattern))
    stmt = stmt.order_by(p.c.created_at.desc(), p.c.id).limit(limit).offset(offset)
    return list(session.execute(stmt)), session.exec(count).one()


def outgoing_for_lines(session: Session, line_ids: list[str]) -> dict[str, CfpRequest]:
    """The newest outgoing request of each BOM line."""
    if not line_ids:
        return {}
    stmt = (
        select(CfpRequest)
        .where(CfpRequest.direction == "outgoing", col(CfpRequest.bom_line_id).in_(line_ids))
        .order_by(col(CfpRequest.created_at).desc())
    )
    out: dict[str, CfpRequest] = {}
    for req in session.exec(stmt):
        out.setdefault(req.bom_line_id or "", req)
    return out


def outgoing_to(session: Session, company_id: str | None, limit: int) -> list[CfpRequest]:
    stmt = select(CfpRequest).where(CfpRequest.direction == "outgoing")
    if company_id:
        stmt = stmt.where(CfpRequest.company_id == company_id)
    return list(session.exec(stmt.order_by(col(CfpRequest.created_at).desc()).limit(limit)))
