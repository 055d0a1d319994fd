"""Products, their bill of materials and own emissions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status
from sqlmodel import col

from ...services import catalog
from ...storage import repositories as repo
from ...storage.tables import Product
from .. import schemas as s
from ..deps import ContextDep, EditorDep, ViewerDep
from ..strict_body import StrictJsonRoute
from . import examples as ex
from .paging import PagingDep

router = APIRouter(tags=["products"], route_class=StrictJsonRoute)

BomLineBody = Annotated[
    s.SupplierLineCreate | s.SecondaryLineCreate, Body(discriminator="kind", openapi_examples=ex.BOM_LINE)
]


@router.get("/products", response_model=s.Page[s.ProductRead], response_model_by_alias=True)
def list_products(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> s.Page[s.ProductRead]:
    """List this company's products."""
    items, total = repo.page(
        ctx.session, Product, order=col(Product.created_at), limit=paging.limit, offset=paging.offset
    )
    paging.link(total)
    return s.Page(items=[catalog.product_read(p) for p in items], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/products", status_code=status.HTTP_201_CREATED, response_model=s.ProductRead)
def create_product(
    ctx: ContextDep, _: EditorDep, body: Annotated[s.ProductCreate, Body(openapi_examples=ex.PRODUCT_CREATE)]
) -> s.ProductRead:
    """Register a product."""
    return catalog.product_read(catalog.create_product(ctx, body))


@router.get("/products/{product_id}", response_model=s.ProductRead)
def get_product(ctx: ContextDep, _: ViewerDep, product_id: str) -> s.ProductRead:
    """Get one product."""
    return catalog.product_read(catalog.get_product(ctx, product_id))


@router.patch("/products/{product_id}", response_model=s.ProductRead)
def update_product(
    ctx: ContextDep,
    _: EditorDep,
    product_id: str,
    body: Annotated[s.ProductUpdate, Body(openapi_examples=ex.PRODUCT_UPDATE)],
) -> s.ProductRead:
    """Change a product's descriptive fields."""
    return catalog.product_read(catalog.update_product(ctx, product_id, body))


@router.delete("/products/{product_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_product(ctx: ContextDep, _: EditorDep, product_id: str) -> None:
    """Delete a product with its lines and footprints."""
    catalog.delete_product(ctx, product_id)


@router.get("/products/{product_id}/bom", response_model=list[s.BomLineRead])
def list_bom(ctx: ContextDep, _: ViewerDep, product_id: str) -> list[s.BomLineRead]:
    """List a product's bill-of-materials lines."""
    catalog.get_product(ctx, product_id)
    return [
        s.BomLineRead.model_validate(line, from_attributes=True) for line in repo.bom_lines(ctx.session, product_id)
    ]


@router.post("/products/{product_id}/bom", status_code=status.HTTP_201_CREATED, response_model=s.BomLineRead)
def add_bom_line(ctx: ContextDep, _: EditorDep, product_id: str, body: BomLineBody) -> s.BomLineRead:
    """Add an input: a supplier's product or a secondary dataset."""
    return s.BomLineRead.model_validate(catalog.add_bom_line(ctx, product_id, body), from_attributes=True)


@router.delete("/products/{product_id}/bom/{line_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_bom_line(ctx: ContextDep, _: EditorDep, product_id: str, line_id: str) -> None:
    """Remove a bill-of-materials line."""
    catalog.delete_bom_line(ctx, product_id, line_id)


@router.get("/products/{product_id}/emissions", response_model=list[s.EmissionRead])
def list_emissions(ctx: ContextDep, _: ViewerDep, product_id: str) -> list[s.EmissionRead]:
    """List a product's own emission lines."""
    catalog.get_product(ctx, product_id)
    return [s.EmissionRead.model_validate(e, from_attributes=True) for e in repo.own_emissions(ctx.session, product_id)]


@router.post("/products/{product_id}/emissions", status_code=status.HTTP_201_CREATED, response_model=s.EmissionRead)
def add_emission(
    ctx: ContextDep,
    _: EditorDep,
    product_id: str,
    body: Annotated[s.EmissionCreate, Body(openapi_examples=ex.EMISSION)],
) -> s.EmissionRead:
    """Add an own emission line (direct value or activity x factor)."""
    return s.EmissionRead.model_validate(catalog.add_emission(ctx, product_id, body), from_attributes=True)


@router.delete("/products/{product_id}/emissions/{emission_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_emission(ctx: ContextDep, _: EditorDep, product_id: str, emission_id: str) -> None:
    """Remove an own emission line."""
    catalog.delete_emission(ctx, product_id, emission_id)
