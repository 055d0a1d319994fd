"""Queries on what peers authenticate with: the client assertions already seen (``UsedAssertion``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session

from .tables import UsedAssertion


def forget_expired_assertions(session: Session, at: datetime) -> None:
    """Drop the recorded assertion ids that expired before ``at``: a replay of one is refused by its ``exp``."""
    session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < at))  # type: ignore[arg-type]
