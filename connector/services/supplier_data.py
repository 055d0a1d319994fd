"""The "missing supplier data" view: per product, each supplier BOM line with the value held for it (none, entered
with its provenance, or attested) and its latest request to the supplier (issue 17)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from ..decimals import DecimalStr
from ..storage import repositories as repo
from ..storage import supplier_data
from .catalog import get_product
from .context import NodeContext
from .models import Model


class LineRequest(Model):
    id: str
    state: str
    reason: str | None = None
    updated_at: datetime = Field(alias="updatedAt")


class SupplierDataLine(Model):
    """One supplier BOM line and what this node holds for it."""

    product_id: str = Field(alias="productId", description="the local id of the product the line belongs to")
    product_name: str = Field(alias="productName")
    line_id: str = Field(alias="lineId")
    supplier_company_id: str = Field(alias="supplierCompanyId")
    supplier_product_id: str = Field(alias="supplierProductId")
    quantity: DecimalStr
    unit: str
    state: Literal["missing", "entered", "attested", "own"] = Field(
        description="missing: no value held; entered: a value without an attestation (imported, typed, or sent "
        "unsigned by a partner); attested: a verified attestation; own: one of this company's own products"
    )
    footprint_id: str | None = Field(None, alias="footprintId")
    source_kind: str | None = Field(None, alias="sourceKind", description="for an entered value, where it came from")
    entered_by: str | None = Field(None, alias="enteredBy")
    received_at: datetime | None = Field(None, alias="receivedAt", description="when the value was recorded")
    request: LineRequest | None = Field(None, description="the latest request sent to the supplier for this line")


def supplier_data_view(ctx: NodeContext, product_id: str | None = None) -> list[SupplierDataLine]:
    """Every supplier line of the product (of every product when None), in product order."""
    if product_id is not None:
        product_id = get_product(ctx, product_id).id  # a NotFound for an unknown product
    lines = supplier_data.supplier_lines(ctx.session, product_id)
    pairs = {
        (line.supplier_company_id or "", (line.supplier_product_id or "").lower())
        for line in lines
        if line.supplier_company_id != ctx.company_id
    }
    held = supplier_data.held_values(ctx.session, pairs)
    asked = supplier_data.latest_requests(ctx.session, [line.id for line in lines])
    out = []
    for line in lines:
        company, urn = line.supplier_company_id or "", line.supplier_product_id or ""
        item = SupplierDataLine(
            product_id=line.product_id,
            product_name=line.product_name,
            line_id=line.id,
            supplier_company_id=company,
            supplier_product_id=urn,
            quantity=line.quantity,
            unit=line.unit,
            state="missing",
        )
        if company == ctx.company_id:
            own = repo.product_by_urn(ctx.session, urn)
            if own is not None and repo.active_footprint(ctx.session, own.id) is not None:
                item.state = "own"
        elif (value := held.get((company, urn.lower()))) is not None:
            item.state = "attested" if value.basis == "attested" else "entered"
            item.footprint_id, item.received_at = value.footprint_id, value.received_at
            if item.state == "entered":
                item.source_kind, item.entered_by = value.source_kind, value.entered_by
        request = asked.get(line.id)
        if request is not None:
            item.request = LineRequest(
                id=request.id, state=request.state, reason=request.reason, updated_at=request.updated_at
            )
        out.append(item)
    return out
