"""Queries on grants (``Grant``): one customer's grant of a product, and the footprints its grants make visible.

The prepared existence check the PACT read path uses (``has_grant``) still lives in
:mod:`connector.storage.repositories`.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from .tables import Footprint, Grant, Product


def grant_of(session: Session, product_id: str, company_id: str) -> Grant | None:
    """The grant of ``product_id`` to ``company_id``, or None."""
    return session.exec(select(Grant).where(Grant.product_id == product_id, Grant.company_id == company_id)).first()


def the_grant_of(session: Session, product_id: str, company_id: str) -> Grant:
    """The grant of ``product_id`` to ``company_id``, which exists (one row, else SQLAlchemy raises)."""
    return session.exec(select(Grant).where(Grant.product_id == product_id, Grant.company_id == company_id)).one()


def visible_footprints(session: Session, company_id: str) -> list[tuple[Footprint, Product]]:
    """Every footprint (with its product) of a product granted to ``company_id``, newest first."""
    stmt = (
        select(Footprint, Product)
        .join(Product, col(Product.id) == Footprint.product_id)
        .join(Grant, col(Grant.product_id) == Product.id)
        .where(Grant.company_id == company_id)
        .order_by(col(Footprint.created_at).desc(), col(Footprint.id))
    )
    return [(fp, prod) for fp, prod in session.exec(stmt)]


def visible_footprint(session: Session, company_id: str, footprint_id: str) -> tuple[Footprint, Product] | None:
    """The footprint ``footprint_id`` (lower-cased) and its product when granted to ``company_id``, in one query;
    None when missing or not shared."""
    stmt = (
        select(Footprint, Product)
        .join(Product, col(Product.id) == Footprint.product_id)
        .join(Grant, col(Grant.product_id) == Product.id)
        .where(Footprint.id == footprint_id.lower(), Grant.company_id == company_id)
        .limit(1)
    )
    row = session.exec(stmt).first()
    return None if row is None else (row[0], row[1])
