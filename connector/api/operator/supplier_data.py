"""Suppliers without a node (issue 17): import a supplier's PACT or Catena-X footprint file as an entered value, and
see per product which supplier lines have no value, an entered one or an attested one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status
from pydantic import Field

from ...services import footprint_import
from ...services.models import Model
from ...services.supplier_data import SupplierDataLine, supplier_data_view
from .. import footprint_files
from ..deps import ContextDep, EditorDep, ViewerDep
from ..strict_body import StrictJsonRoute
from . import examples as ex

router = APIRouter(tags=["footprints"], route_class=StrictJsonRoute)


class ImportedFootprint(Model):
    """A footprint of the file, recorded as an entered upstream value for the BOM line it matched."""

    footprint_id: str = Field(alias="footprintId")
    supplier_company_id: str = Field(alias="supplierCompanyId")
    product_id: str = Field(alias="productId", description="the upstream product (the BOM line's)")
    line_id: str = Field(alias="lineId")
    product_name: str = Field(alias="productName", description="the product whose BOM line it is for")
    declared_unit: str = Field(alias="declaredUnit", description="the BOM line's unit: the values are per one of it")
    stages: dict[str, str]
    source_kind: str = Field(alias="sourceKind")
    entered_by: str = Field(alias="enteredBy")


@router.post(
    "/upstream-footprints/import",
    status_code=status.HTTP_201_CREATED,
    response_model=list[ImportedFootprint],
)
async def import_footprint_file(
    request: Request,
    ctx: ContextDep,
    caller: EditorDep,
    body: Annotated[dict[str, Any], Body(openapi_examples=ex.FOOTPRINT_FILE)],
    supplier: Annotated[
        str | None, Query(max_length=300, description="the supplier's company id, when the file's is ambiguous")
    ] = None,
    product: Annotated[
        str | None, Query(max_length=300, description="the upstream product id, when the file's is ambiguous")
    ] = None,
) -> list[ImportedFootprint]:
    """Import a supplier's footprint file: a PACT v3 ProductFootprint (bare, or a ``{"data": [...]}`` list answer)
    or a Catena-X PCF (io.catenax.pcf 7.x or 9.0.0). Each footprint is recorded as an entered value (source kind
    ``pact-file`` or ``catenax-pcf-file``, the file kept as its document) for the BOM line whose upstream product and
    supplier it names, converted to that line's unit and split into the four stages as decision 0019 says."""
    raw = await request.body()
    kind, found = footprint_files.read(footprint_files.parse(raw))
    done = []
    for fp in found:
        result = footprint_import.import_footprint(
            ctx,
            fp,
            document=raw,
            source_kind=kind,
            entered_by=caller.actor,  # api-key:<name> or user:<login>
            supplier=supplier,
            product=product,
        )
        done.append(ImportedFootprint.model_validate(result, from_attributes=True))
    return done


@router.get("/supplier-data", response_model=list[SupplierDataLine])
def all_supplier_data(ctx: ContextDep, _: ViewerDep) -> list[SupplierDataLine]:
    """Every product's supplier BOM lines, each with its state: ``missing`` (no value held), ``entered`` (with where
    it came from, who entered it and when), ``attested``; and the latest request sent for it."""
    return supplier_data_view(ctx)


@router.get("/products/{product_id}/supplier-data", response_model=list[SupplierDataLine])
def product_supplier_data(ctx: ContextDep, _: ViewerDep, product_id: str) -> list[SupplierDataLine]:
    """The product's supplier BOM lines, each with its state (see ``GET /supplier-data``)."""
    return supplier_data_view(ctx, product_id)
