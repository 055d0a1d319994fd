"""Computing and reading our footprints; upstream footprints held."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response, status
from sqlmodel import col

from ...exchange import propagation
from ...services import catalog, footprints
from ...storage import repositories as repo
from ...storage.tables import Footprint, UpstreamFootprint
from .. import schemas as s
from ..deps import ContextDep, EditorDep, ViewerDep
from ..strict_body import StrictJsonRoute
from . import examples as ex
from .paging import PagingDep

router = APIRouter(tags=["footprints"], route_class=StrictJsonRoute)


@router.post(
    "/products/{product_id}/footprints",
    response_model=s.ComputeResult,
    responses={201: {"description": "A new footprint version was issued"}},
)
def compute_footprint(ctx: ContextDep, _: EditorDep, product_id: str, response: Response) -> s.ComputeResult:
    """Compute the product's footprint from the latest upstream values held (new version only if it changed)."""
    fp, changed = propagation.compute_and_publish(ctx, product_id)
    response.status_code = status.HTTP_201_CREATED if changed else status.HTTP_200_OK
    product = catalog.get_product(ctx, product_id)
    return s.ComputeResult(footprint=footprints.footprint_read(fp, product), changed=changed)


@router.get("/products/{product_id}/footprints", response_model=list[s.FootprintRead])
def list_versions(ctx: ContextDep, _: ViewerDep, product_id: str) -> list[s.FootprintRead]:
    """List every version of a product's footprint, newest first."""
    product = catalog.get_product(ctx, product_id)
    return [footprints.footprint_read(fp, product) for fp in repo.footprint_versions(ctx.session, product_id)]


@router.get("/footprints", response_model=s.Page[s.FootprintRead])
def list_footprints(
    ctx: ContextDep, _: ViewerDep, paging: PagingDep, status: str | None = None
) -> s.Page[s.FootprintRead]:
    """List issued footprints, optionally by status (Active or Deprecated)."""
    where = [Footprint.status == status] if status else []
    items, total = repo.page(
        ctx.session, Footprint, *where, order=col(Footprint.created_at).desc(), limit=paging.limit, offset=paging.offset
    )
    paging.link(total)
    reads = [footprints.footprint_read(fp, catalog.get_product(ctx, fp.product_id)) for fp in items]
    return s.Page(items=reads, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/footprints/{footprint_id}", response_model=s.FootprintRead)
def get_footprint(ctx: ContextDep, _: ViewerDep, footprint_id: str) -> s.FootprintRead:
    """Get one issued footprint."""
    fp = footprints.get_footprint(ctx, footprint_id)
    return footprints.footprint_read(fp, catalog.get_product(ctx, fp.product_id))


@router.post("/upstream-footprints", status_code=status.HTTP_201_CREATED, response_model=s.UpstreamFootprintRead)
def record_upstream(
    ctx: ContextDep,
    caller: EditorDep,
    body: Annotated[s.EnteredUpstreamCreate, Body(openapi_examples=ex.UPSTREAM_FOOTPRINT)],
) -> s.UpstreamFootprintRead:
    """Record a supplier's footprint by hand (a supplier without a node): an entered value, with where it came from
    (``sourceKind``, default ``document``; the source document as base64 with its ``mediaType``, or only its
    ``documentSha256``). The document is sealed into the evidence for verifiers when this node attests a footprint
    that uses the value; who entered it is the caller (``api-key:<name>`` or ``user:<login>``)."""
    return footprints.upstream_read(footprints.record_entered(ctx, body, caller.actor))


@router.get("/upstream-footprints", response_model=s.Page[s.UpstreamFootprintRead])
def list_upstream(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> s.Page[s.UpstreamFootprintRead]:
    """List the supplier footprints this node holds."""
    items, total = repo.page(
        ctx.session,
        UpstreamFootprint,
        order=col(UpstreamFootprint.received_at).desc(),
        limit=paging.limit,
        offset=paging.offset,
    )
    paging.link(total)
    return s.Page(
        items=[footprints.upstream_read(u) for u in items], total=total, limit=paging.limit, offset=paging.offset
    )
