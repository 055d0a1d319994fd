"""Queries on what Ouranos platforms call our requests and products (``OuranosLink``, decision 0022)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from .tables import CfpRequest, _ts, new_id, utcnow


class OuranosLink(SQLModel, table=True):
    """What an Ouranos platform calls a thing of ours (decision 0022): ``kind`` ``trade``, an outgoing request (its
    event id) -> the platform's tradeId, with the part we registered for it (``trace_id``); ``part``, one of our
    products -> the part we registered and link to trades we answer."""

    __table_args__ = (UniqueConstraint("platform_url", "kind", "local_id", name="uq_ouranoslink"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    platform_url: str = Field(max_length=500)
    kind: str = Field(max_length=10)
    local_id: str = Field(max_length=200, index=True)
    remote_id: str | None = Field(default=None, max_length=100)
    trace_id: str | None = Field(default=None, max_length=100)
    created_at: datetime = _ts(default_factory=utcnow)


TRADE, PART = "trade", "part"


def get(session: Session, platform_url: str, kind: str, local_id: str) -> OuranosLink | None:
    return session.exec(
        select(OuranosLink).where(
            OuranosLink.platform_url == platform_url, OuranosLink.kind == kind, OuranosLink.local_id == local_id
        )
    ).first()


def put(
    session: Session, platform_url: str, kind: str, local_id: str, *, remote_id: str | None, trace_id: str | None
) -> OuranosLink:
    row = get(session, platform_url, kind, local_id)
    if row is None:
        row = OuranosLink(platform_url=platform_url, kind=kind, local_id=local_id)
    row.remote_id, row.trace_id = remote_id, trace_id
    session.add(row)
    session.flush()
    return row


def open_trades(session: Session, platform_url: str) -> list[tuple[CfpRequest, OuranosLink]]:
    """Our pending outgoing requests asked on this platform, each with its trade."""
    rows = session.exec(
        select(CfpRequest, OuranosLink)
        .join(OuranosLink, col(OuranosLink.local_id) == col(CfpRequest.event_id))
        .where(
            OuranosLink.platform_url == platform_url,
            OuranosLink.kind == TRADE,
            col(OuranosLink.remote_id).is_not(None),
            CfpRequest.direction == "outgoing",
            CfpRequest.protocol == "ouranos",
            CfpRequest.state == "pending",
        )
    ).all()
    return [(req, link) for req, link in rows]


def incoming_known(session: Session, trade_ids: list[str]) -> set[str]:
    """The tradeIds among these that an incoming request of ours already records (as its event id)."""
    if not trade_ids:
        return set()
    found = session.exec(
        select(CfpRequest.event_id).where(CfpRequest.direction == "incoming", col(CfpRequest.event_id).in_(trade_ids))
    ).all()
    return set(found)
