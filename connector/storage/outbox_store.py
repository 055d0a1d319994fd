"""The statements of the outbox (``OutboxMessage``): the prepared INSERT of :func:`connector.exchange.outbox.enqueue`,
the claim of due messages (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and their lease, the mark-sent UPDATE, the
reclaim of a restarted worker's leases, and the retry-now read. :mod:`connector.exchange.outbox` keeps the protocol
(leases, dispatch, backoff, giving up); the statements are built once, at import, as they were there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlmodel import Session
from sqlmodel import select as orm_select

from .tables import OutboxMessage

_TABLE = OutboxMessage.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(_TABLE.c)


_INSERT = insert(_TABLE)


def insert_message(session: Session, row: dict[str, Any]) -> None:
    """Write one message (a dict of its columns) on the session's connection: one prepared INSERT, no unit of
    work."""
    session.connection().execute(_INSERT, row)


def pending_in_due_order(session: Session, limit: int) -> Sequence[Row[Any]]:
    """The first ``limit`` pending messages in due order (columns, not ORM rows); on PostgreSQL locked
    ``FOR UPDATE SKIP LOCKED``, so several workers never read the same one."""
    conn = session.connection()
    stmt = select(*_COLUMNS).where(_TABLE.c.state == "pending").order_by(_TABLE.c.next_attempt_at).limit(limit)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return conn.execute(stmt).all()


def lease(session: Session, message_ids: list[str], until: datetime, holder: str | None) -> None:
    """Lease these messages to ``holder`` until ``until``, counting the attempt (one UPDATE)."""
    session.connection().execute(
        update(_TABLE)
        .where(_TABLE.c.id.in_(message_ids))
        .values(next_attempt_at=until, attempts=_TABLE.c.attempts + 1, holder=holder)
    )


_RECLAIM = (
    update(_TABLE)
    .where(_TABLE.c.state == "pending", _TABLE.c.holder == bindparam("h"), _TABLE.c.next_attempt_at > bindparam("at"))
    .values(next_attempt_at=bindparam("at"))
)


def reclaim(session: Session, holder: str, at: datetime) -> int:
    """Make the pending messages leased to ``holder`` due at ``at``; how many."""
    return session.connection().execute(_RECLAIM, {"h": holder, "at": at}).rowcount or 0


def mark_sent(session: Session, message_ids: list[str], at: datetime) -> None:
    """Record the delivery of these messages (one UPDATE)."""
    session.connection().execute(
        update(_TABLE).where(_TABLE.c.id.in_(message_ids)).values(state="sent", sent_at=at, last_error=None)
    )


def pending(session: Session, company_id: str | None = None) -> list[OutboxMessage]:
    """Every pending message (to ``company_id`` when given), as ORM rows."""
    stmt = orm_select(OutboxMessage).where(OutboxMessage.state == "pending")
    if company_id:
        stmt = stmt.where(OutboxMessage.company_id == company_id)
    return list(session.exec(stmt))
