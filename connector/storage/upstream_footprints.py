"""Queries on the suppliers' footprints this node holds (``UpstreamFootprint``): the newest the declaration reads,
and the one held under a footprint id the receipt of an answer looks up.

The statements the exchange core shares still live in :mod:`connector.storage.repositories`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from . import repositories
from .tables import UpstreamFootprint


def newest_active(session: Session, product_id: str) -> UpstreamFootprint | None:
    """The most recently received Active footprint held for ``product_id`` (any supplier), or None."""
    stmt = (
        select(UpstreamFootprint)
        .where(UpstreamFootprint.product_id == product_id, UpstreamFootprint.status == "Active")
        .order_by(col(UpstreamFootprint.received_at).desc())
    )
    return session.exec(stmt).first()


def held(session: Session, footprint_id: str) -> UpstreamFootprint | None:
    """The footprint held under ``footprint_id`` (as stored: lower case), loaded only when the prepared existence
    check finds one: the usual case, a footprint not held yet, costs that one query."""
    if not repositories.upstream_held(session, footprint_id):
        return None
    return session.exec(select(UpstreamFootprint).where(UpstreamFootprint.footprint_id == footprint_id)).first()
