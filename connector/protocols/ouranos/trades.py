"""``tradeRequest``, ``tradeResponse`` and ``status``: our requests, outgoing and incoming.

A trade and its status are one request (tradeId = the request's id; statusId derived from it). Asking (PUT
tradeRequest) for a part of ours adds to it a line naming the supplier and the part's own id (``urn:uuid:<traceId>``),
and sends the request over the supplier's protocol; a line that names another company's product already (a child
made in the operator API, traceId = the line's id) is asked as it is. The supplier links its part (PUT
tradeResponse) and writes its CFP; the answer then comes back signed, filed under the id we asked for.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from fastapi.responses import Response

from ...exchange import requests
from ...services import catalog
from ...services import models as m
from ...storage import catalog_reads
from ...storage.tables import BomLine, CfpRequest, Partner, Product
from . import mapping
from .call import Call, id_list
from .models import MAX_TRACE_IDS, StatusModel, TradeRequestModel
from .wire import DtsError, bad_request, json_response


def _downstream_trace(call: Call, req: CfpRequest) -> str:
    """The part of ours an outgoing request asks for: the part a trade line was added to, or the line itself."""
    line = call.ctx.session.get(BomLine, req.bom_line_id) if req.bom_line_id else None
    if line is None:
        return mapping.derived("part", call.ctx.company_id, req.id)
    if line.supplier_product_id == mapping.PART_URN + line.product_id:
        return line.product_id
    return line.id


def trade_model(call: Call, req: CfpRequest) -> dict[str, Any]:
    ours = mapping.operator_id(call.ctx.company_id)
    theirs = mapping.operator_id(req.company_id)
    asked = req.product_ids[0] if req.product_ids else ""
    if req.direction == "outgoing":
        done = req.state == "fulfilled"
        return {
            "tradeId": mapping.trade_id(req),
            "downstreamOperatorId": ours,
            "upstreamOperatorId": theirs,
            "downstreamTraceId": _downstream_trace(call, req),
            "upstreamTraceId": mapping.derived("part", req.company_id, asked) if done else None,
        }
    return {
        "tradeId": mapping.trade_id(req),
        "downstreamOperatorId": theirs,
        "upstreamOperatorId": ours,
        "downstreamTraceId": mapping.trace_of_urn(req.company_id, asked),
        "upstreamTraceId": req.product_id,
    }


def _link(call: Call, base: str, limit: int, rows: list[CfpRequest]) -> dict[str, str]:
    if len(rows) < limit:
        return {}
    return {
        "link": f'<{call.base_url}/api/v1/datatransport?dataTarget={base}&limit={limit}&after={rows[-1].id}>; rel="next"'
    }


def _after(call: Call) -> str | None:
    after = call.query.get("after") or None
    return mapping.require_uuid(after, "after") if after is not None else None


def get_trade_requests(call: Call) -> Response:
    traces = set(id_list(call.query.get("traceIds"), "traceIds", MAX_TRACE_IDS, required=False))
    session = call.ctx.session
    if traces:  # limit does not apply with traceIds (DTS #10)
        rows = catalog_reads.requests_page(session, direction="outgoing", after=None, limit=10_000)
        body = [trade_model(call, r) for r in rows]
        return json_response([t for t in body if t["downstreamTraceId"] in traces])
    limit = call.limit()
    rows = catalog_reads.requests_page(session, direction="outgoing", after=_after(call), limit=limit)
    return json_response([trade_model(call, r) for r in rows], headers=_link(call, "tradeRequest", limit, rows))


def partner_of(call: Call, operator_id: str) -> Partner:
    for partner in catalog_reads.partners(call.ctx.session):
        if mapping.operator_id(partner.company_id) == operator_id.lower():
            return partner
    raise DtsError(404, f"upstreamOperatorId: operator {operator_id} is not a partner of this node", source="dataspace")


def _trade_line(call: Call, trace_id: str, partner: Partner) -> BomLine:
    session = call.ctx.session
    product = session.get(Product, trace_id)
    if product is None:
        line = session.get(BomLine, trace_id)
        if line is None or line.kind != "supplier" or line.supplier_company_id == call.ctx.company_id:
            raise bad_request(f"Validation failed, downstreamTraceId: part {trace_id} does not exist.", "traceability")
        if line.supplier_company_id != partner.company_id:
            raise bad_request("Validation failed, upstreamOperatorId: this part is bought from another operator.")
        return line
    own_urn = mapping.PART_URN + product.id
    for line in catalog_reads.supplier_lines(session, product.id):
        if line.supplier_product_id == own_urn:
            if line.supplier_company_id == partner.company_id:
                return line
            raise bad_request("Validation failed, upstreamOperatorId: this part is asked of another operator already.")
    data = m.SupplierLineCreate.model_validate(
        {
            "supplierCompanyId": partner.company_id,
            "supplierProductId": own_urn,
            "quantity": "1",
            "unit": product.declared_unit,
        }
    )
    return catalog.add_bom_line(call.ctx, product.id, data)


def put_trade_request(call: Call) -> Response:
    call.writes()
    body = call.model(TradeRequestModel)
    trade, status = body.trade, body.status
    if trade.downstream_operator_id.lower() != mapping.operator_id(call.ctx.company_id):
        raise DtsError(403, "downstreamOperatorId: must be the operator you are logged in as", source="auth")
    if trade.trade_id is not None or status.trade_id is not None or status.status_id is not None:
        raise bad_request("Validation failed, tradeId: a request cannot be changed; cancel it and ask again.")
    if trade.upstream_trace_id is not None:
        raise bad_request("Validation failed, upstreamTraceId: only the upstream operator sets it.")
    if status.response_due_date is None:
        raise bad_request("Validation failed, responseDueDate: cannot be blank.")
    partner = partner_of(call, trade.upstream_operator_id)
    line = _trade_line(call, trade.downstream_trace_id.lower(), partner)
    due = datetime.combine(status.response_due_date, time(), tzinfo=UTC)
    req = requests.request_for_line(call.ctx, line, message=status.message or None, due_date=due)
    call.ctx.session.flush()
    return json_response({"tradeModel": trade_model(call, req), "statusModel": mapping.status_model(req)}, 201)


def get_trade_responses(call: Call) -> Response:
    limit = call.limit()
    rows = catalog_reads.requests_page(call.ctx.session, direction="incoming", after=_after(call), limit=limit)
    return json_response([response_model(call, r) for r in rows], headers=_link(call, "tradeResponse", limit, rows))


def response_model(call: Call, req: CfpRequest) -> dict[str, Any]:
    trade = trade_model(call, req)
    asked = req.product_ids[0] if req.product_ids else "-"
    part = {  # the customer's part as its request names it; its amount is never disclosed (DTS #12)
        "traceId": trade["downstreamTraceId"],
        "operatorId": trade["downstreamOperatorId"],
        "plantId": mapping.plant_id(req.company_id, None),
        "partsName": (asked if len(asked) <= 50 else asked.rsplit(":", 1)[-1])[:50] or "-",
        "supportPartsName": None,
        "terminatedFlag": False,
        "amountRequired": None,
        "amountRequiredUnit": None,
        "partsLabelName": None,
        "partsAddInfo1": None,
        "partsAddInfo2": None,
        "partsAddInfo3": None,
    }
    return {"tradeModel": trade, "statusModel": mapping.status_model(req), "partsModel": part}


def find_request(call: Call, trade_id: str, direction: str | None = None) -> CfpRequest:
    """The request a tradeId names (the asking event's id, or derived from it), or a 400."""
    session = call.ctx.session
    found = catalog_reads.requests_by_event(session, trade_id)
    if not found:  # an event id that is no UUID: its tradeId is derived
        found = [
            r
            for r in catalog_reads.requests_page(session, direction=direction, after=None, limit=100_000)
            if mapping.trade_id(r) == trade_id
        ]
    found = [r for r in found if direction is None or r.direction == direction]
    if not found:
        raise bad_request(f"Validation failed, tradeId: request {trade_id} does not exist.", "traceability")
    return found[0]


def _incoming(call: Call, trade_id: str) -> CfpRequest:
    return find_request(call, trade_id, "incoming")


def put_trade_response(call: Call) -> Response:
    call.writes()
    trade_id = mapping.require_uuid(call.query.get("tradeId"), "tradeId")
    trace_id = mapping.require_uuid(call.query.get("traceId"), "traceId")
    req = _incoming(call, trade_id)
    if call.ctx.session.get(Product, trace_id) is None:
        raise bad_request(f"Validation failed, traceId: part {trace_id} does not exist.", "traceability")
    requests.link_product(call.ctx, req.id, trace_id)
    call.ctx.session.flush()
    return json_response(trade_model(call, req), 201)


def get_status(call: Call) -> Response:
    target = call.query.get("statusTarget") or None
    if target not in (None, "REQUEST", "RESPONSE"):
        raise bad_request("Validation failed, statusTarget: must be REQUEST or RESPONSE.")
    status_id = call.query.get("statusId") or None
    trace_id = call.query.get("traceId") or None
    if status_id is not None:
        status_id = mapping.require_uuid(status_id, "statusId")
        if target == "REQUEST":
            raise bad_request("Invalid request parameters, only one of statusId and statusTarget=REQUEST can be set.")
    if trace_id is not None:
        trace_id = mapping.require_uuid(trace_id, "traceId")
    direction = {"REQUEST": "outgoing", "RESPONSE": "incoming", None: None}[target]
    session = call.ctx.session
    if status_id is not None or (trace_id is not None and target == "REQUEST"):
        rows = catalog_reads.requests_page(session, direction=direction, after=None, limit=10_000)
        if status_id is not None:
            rows = [r for r in rows if mapping.status_id(mapping.trade_id(r)) == status_id]
        if trace_id is not None and target == "REQUEST":
            rows = [r for r in rows if _downstream_trace(call, r) == trace_id]
        return json_response([mapping.status_model(r) for r in rows])
    limit = call.limit()
    rows = catalog_reads.requests_page(session, direction=direction, after=_after(call), limit=limit)
    return json_response([mapping.status_model(r) for r in rows], headers=_link(call, "status", limit, rows))


def put_status(call: Call) -> Response:
    call.writes()
    status = call.model(StatusModel)
    if status.trade_id is None or status.status_id is None:
        raise bad_request("Validation failed, statusId: cannot be blank.")
    wanted = status.request_status.cfp_response_status
    if wanted is None or status.request_status.trade_tree_status is None:
        raise bad_request("Validation failed, requestStatus: cfpResponseStatus and tradeTreeStatus are required.")
    req = find_request(call, status.trade_id.lower())
    if mapping.status_id(mapping.trade_id(req)) != status.status_id.lower():
        raise bad_request("Validation failed, statusId: it is not the status of this trade.", "traceability")
    if wanted == "CANCEL":
        if req.direction != "outgoing":
            raise bad_request("Validation failed, cfpResponseStatus: only the requester can cancel (CANCEL).")
        requests.cancel_request(call.ctx, req.id)
    elif wanted == "REJECT":
        if req.direction != "incoming":
            raise bad_request("Validation failed, cfpResponseStatus: only the requested operator can reject.")
        requests.reject_request(call.ctx, req.id, status.reply_message or "rejected", "BadRequest")
    else:
        raise bad_request(f"Validation failed, cfpResponseStatus: cannot be allowed '{wanted}'.")
    call.ctx.session.flush()
    return Response(status_code=201, headers={"x-track": str(uuid.uuid4())})
