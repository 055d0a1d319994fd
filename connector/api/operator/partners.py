"""Suppliers and customers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status
from sqlmodel import col

from ...services import catalog
from ...storage import repositories as repo
from ...storage.tables import Partner
from .. import schemas as s
from ..deps import ContextDep, EditorDep, ViewerDep
from ..strict_body import StrictJsonRoute
from . import examples as ex
from .paging import PagingDep

router = APIRouter(tags=["partners"], route_class=StrictJsonRoute)


def _read(p: Partner) -> s.PartnerRead:
    return s.PartnerRead.model_validate(p, from_attributes=True)


@router.get("/partners", response_model=s.Page[s.PartnerRead])
def list_partners(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> s.Page[s.PartnerRead]:
    """List suppliers and customers."""
    items, total = repo.page(
        ctx.session, Partner, order=col(Partner.created_at), limit=paging.limit, offset=paging.offset
    )
    paging.link(total)
    return s.Page(items=[_read(p) for p in items], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/partners", status_code=status.HTTP_201_CREATED, response_model=s.PartnerRead)
def create_partner(
    ctx: ContextDep, _: EditorDep, body: Annotated[s.PartnerCreate, Body(openapi_examples=ex.PARTNER_CREATE)]
) -> s.PartnerRead:
    """Add a supplier or customer."""
    return _read(catalog.create_partner(ctx, body))


@router.get("/partners/{partner_id}", response_model=s.PartnerRead)
def get_partner(ctx: ContextDep, _: ViewerDep, partner_id: str) -> s.PartnerRead:
    """Get one partner."""
    return _read(catalog.get_partner(ctx, partner_id))


@router.patch("/partners/{partner_id}", response_model=s.PartnerRead)
def update_partner(
    ctx: ContextDep,
    _: EditorDep,
    partner_id: str,
    body: Annotated[s.PartnerUpdate, Body(openapi_examples=ex.PARTNER_UPDATE)],
) -> s.PartnerRead:
    """Change a partner."""
    return _read(catalog.update_partner(ctx, partner_id, body))


@router.delete("/partners/{partner_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_partner(ctx: ContextDep, _: EditorDep, partner_id: str) -> None:
    """Remove a partner."""
    ctx.session.delete(catalog.get_partner(ctx, partner_id))
