"""Queries on the suppliers' footprints this node holds (``UpstreamFootprint``) that the declaration reads.

The statements the exchange core shares still live in :mod:`connector.storage.repositories`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from .tables import UpstreamFootprint


def newest_active(session: Session, product_id: str) -> UpstreamFootprint | None:
    """The most recently received Active footprint held for ``product_id`` (any supplier), or None."""
    stmt = (
        select(UpstreamFootprint)
        .where(UpstreamFootprint.product_id == product_id, UpstreamFootprint.status == "Active")
        .order_by(col(UpstreamFootprint.received_at).desc())
    )
    return session.exec(stmt).first()
