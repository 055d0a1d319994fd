"""Grants: which customer may see which product's footprints (and so receives its new versions)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..errors import NotFound
from ..services import audit, footprints
from ..services.context import NodeContext
from ..storage import grants as grants_store
from ..storage import repositories as repo
from ..storage.tables import Footprint, Grant, Product


def has_grant(ctx: NodeContext, product_id: str, company_id: str) -> bool:
    return repo.has_grant(ctx.session, product_id, company_id)


def grant(ctx: NodeContext, product_id: str, company_id: str) -> Grant:
    footprints.get_product(ctx, product_id)
    existing = grants_store.grant_of(ctx.session, product_id, company_id)
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
        return grants_store.the_grant_of(ctx.session, product_id, company_id)
    audit.append(ctx.session, ctx.company_id, "grant.created", product_id, company=company_id)
    return row


def revoke_grant(ctx: NodeContext, grant_id: str) -> None:
    row = ctx.session.get(Grant, grant_id)
    if row is None:
        raise NotFound("grant %(grant)s not found", code="grant.not-found", params={"grant": grant_id})
    ctx.session.delete(row)
    audit.append(ctx.session, ctx.company_id, "grant.revoked", row.product_id, company=row.company_id)


def visible_footprints(ctx: NodeContext, company_id: str) -> list[tuple[Footprint, Product]]:
    return grants_store.visible_footprints(ctx.session, company_id)


def visible_footprint(ctx: NodeContext, company_id: str, footprint_id: str) -> tuple[Footprint, Product]:
    """The footprint, its product and the caller's grant in one query; unshared answers exactly like missing."""
    row = grants_store.visible_footprint(ctx.session, company_id, footprint_id)
    if row is None:
        raise NotFound("footprint not found")
    return row
