"""Remembered part links (``PartLink``, decision 0028): a platform's part, as the platform identifies it, is one of
our products. Written when the operator links a held trade for that part; read when a later trade for it arrives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, Session, SQLModel, col, select

from .tables import CfpRequest, _json, _ts, empty_list, new_id, utcnow


class PartLink(SQLModel, table=True):
    """The part ``trace_id`` of the platform at ``platform_url`` (where the trades for it come from), owned there by
    the customer ``company_id``, is our product ``product_id``; its answers are sealed to ``verifier_certs``."""

    __table_args__ = (UniqueConstraint("platform_url", "trace_id", name="uq_partlink"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    platform_url: str = Field(max_length=500)
    trace_id: str = Field(max_length=100)
    company_id: str = Field(max_length=300)
    parts_name: str | None = Field(default=None, max_length=200)
    product_id: str = Field(foreign_key="product.id", ondelete="CASCADE", index=True)
    verifier_certs: list[str] = _json(default_factory=empty_list)  # PEM
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


def of_part(session: Session, platform_url: str, trace_id: str) -> PartLink | None:
    return session.exec(
        select(PartLink).where(PartLink.platform_url == platform_url, PartLink.trace_id == trace_id.lower())
    ).first()


def for_products(session: Session, product_ids: list[str]) -> list[PartLink]:
    """The links naming these products, oldest first (the console's request page)."""
    if not product_ids:
        return []
    stmt = select(PartLink).where(col(PartLink.product_id).in_(product_ids)).order_by(col(PartLink.created_at))
    return list(session.exec(stmt))


def held(session: Session, company_id: str) -> list[CfpRequest]:
    """This customer's incoming requests waiting for our operator to link them, oldest first."""
    stmt = (
        select(CfpRequest)
        .where(
            CfpRequest.direction == "incoming",
            CfpRequest.state == "pending",
            CfpRequest.company_id == company_id,
            col(CfpRequest.product_id).is_(None),
        )
        .order_by(col(CfpRequest.created_at))
    )
    return list(session.exec(stmt))
