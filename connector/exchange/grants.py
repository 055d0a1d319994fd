"""Grants: which customer may see which product's footprints (and so receives its new versions)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..errors import NotFound
from ..services import audit, footprints
from ..services.context import NodeContext
from ..storage import repositories as repo
from ..storage.tables import Footprint, Grant, Product


def has_grant(ctx: NodeContext, product_id: str, company_id: str) -> bool:
    return repo.has_grant(ctx.session, product_id, company_id)


def grant(ctx: NodeContext, product_id: str, company_id: str) -> Grant:
    footprints.get_product(ctx, product_id)
    existing = ctx.session.exec(
        select(Grant).where(Grant.product_id == product_id, Grant.company_id == company_id)
    ).first()
    if existing:
        return existing
    return add_grant(ctx, product_id, company_id)


def add_grant(ctx: NodeContext, product_id: str, company_id: str) -> Grant:
    """A new grant (the caller knows there is none for the pair), returned outside the session. One made at the
    same moment by another transaction (uq_grant) is returned instead."""
    row = Grant(product_id=product_id, company_id=company_id, created_at=ctx.now())
    try:
        with ctx.session.begin_nested():
            repo.insert_new(ctx.session, row)
    except IntegrityError:
        return ctx.session.exec(
            select(Grant).where(Grant.product_id == product_id, Grant.company_id == company_id)
        ).one()
    audit.append(ctx.session, ctx.company_id, "grant.created", product_id, company=company_id)
    return row


def revoke_grant(ctx: NodeContext, grant_id: str) -> None:
    row = ctx.session.get(Grant, grant_id)
    if row is None:
        raise NotFound(f"grant {grant_id} not found")
    ctx.session.delete(row)
    audit.append(ctx.session, ctx.company_id, "grant.revoked", row.product_id, company=row.company_id)


def visible_footprints(ctx: NodeContext, company_id: str) -> list[tuple[Footprint, Product]]:
    stmt = (
        select(Footprint, Product)
        .join(Product, col(Product.id) == Footprint.product_id)
        .join(Grant, col(Grant.product_id) == Product.id)
        .where(Grant.company_id == company_id)
        .order_by(col(Footprint.created_at).desc(), col(Footprint.id))
    )
    return [(fp, prod) for fp, prod in ctx.session.exec(stmt)]


def visible_footprint(ctx: NodeContext, company_id: str, footprint_id: str) -> tuple[Footprint, Product]:
    """The footprint, its product and the caller's grant in one query; unshared answers exactly like missing."""
    stmt = (
        select(Footprint, Product)
        .join(Product, col(Product.id) == Footprint.product_id)
        .join(Grant, col(Grant.product_id) == Product.id)
        .where(Footprint.id == footprint_id.lower(), Grant.company_id == company_id)
        .limit(1)
    )
    row = ctx.session.exec(stmt).first()
    if row is None:
        raise NotFound("footprint not found")
    return row[0], row[1]
