"""The statements of the operator API's Idempotency-Key store (connector.api.idempotency keeps the protocol)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .tables import IdempotentResponse


def forget_before(session: Session, cutoff: datetime) -> None:
    """Drop the keys recorded before ``cutoff`` (in the caller's transaction)."""
    session.execute(delete(IdempotentResponse).where(IdempotentResponse.created_at < cutoff))  # type: ignore[arg-type]


def store_response(engine: Engine, key: str, status: int, media_type: str, body: str) -> None:
    """Add the response to a recorded key, in a transaction of its own."""
    with Session(engine) as session:
        session.execute(
            update(IdempotentResponse)
            .where(IdempotentResponse.key == key)  # type: ignore[arg-type]
            .values(status=status, media_type=media_type, body=body)
        )
        session.commit()
