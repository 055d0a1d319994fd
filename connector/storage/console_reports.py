"""The console's verification reports (``ConsoleReport``, decision 0031): each report a console user made of an uploaded
evidence bundle, kept so that every worker of the node, and the node after a restart, can list and hand it out.

The report is stored as its JSON (the page is rendered from it on read); of the bundle only its SHA-256 is kept."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Text, delete, func
from sqlalchemy import select as core_select
from sqlmodel import Field, Session, SQLModel, col, select

from .tables import _ts, new_id, utcnow


class ConsoleReport(SQLModel, table=True):
    """A verification report made at ``created_at`` by ``made_by`` (``user:<login>``) of the bundle whose SHA-256 is
    ``bundle_sha256`` (and the uploaded trust anchors', if any); ``report`` is the VerificationReport as JSON."""

    id: str = Field(default_factory=new_id, primary_key=True)
    created_at: datetime = _ts(default_factory=utcnow, index=True)
    made_by: str = Field(max_length=300)
    bundle_sha256: str = Field(max_length=64, index=True)
    anchors_sha256: str | None = Field(default=None, max_length=64)
    valid: bool
    failures: int = 0
    certified: bool = False  # a certification credential was issued for the bundle's pack attestation
    subject: str = Field(default="", max_length=300)  # the top node's company, as the report names it
    report: str = Field(sa_type=Text)


def add(session: Session, row: ConsoleReport) -> ConsoleReport:
    """Keep a report (in the caller's transaction)."""
    session.add(row)
    session.flush()
    return row


def get(session: Session, report_id: str, since: datetime | None = None) -> ConsoleReport | None:
    """The report ``report_id``; None if there is none (or it is older than ``since``)."""
    row = session.get(ConsoleReport, report_id)
    if row is None or (since is not None and row.created_at < since):
        return None
    return row


LISTED = ("id", "created_at", "made_by", "bundle_sha256", "valid", "failures", "certified", "subject")
"""What the list shows of a report (not its JSON)."""


def page(session: Session, limit: int, offset: int, since: datetime | None = None) -> tuple[list[Any], int]:
    """Reports newest first, without their JSON (one query for the page, one for the count); only those made at or
    after ``since`` if given."""
    table = ConsoleReport.__table__  # type: ignore[attr-defined]
    stmt = core_select(*(table.c[name] for name in LISTED)).order_by(table.c.created_at.desc(), table.c.id)
    count = select(func.count()).select_from(ConsoleReport)
    if since is not None:
        stmt = stmt.where(table.c.created_at >= since)
        count = count.where(col(ConsoleReport.created_at) >= since)
    return list(session.execute(stmt.limit(limit).offset(offset))), session.exec(count).one()


def forget(session: Session, *, keep_last: int | None = None, before: datetime | None = None) -> int:
    """Drop the reports beyond the newest ``keep_last`` and those made before ``before`` (in the caller's
    transaction); how many were dropped."""
    dropped = 0
    if before is not None:
        result = session.execute(delete(ConsoleReport).where(col(ConsoleReport.created_at) < before))
        dropped += result.rowcount or 0  # type: ignore[attr-defined]
    if keep_last is not None:
        newest = (
            select(ConsoleReport.id)
            .order_by(col(ConsoleReport.created_at).desc(), col(ConsoleReport.id))
            .limit(keep_last)
        )
        result = session.execute(delete(ConsoleReport).where(col(ConsoleReport.id).not_in(newest)))
        dropped += result.rowcount or 0  # type: ignore[attr-defined]
    return dropped
