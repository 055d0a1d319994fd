"""Remembered part links (decision 0028): a platform's part our operator linked to one of our products once, so
that later trades for it link themselves. Listed, changed and removed here; made by linking a held request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status
from sqlmodel import col

from ...exchange import part_links
from ...storage import repositories as repo
from ...storage.part_links import PartLink
from .. import schemas as s
from ..deps import ContextDep, EditorDep, ViewerDep
from ..strict_body import StrictJsonRoute
from . import examples as ex
from .paging import PagingDep

router = APIRouter(tags=["exchange"], route_class=StrictJsonRoute)


def read(row: PartLink) -> s.PartLinkRead:
    return s.PartLinkRead(
        id=row.id,
        platform_url=row.platform_url,
        trace_id=row.trace_id,
        company_id=row.company_id,
        parts_name=row.parts_name,
        product_id=row.product_id,
        verifier_count=len(row.verifier_certs),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get("/part-links", response_model=s.Page[s.PartLinkRead])
def list_part_links(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> s.Page[s.PartLinkRead]:
    """List the remembered links from a platform's part to one of our products, oldest first."""
    items, total = repo.page(
        ctx.session, PartLink, order=col(PartLink.created_at), limit=paging.limit, offset=paging.offset
    )
    paging.link(total)
    return s.Page(items=[read(r) for r in items], total=total, limit=paging.limit, offset=paging.offset)


@router.get("/part-links/{link_id}", response_model=s.PartLinkRead)
def get_part_link(ctx: ContextDep, _: ViewerDep, link_id: str) -> s.PartLinkRead:
    """Get one remembered link."""
    return read(part_links.get(ctx, link_id))


@router.patch("/part-links/{link_id}", response_model=s.PartLinkRead)
def update_part_link(
    ctx: ContextDep,
    _: EditorDep,
    link_id: str,
    body: Annotated[s.PartLinkUpdate, Body(openapi_examples=ex.PART_LINK_UPDATE)],
) -> s.PartLinkRead:
    """Point a remembered link at another product of ours, or replace the verifiers later answers are sealed to.
    Requests already linked keep theirs."""
    return read(part_links.update(ctx, link_id, product_id=body.product_id, verifier_certs=body.verifier_certificates))


@router.delete("/part-links/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_part_link(ctx: ContextDep, _: EditorDep, link_id: str) -> None:
    """Forget a remembered link: later trades for the part wait for the operator to link them again."""
    part_links.remove(ctx, link_id)
