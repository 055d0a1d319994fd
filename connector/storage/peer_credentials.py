"""Queries on what peers authenticate with: the client assertions already seen (``UsedAssertion``) and the client
credentials issued to PACT partners (``PeerClient``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlmodel import Session, col, select

from .tables import PeerClient, UsedAssertion


def forget_expired_assertions(session: Session, at: datetime) -> None:
    """Drop the recorded assertion ids that expired before ``at``: a replay of one is refused by its ``exp``."""
    session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < at))  # type: ignore[arg-type]


def client_state(session: Session, client_id: str) -> tuple[int, bool] | None:
    """(generation, revoked) of a client credential, or None when there is no such client: two columns by key."""
    row = session.exec(
        select(PeerClient.generation, PeerClient.revoked).where(PeerClient.client_id == client_id)
    ).first()
    return None if row is None else (row[0], row[1])


def all_clients(session: Session) -> list[PeerClient]:
    return list(session.exec(select(PeerClient).order_by(col(PeerClient.created_at), col(PeerClient.client_id))))
