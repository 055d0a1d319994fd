"""Asking a partner on an Ouranos platform for a CFP (decision 0022).

``ask`` (the ``ask`` intent, sent by the outbox): register the part we buy as a part of ours on the platform (named
by the product id our BOM line asks for), then ``PUT tradeRequest`` to the partner's operator (found by its
openOperatorId, the corporate number). Both are recorded (``OuranosLink``), so a retried intent never asks twice.

``follow`` (the poller): the status of every trade we asked; COMPLETED -> the CFP of our part (the partner's
``*Response`` values) and its certification files -> the core's receipt. A file of ours (:mod:`.proof`) whose values
are the platform's is the answer, verified as a PACT answer is (attestation, sealed evidence, exact values);
without one, the values go to the receipt unsigned, and enter as an entered upstream value, never as attested.
REJECT -> the request is rejected with the partner's reply message; CANCEL (someone cancelled it on the platform) ->
cancelled.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from ...attestation import verify_attestation
from ...errors import InvalidSignature, ValidationFailed
from ...exchange import receipt, refusals, requests
from ...services.context import NodeContext
from ...storage import ouranos_links as links
from ...storage import requests as request_rows
from ...storage.tables import BomLine, CfpRequest
from .. import PeerError
from . import mapping, proof
from .client import DtsClient
from .poller import Node

log = logging.getLogger("connector.ouranos")
RAW, MAIN = "raw_material_acquisition", "main_production"


def parts_name(urn: str) -> str:
    """The name our part for ``urn`` has on a platform (at most 50 characters: the id, or its last segment)."""
    return (urn if len(urn) <= 50 else urn.rsplit(":", 1)[-1])[:50] or "-"


def _asked(ctx: NodeContext, platform: str, event_id: str) -> dict[str, Any]:
    req = request_rows.outgoing_request(ctx.session, event_id)
    line = ctx.session.get(BomLine, req.bom_line_id) if req is not None and req.bom_line_id else None
    link = links.get(ctx.session, platform, links.TRADE, event_id)
    return {
        "state": req.state if req is not None else None,
        "unit": line.unit if line is not None else None,
        "trace": link.trace_id if link is not None else None,
        "trade": link.remote_id if link is not None else None,
    }


async def ask(node: Node, dts: DtsClient, platform: str, body: dict[str, Any]) -> None:
    event_id, company, wanted = body["id"], body["companyIds"][0], body["productIds"][0]
    known = await node.db(lambda ctx: _asked(ctx, platform, event_id))
    if known["trade"] is not None or known["state"] not in (None, "pending"):
        return  # asked already (a retried intent), or no longer wanted
    own = await dts.own_operator()
    upstream = await dts.operator_by_open_id(mapping.open_operator_id(node.settings, company))
    trace = known["trace"]
    if trace is None:
        unit = mapping.ouranos_unit(known["unit"])
        if unit is None:
            raise PeerError(f"the unit {known['unit']!r} of the BOM line has no Ouranos unit", permanent=True)
        part = {
            "traceId": None,
            "operatorId": own.operator_id,
            "plantId": await dts.plant_id(),
            "partsName": parts_name(wanted),
            "supportPartsName": None,
            "terminatedFlag": False,
            "amountRequired": None,
            "amountRequiredUnit": unit,
        }
        trace = str((await dts.put("parts", part))["traceId"])
        await node.db(
            lambda ctx: links.put(ctx.session, platform, links.TRADE, event_id, remote_id=None, trace_id=trace)
        )
    due = str(body.get("dueDate") or "")[:10] or (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    trade = {
        "tradeModel": {
            "tradeId": None,
            "downstreamOperatorId": own.operator_id,
            "upstreamOperatorId": upstream.operator_id,
            "downstreamTraceId": trace,
            "upstreamTraceId": None,
        },
        "statusModel": {
            "statusId": None,
            "tradeId": None,
            "requestStatus": {},
            "message": (body.get("message") or None) and str(body["message"])[:1000],
            "replyMessage": None,
            "requestType": "CFP",
            "responseDueDate": due,
        },
    }
    made = await dts.put("tradeRequest", trade)
    trade_id = str(made["tradeModel"]["tradeId"])
    await node.db(
        lambda ctx: links.put(ctx.session, platform, links.TRADE, event_id, remote_id=trade_id, trace_id=trace)
    )
    node.wake()


async def cancel(node: Node, dts: DtsClient, platform: str, body: dict[str, Any]) -> None:
    known = await node.db(lambda ctx: _asked(ctx, platform, body["requestId"]))
    if known["trade"] is None:
        return  # never reached the platform: nothing to withdraw there
    status = await _status(dts, known["trade"], "REQUEST", trace=known["trace"])
    if status is None or status["requestStatus"].get("cfpResponseStatus") != "NOT_COMPLETED":
        return
    await dts.put(
        "status",
        dict(status, requestStatus={"cfpResponseStatus": "CANCEL", "tradeTreeStatus": "UNTERMINATED"}),
    )


async def _status(dts: DtsClient, trade_id: str, target: str, *, trace: str | None = None) -> dict[str, Any] | None:
    params = {"statusTarget": target, **({"traceId": trace} if trace else {})}
    rows = await dts.get_all("status", **params)
    return next((r for r in rows if isinstance(r, dict) and r.get("tradeId") == trade_id), None)


def _open(ctx: NodeContext, platform: str) -> list[tuple[str, str, str, str, list[str]]]:
    return [
        (req.event_id, req.company_id, link.remote_id or "", link.trace_id or "", list(req.product_ids))
        for req, link in links.open_trades(ctx.session, platform)
    ]


async def follow(node: Node, dts: DtsClient, platform: str) -> None:
    trades = await node.db(lambda ctx: _open(ctx, platform))
    if not trades:
        return
    statuses = {r.get("tradeId"): r for r in await dts.get_all("status", statusTarget="REQUEST") if isinstance(r, dict)}
    for event_id, company, trade_id, trace, asked in trades:
        status = statuses.get(trade_id)
        if status is None:
            continue
        said = (status.get("requestStatus") or {}).get("cfpResponseStatus")
        if said == "COMPLETED":
            document = await read_answer(node, dts, platform, company, trade_id, trace, asked)
            if document is None:
                continue  # completed, but the values are not readable yet
            await node.db(partial(_received, company, event_id, document))
        elif said == "REJECT":
            reason = f"rejected on the Ouranos platform: {status.get('replyMessage') or 'no reply message'}"
            await node.db(partial(_rejected, company, event_id, reason))
        elif said == "CANCEL":
            await node.db(partial(_cancelled, event_id))


def _received(company: str, event_id: str, document: dict[str, Any], ctx: NodeContext) -> None:
    receipt.receive_answer(ctx, company, event_id, [document], protocol="ouranos")


def _rejected(company: str, event_id: str, reason: str, ctx: NodeContext) -> None:
    refusals.rejected_by_supplier(ctx, company, event_id, reason)


def _cancelled(event_id: str, ctx: NodeContext) -> None:
    req = request_rows.outgoing_request(ctx.session, event_id)
    if isinstance(req, CfpRequest) and req.state == "pending":
        requests.set_state(ctx, req, "cancelled", "cancelled on the Ouranos platform")


async def read_answer(
    node: Node, dts: DtsClient, platform: str, company: str, trade_id: str, trace: str, asked: list[str]
) -> dict[str, Any] | None:
    """The answer as the receipt reads it (:class:`adapter.OuranosFootprint`): with the attestation of a certification
    file issued by the partner to us whose values are the platform's (then the attested values, exact, all four
    stages); else the platform's values, unsigned. A file that names the partner but fails verification goes to the
    receipt as it is, to be refused there, never dropped in favour of the unsigned values."""
    rows = await dts.get("cfp", traceIds=trace)
    got = {r["cfpType"]: r for r in rows or [] if isinstance(r, dict) and r.get("traceId") == trace}
    pre, main = got.get("preProductionResponse"), got.get("mainProductionResponse")
    if pre is None or main is None or pre.get("ghgEmission") is None or main.get("ghgEmission") is None:
        return None
    values = {RAW: Decimal(pre["ghgEmission"]), MAIN: Decimal(main["ghgEmission"])}
    unit = str(pre.get("ghgDeclaredUnit", "")).removeprefix("kgCO2e/")
    base = {"ouranos": True, "companyIds": [company], "tradeId": trade_id, "platform": platform}
    bad: dict[str, Any] | None = None
    for file in await _proofs(dts, trace):
        try:
            claims = verify_attestation(
                file["sdJwt"], _trust(node), at=datetime.now(UTC), audience=node.settings.company_id
            ).claims
        except (InvalidSignature, ValidationFailed, ValueError) as exc:
            log.warning("certification file of trade %s on %s not verified: %s", trade_id, platform, exc)
            bad = bad or file
            continue
        if claims.issuer != company or not _agrees(claims.stages.as_dict(), values):
            continue  # another company's, or another version's: not the proof of these values
        return {
            **base,
            "id": claims.footprint_id,
            "productIds": list(claims.product_ids),
            "declaredUnit": claims.declared_unit,
            "stages": {st.value: str(v) for st, v in claims.stages.as_dict().items()},
            "total": str(claims.total),
            "attestation": file["sdJwt"],
            "evidence": file["evidence"],
            "certifications": file["certifications"],
        }
    unsigned = {
        **base,
        "id": mapping.derived("ouranos-cfp", platform, trade_id, str(values[RAW]), str(values[MAIN]), unit),
        "productIds": asked[:1],
        "declaredUnit": mapping.TO_OURS.get(unit, unit),
        "stages": {RAW: str(values[RAW]), MAIN: str(values[MAIN])},
        "dqr": {k: str(v) for k, v in (pre.get("dqrValue") or {}).items() if v is not None},
    }
    if bad is not None:
        unsigned.update(attestation=bad["sdJwt"], evidence=bad["evidence"], certifications=bad["certifications"])
    return unsigned


def _trust(node: Node) -> Any:
    if node.identity is None or node.identity.trust is None:
        raise InvalidSignature("this node has no trust anchors to verify attestations")
    return node.identity.trust


async def _proofs(dts: DtsClient, trace: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for cert in await dts.get("cfpCertification", traceId=trace) or []:
        for info in cert.get("cfpCertificationFileInfo") or [] if isinstance(cert, dict) else []:
            try:
                found.append(proof.read_file(await dts.certification_file(str(info["fileId"]))))
            except (PeerError, ValueError, KeyError, TypeError) as exc:
                log.info("certification file %s of part %s not read: %s", info, trace, exc)
    return found


def _agrees(stages: dict[Any, Decimal], values: dict[str, Decimal]) -> bool:
    """The platform's values are the attested ones as DTS carries them (5 decimals, rounded up)."""
    by_name = {getattr(k, "value", k): v for k, v in stages.items()}
    return all(mapping.wire_number(Decimal(by_name.get(st, 0))) == values[st] for st in (RAW, MAIN))
