"""Answering partners on an Ouranos platform (decision 0022).

``receive`` (the poller): ``GET tradeResponse``; a trade addressed to our operator, still NOT_COMPLETED, that no
incoming request records yet becomes one (its event id: the tradeId), from the partner whose openOperatorId is the
downstream operator's and whose node URL is this platform; the part it names (``partsName``: the product id its BOM
asks for) matches our products as a PACT request's product ids do, and its traceId (``urn:uuid:<downstreamTraceId>``)
finds the link our operator made for an earlier trade of that part (decision 0028). The core then answers, rejects or
holds it.

``answer`` (the ``answer`` intent): our product as a part on the platform (registered once, ``OuranosLink``), linked
to the trade (``PUT tradeResponse``), its CFP written (``PUT cfp``: own and component values of the two stages
Ouranos has). ``reject`` (the ``reject`` intent): ``PUT status`` REJECT with the reason as reply message.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ...exchange import requests
from ...services.context import NodeContext
from ...storage import catalog_reads
from ...storage import ouranos_links as links
from .. import PeerError
from . import mapping
from .client import DtsClient
from .models import BASE_CFP_TYPES, DQR_OF
from .poller import Node

log = logging.getLogger("connector.ouranos")


def _partners_here(ctx: NodeContext, platform: str) -> dict[str, str]:
    """openOperatorId -> company id of the partners reached through this platform."""
    return {
        mapping.open_operator_id(ctx.settings, p.company_id): p.company_id
        for p in catalog_reads.partners(ctx.session)
        if p.protocol == "ouranos" and (p.node_url or "").rstrip("/") == platform
    }


def _record(ctx: NodeContext, platform: str, trades: list[dict[str, Any]], opens: dict[str, str]) -> int:
    known = links.incoming_known(ctx.session, [t["tradeModel"]["tradeId"] for t in trades])
    partners = _partners_here(ctx, platform)
    made = 0
    for trade in trades:
        model, status, part = trade["tradeModel"], trade.get("statusModel") or {}, trade.get("partsModel") or {}
        if model["tradeId"] in known:
            continue
        caller = partners.get(opens.get(model["downstreamOperatorId"], ""))
        if caller is None:
            log.info("trade %s on %s is from no partner of ours: left alone", model["tradeId"], platform)
            continue
        due = status.get("responseDueDate")
        requests.receive_request(
            ctx,
            caller,
            model["tradeId"],
            # the part's name, matched against our product ids, then the part as the platform identifies it
            # (its traceId): what a remembered link is kept under (decision 0028)
            product_ids=[str(part.get("partsName") or "-"), mapping.PART_URN + str(model.get("downstreamTraceId"))],
            message=status.get("message"),
            due_date=datetime.fromisoformat(str(due)).replace(tzinfo=UTC) if due else None,
            verifier_certs=[],
            protocol="ouranos",
        )
        made += 1
    return made


async def receive(node: Node, dts: DtsClient, platform: str) -> None:
    own = await dts.own_operator()
    trades = [
        t
        for t in await dts.get_all("tradeResponse")
        if isinstance(t, dict)
        and (t.get("tradeModel") or {}).get("upstreamOperatorId") == own.operator_id
        and ((t.get("statusModel") or {}).get("requestStatus") or {}).get("cfpResponseStatus") == "NOT_COMPLETED"
    ]
    if not trades:
        return
    ids = [t["tradeModel"]["tradeId"] for t in trades]
    known = await node.db(lambda ctx: links.incoming_known(ctx.session, ids))
    fresh = [t for t in trades if t["tradeModel"]["tradeId"] not in known]
    if not fresh:
        return
    downstream = sorted({t["tradeModel"]["downstreamOperatorId"] for t in fresh})
    opens = {o.operator_id: o.open_operator_id for o in await dts.operators(downstream[:100])}
    await node.db(lambda ctx: _record(ctx, platform, fresh, opens))


# the answer ------------------------------------------------------------------------------------------------------


def cfp_values(fp: Any) -> dict[str, str]:
    """Our footprint as Ouranos' four base values: own and component (total minus own), per stage it has."""
    own = {k: Decimal(v) for k, v in (fp.own_stages or {}).items()}
    total = {k: Decimal(v) for k, v in fp.stages.items()}
    raw, main = "raw_material_acquisition", "main_production"
    zero = Decimal(0)
    return {
        "preProduction": str(own.get(raw, zero)),
        "mainProduction": str(own.get(main, zero)),
        "preComponent": str(total.get(raw, zero) - own.get(raw, zero)),
        "mainComponent": str(total.get(main, zero) - own.get(main, zero)),
    }


async def _our_part(node: Node, dts: DtsClient, platform: str, part: dict[str, Any]) -> str:
    product_id = part["productId"]
    link = await node.db(lambda ctx: links.get(ctx.session, platform, links.PART, product_id))
    if link is not None and link.trace_id:
        return link.trace_id
    own = await dts.own_operator()
    made = await dts.put(
        "parts",
        {
            "traceId": None,
            "operatorId": own.operator_id,
            "plantId": await dts.plant_id(),
            "partsName": part["partsName"],
            "supportPartsName": product_id[:50],
            "terminatedFlag": True,  # our bill of materials stays with us
            "amountRequired": None,
            "amountRequiredUnit": part["unit"],
        },
    )
    trace = str(made["traceId"])
    await node.db(lambda ctx: links.put(ctx.session, platform, links.PART, product_id, remote_id=None, trace_id=trace))
    return trace


async def answer(node: Node, dts: DtsClient, platform: str, body: dict[str, Any]) -> None:
    trade_id = body["requestId"]
    part = body["footprints"][0]
    if part.get("unit") is None:
        raise PeerError("the product's declared unit has no Ouranos unit; the answer cannot be written", permanent=True)
    trace = await _our_part(node, dts, platform, part)
    try:
        await dts.put("tradeResponse", tradeId=trade_id, traceId=trace)
    except PeerError as exc:
        if not exc.permanent:
            raise
        status = await _response_status(dts, trade_id)
        if status is None or status["requestStatus"].get("cfpResponseStatus") == "NOT_COMPLETED":
            raise  # not linked by an earlier attempt of this answer: the platform refuses it
    existing = await dts.get("cfp", traceIds=trace)
    cfp_id = next((r.get("cfpId") for r in existing or [] if isinstance(r, dict) and r.get("cfpId")), None)
    values = {k: mapping.wire_number(Decimal(v)) for k, v in part["values"].items()}
    if any(v is None for v in values.values()):
        raise PeerError("a value is out of the range Ouranos carries (0 to 99999.99999)", permanent=True)
    dqr = {k: mapping.wire_number(Decimal(v)) if v is not None else None for k, v in part["dqr"].items()}
    rows = [
        {
            "cfpId": cfp_id,
            "traceId": trace,
            "ghgEmission": values[kind],
            "ghgDeclaredUnit": f"kgCO2e/{part['unit']}",
            "cfpType": kind,
            "dqrType": DQR_OF[kind],
            "dqrValue": dqr,
        }
        for kind in BASE_CFP_TYPES
    ]
    await dts.put("cfp", rows)


async def _response_status(dts: DtsClient, trade_id: str) -> dict[str, Any] | None:
    rows = await dts.get_all("status", statusTarget="RESPONSE")
    return next((r for r in rows if isinstance(r, dict) and r.get("tradeId") == trade_id), None)


async def reject(node: Node, dts: DtsClient, platform: str, body: dict[str, Any]) -> None:
    status = await _response_status(dts, body["requestId"])
    if status is None or status["requestStatus"].get("cfpResponseStatus") != "NOT_COMPLETED":
        return
    reply = f"{body.get('code', '')}: {body.get('reason', '')}".strip(": ")[:1000] or "rejected"
    await dts.put(
        "status",
        dict(
            status,
            replyMessage=reply,
            requestStatus={"cfpResponseStatus": "REJECT", "tradeTreeStatus": "UNTERMINATED"},
        ),
    )
