"""``parts`` and ``partsStructure``: products and their bills of materials.

A part is a product (traceId = product id). A structure's children are the parent's supplier lines: a line naming a
product of our own is that product as a child (what PUT partsStructure makes: each new child a product of ours, so a
trade can be asked for it); a line naming another company's product (made in the operator API) is shown as a child
whose traceId is the line's id. Amounts are the lines' quantities and units; nothing is converted (DTS #6).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

from ...decimals import format_decimal
from ...services import catalog
from ...services import models as m
from ...storage import catalog_reads
from ...storage import repositories as repo
from ...storage.tables import BomLine, Product
from . import mapping
from .call import Call
from .models import PartsModel, PartsStructureModel
from .wire import DtsError, bad_request, json_response


def plant_name_of(call: Call, plant_id: str) -> str | None:
    """Our plant with that id (its name; None is the default plant), or a 400."""
    for name in catalog_reads.plant_names(call.ctx.session) + [None]:
        if mapping.plant_id(call.ctx.company_id, name) == plant_id:
            return name
    raise bad_request(f"Validation failed, plantId: {plant_id} is not a plant of this operator.")


def _own(call: Call, part: PartsModel, where: str) -> None:
    if part.operator_id != mapping.operator_id(call.ctx.company_id):
        raise DtsError(403, f"{where}operatorId: must be the operator you are logged in as", source="auth")


def children_of(call: Call, product: Product) -> list[tuple[BomLine, Product | None]]:
    """The parent's supplier lines, each with our product it names (None: another company's)."""
    out: list[tuple[BomLine, Product | None]] = []
    for line in catalog_reads.supplier_lines(call.ctx.session, product.id):
        if line.supplier_product_id == mapping.PART_URN + product.id:
            continue  # the line a trade request added: the part itself bought, not a child
        child = None
        if line.supplier_company_id == call.ctx.company_id:
            child = repo.product_by_urn(call.ctx.session, line.supplier_product_id or "")
        out.append((line, child))
    return out


def terminated(call: Call, product: Product) -> bool:
    """A part ends the trace tree when it has no supplier line (nothing is asked of anyone for it)."""
    return not catalog_reads.supplier_lines(call.ctx.session, product.id)


def line_part(call: Call, parent: Product, line: BomLine) -> dict[str, Any]:
    """Another company's product on our line, as a child part (traceId: the line's id)."""
    urn = line.supplier_product_id or ""
    return {
        "traceId": line.id,
        "operatorId": mapping.operator_id(call.ctx.company_id),
        "plantId": mapping.plant_id(call.ctx.company_id, parent.plant_name),
        "partsName": (urn if len(urn) <= 50 else urn.rsplit(":", 1)[-1])[:50] or "-",
        "supportPartsName": None,
        "terminatedFlag": False,
        "amountRequired": mapping.wire_number(line.quantity),
        "amountRequiredUnit": mapping.ouranos_unit(line.unit),
        "partsLabelName": None,
        "partsAddInfo1": None,
        "partsAddInfo2": None,
        "partsAddInfo3": None,
    }


def get_parts(call: Call) -> Response:
    session = call.ctx.session
    limit = call.limit()
    after = call.query.get("after") or None
    if after is not None:
        after = mapping.require_uuid(after, "after")
    trace = call.query.get("traceId") or None
    if trace is not None:
        trace = mapping.require_uuid(trace, "traceId")
    plant = call.query.get("plantId") or None
    plants = None
    if plant is not None:
        try:
            plants = [plant_name_of(call, mapping.require_uuid(plant, "plantId"))]
        except DtsError:
            return json_response([])
    parent_flag = call.flag("parentFlag")
    children: list[str] | None = None
    if parent_flag is not None:
        urns = [urn for _, urn in catalog_reads.internal_children(session, call.ctx.company_id)]
        children = [p.id for p in repo.products_by_urns(session, urns)] if urns else []
    products = catalog_reads.products_page(
        session,
        after=after,
        limit=limit,
        product_id=trace,
        name=call.query.get("partsName") or None,
        plant_names=plants,
        ids_in=children if parent_flag is False else None,
        ids_out=children if parent_flag else None,
    )
    body = [mapping.parts_model(call.ctx.settings, p, terminated=terminated(call, p)) for p in products]
    headers = {}
    if len(products) == limit:
        headers["link"] = (
            f'<{call.base_url}/api/v1/datatransport?dataTarget=parts&limit={limit}&after={products[-1].id}>; rel="next"'
        )
    return json_response(body, headers=headers)


def _find_product(call: Call, trace_id: str, field: str) -> Product:
    product = call.ctx.session.get(Product, trace_id.lower())
    if product is None:
        raise bad_request(f"Validation failed, {field}: part {trace_id} does not exist.", "traceability")
    return product


def upsert_part(call: Call, part: PartsModel, where: str = "") -> Product:
    """An existing part (its fields checked unchanged), or a new product made for it."""
    _own(call, part, where)
    plant = plant_name_of(call, part.plant_id)
    if part.amount_required_unit is None:
        raise bad_request(f"Validation failed, {where}amountRequiredUnit: cannot be blank.")
    unit = mapping.TO_OURS[part.amount_required_unit]
    support = part.support_parts_name or ""
    if part.trace_id is not None:
        product = _find_product(call, part.trace_id, f"{where}traceId")
        if mapping.plant_id(call.ctx.company_id, product.plant_name) != part.plant_id:
            raise bad_request(f"{where}plantId: field is immutable.")
        if product.name[:50] != part.parts_name:
            raise bad_request(f"{where}partsName: field is immutable.")
        if product.declared_unit != unit:
            raise bad_request(f"{where}amountRequiredUnit: field is immutable.")
        return product
    same = [
        p
        for p in catalog_reads.products_page(
            call.ctx.session, after=None, limit=1000, name=part.parts_name, plant_names=[plant]
        )
        if p.description == support
    ]
    if same:  # traceIds are issued per (operator, plant, partsName, supportPartsName)
        if same[0].declared_unit != unit:
            raise bad_request(f"{where}amountRequiredUnit: field is immutable.")
        return same[0]
    product_id = str(uuid.uuid4())
    data = m.ProductCreate.model_validate(
        {
            "productIds": [mapping.PART_URN + product_id],
            "name": part.parts_name,
            "description": support,
            "declaredUnit": unit,
        }
    )
    product = catalog.create_product(call.ctx, data, product_id=product_id)
    if plant is not None:
        sample = catalog_reads.products_page(call.ctx.session, after=None, limit=1, plant_names=[plant])
        if sample:
            product.plant_name = sample[0].plant_name
            product.plant_country = sample[0].plant_country
            product.plant_subdivision = sample[0].plant_subdivision
            call.ctx.session.add(product)
    return product


def put_parts(call: Call) -> Response:
    call.writes()
    part = call.model(PartsModel)
    if part.amount_required is not None:
        raise bad_request("Validation failed, amountRequired: must be blank.")
    product = upsert_part(call, part)
    call.ctx.session.flush()
    return json_response(mapping.parts_model(call.ctx.settings, product, terminated=terminated(call, product)), 201)


def delete_parts(call: Call) -> Response:
    call.writes()
    trace = mapping.require_uuid(call.query.get("traceId"), "traceId")
    product = _find_product(call, trace, "traceId")
    session = call.ctx.session
    if catalog_reads.supplier_lines(session, product.id) or repo.bom_lines(session, product.id):
        raise bad_request("the part has a parts structure (or a trade) and cannot be deleted", "traceability")
    urns = {u.lower() for u in product.product_ids}
    if any(urn.lower() in urns for _, urn in catalog_reads.internal_children(session, call.ctx.company_id)):
        raise bad_request("the part is a child in a parts structure and cannot be deleted", "traceability")
    if any(
        r.state == "pending"
        for r in catalog_reads.requests_page(session, direction="incoming", after=None, limit=1000)
        if r.product_id == product.id
    ):
        raise bad_request("the part is linked to a request received and cannot be deleted", "traceability")
    catalog.delete_product(call.ctx, product.id)
    return Response(status_code=204, headers={"x-track": str(uuid.uuid4())})


def structure(call: Call, parent: Product) -> dict[str, Any]:
    children = []
    for line, child in children_of(call, parent):
        if child is None:
            children.append(line_part(call, parent, line))
        else:
            children.append(
                mapping.parts_model(
                    call.ctx.settings, child, terminated=terminated(call, child), amount=line.quantity, unit=line.unit
                )
            )
    return {
        "parentPartsModel": mapping.parts_model(call.ctx.settings, parent, terminated=terminated(call, parent)),
        "childrenPartsModel": children,
    }


def get_structure(call: Call) -> Response:
    trace = mapping.require_uuid(call.query.get("traceId"), "traceId")
    return json_response(structure(call, _find_product(call, trace, "traceId")))


def put_structure(call: Call) -> Response:
    call.writes()
    body = call.model(PartsStructureModel)
    if body.parent.amount_required is not None:
        raise bad_request("Validation failed, parentPartsModel: (amountRequired: must be blank.).")
    parent = upsert_part(call, body.parent, "parentPartsModel.")
    existing = children_of(call, parent)
    by_trace = {(child.id if child is not None else line.id): line for line, child in existing}
    keep: set[str] = set()
    for i, part in enumerate(body.children):
        where = f"childrenPartsModel[{i}]."
        if part.amount_required is None:
            raise bad_request(f"Validation failed, {where}amountRequired: cannot be blank.")
        if part.amount_required <= 0:
            raise bad_request(f"Validation failed, {where}amountRequired: must be greater than 0.")
        known = by_trace.get(part.trace_id.lower()) if part.trace_id is not None else None
        if known is not None and known.supplier_company_id != call.ctx.company_id:
            _own(call, part, where)  # another company's product on our line: its amount only
            _set_amount(call, known, part.amount_required, part.amount_required_unit, where)
            keep.add(known.id)
            continue
        child = upsert_part(call, part, where)
        if child.id == parent.id:
            raise bad_request(f"Validation failed, {where}traceId: a part cannot be its own child.")
        line = by_trace.get(child.id)
        if line is None:
            data = m.SupplierLineCreate.model_validate(
                {
                    "supplierCompanyId": call.ctx.company_id,
                    "supplierProductId": child.product_ids[0],
                    "quantity": format_decimal(part.amount_required),
                    "unit": child.declared_unit,
                }
            )
            line = catalog.add_bom_line(call.ctx, parent.id, data)
            by_trace[child.id] = line
        else:
            _set_amount(call, line, part.amount_required, part.amount_required_unit, where)
        keep.add(line.id)
    for line, _ in existing:
        if line.id not in keep:
            catalog.delete_bom_line(call.ctx, parent.id, line.id)
    call.ctx.session.flush()
    return json_response(structure(call, parent), 201)


def _set_amount(call: Call, line: BomLine, amount: Decimal, unit: str | None, where: str) -> None:
    if unit is None or mapping.TO_OURS[unit] != line.unit:
        raise bad_request(f"Validation failed, {where}amountRequiredUnit: field is immutable.")
    line.quantity = amount
    call.ctx.session.add(line)
