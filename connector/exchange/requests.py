"""The request state machine: asking a supplier, and a customer's request accepted, rejected, fulfilled or waiting.

States: ``pending`` -> ``fulfilled`` | ``rejected`` | ``cancelled`` (outgoing, by our operator) | ``failed`` (an
outgoing request that could not be delivered: ``outbox``) | ``refused`` (every footprint of the answer was refused:
``receipt``; the supplier's incoming request goes to ``refused`` too, with the same reason, when the customer tells
it). Every message to a partner is an intent in the outbox, carried by the request's protocol.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from .. import protocols
from ..errors import ConnectorError, InvalidSignature, MissingUpstream, NotFound, ValidationFailed
from ..identity import load_certificates
from ..services import audit, footprints
from ..services.context import NodeContext
from ..storage import repositories as repo
from ..storage import requests as request_rows
from ..storage.tables import BomLine, CfpRequest, Product
from . import grants, outbox

log = logging.getLogger("connector.exchange")


class NotOurRequest(ValidationFailed):
    """A supplier's answer or refusal names no request this node sent to that supplier (its adapter words it)."""


def request_footprint(
    ctx: NodeContext,
    line_id: str,
    *,
    message: str | None = None,
    due_date: datetime | None = None,
    verifier_certs: list[str] | None = None,
) -> CfpRequest:
    """Ask the supplier of a BOM line for its footprint (RequestCreated event through the outbox)."""
    line = ctx.session.get(BomLine, line_id)
    if line is None or line.kind != "supplier":
        raise NotFound("supplier BOM line %(line)s not found", code="request.line-not-found", params={"line": line_id})
    return request_for_line(ctx, line, message=message, due_date=due_date, verifier_certs=verifier_certs)


def request_for_line(
    ctx: NodeContext,
    line: Any,
    *,
    message: str | None = None,
    due_date: datetime | None = None,
    verifier_certs: list[str] | None = None,
) -> CfpRequest:
    """:func:`request_footprint` for a supplier line already read (an ORM instance or a row of its table)."""
    partner = repo.partner_row(ctx.session, line.supplier_company_id or "")
    if partner is None or not partner.node_url:
        raise ValidationFailed(
            "supplier %(company)s has no node URL; add it as a partner first",
            code="request.no-node-url",
            params={"company": line.supplier_company_id},
            errors=[{"field": "supplierCompanyId", "message": "no node URL"}],
        )
    repo.lock_line(ctx.session, line.id)  # one open request per line (uq_cfprequest_open_line), never a 500
    open_id = request_rows.open_request_for_line(ctx.session, line.id)
    if open_id is not None:
        return get_request(ctx, open_id)
    event_id = str(uuid.uuid4())
    verifiers = list(verifier_certs or [])
    ask: dict[str, Any] = {
        "id": event_id,
        "at": outbox.iso(ctx.now()),
        "productIds": [line.supplier_product_id],
        "companyIds": [partner.company_id],
    }
    if message:
        ask["message"] = message
    if due_date:
        ask["dueDate"] = outbox.iso(due_date)
    if verifiers:
        ask["verifierCertificates"] = verifiers
    req = CfpRequest(
        direction="outgoing",
        event_id=event_id,
        company_id=partner.company_id,
        product_ids=[line.supplier_product_id or ""],
        bom_line_id=line.id,
        message=message,
        due_date=due_date,
        verifier_certs=verifiers,
        protocol=partner.protocol,
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    ctx.session.add(req)
    outbox.enqueue(
        ctx.session, partner.node_url, partner.company_id, outbox.ASK, ask, ctx.now(), protocol=partner.protocol
    )
    audit.append(
        ctx.session,
        ctx.company_id,
        "request.sent",
        line.supplier_product_id or "",
        to=partner.company_id,
        event=event_id,
    )
    return req


def request_missing_inputs(ctx: NodeContext, product: Product, verifier_certs: list[str]) -> list[CfpRequest]:
    """Ask every supplier whose footprint we lack for this product (used before answering a customer)."""
    made = []
    lines = repo.bom_line_rows(ctx.session, product.id)
    held = repo.latest_upstreams(
        ctx.session,
        [(line.supplier_company_id or "", line.supplier_product_id or "") for line in lines if line.kind == "supplier"],
    )
    for line in lines:
        if line.kind != "supplier" or line.supplier_company_id == ctx.company_id:
            if line.kind == "supplier" and line.supplier_company_id == ctx.company_id:
                inner = repo.product_by_urn(ctx.session, line.supplier_product_id or "")
                if inner is not None and repo.active_footprint(ctx.session, inner.id) is None:
                    made.extend(request_missing_inputs(ctx, inner, verifier_certs))
            continue
        if (line.supplier_company_id or "", (line.supplier_product_id or "").lower()) not in held:
            made.append(
                request_for_line(ctx, line, verifier_certs=verifier_certs, message=f"needed for {product.name}")
            )
    return made


def cancel_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    req = get_request(ctx, request_id)
    if req.direction != "outgoing" or req.state != "pending":
        raise ValidationFailed("only a pending outgoing request can be cancelled", code="request.not-cancellable")
    set_state(ctx, req, "cancelled")
    if outbox.CANCEL in protocols.adapter(req.protocol).intents:  # PACT v3 has no cancel event: none for it
        partner = repo.partner_row(ctx.session, req.company_id)
        if partner is not None and partner.node_url:
            cancel = {"id": str(uuid.uuid4()), "at": outbox.iso(ctx.now()), "requestId": req.event_id}
            outbox.enqueue(
                ctx.session, partner.node_url, req.company_id, outbox.CANCEL, cancel, ctx.now(), protocol=req.protocol
            )
    return req


def get_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    req = ctx.session.get(CfpRequest, request_id)
    if req is None:
        raise NotFound("request %(request)s not found", code="request.not-found", params={"request": request_id})
    return req


def set_state(ctx: NodeContext, req: CfpRequest, state: str, reason: str | None = None) -> None:
    req.state, req.updated_at = state, ctx.now()
    if reason:
        req.reason = reason
    ctx.session.add(req)


def accept_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    """Grant the requester the product and answer as soon as the footprint can be computed."""
    req = get_request(ctx, request_id)
    if req.direction != "incoming" or req.state != "pending":
        raise ValidationFailed("only a pending incoming request can be accepted", code="request.not-acceptable")
    if req.product_id is None:
        raise ValidationFailed(
            "the request names no product of this company; reject it instead", code="request.no-product"
        )
    req.callback_url = reply_url(ctx, req.company_id)  # the partner may have been registered since
    grants.grant(ctx, req.product_id, req.company_id)
    attempt_fulfil(ctx, req, granted=True)
    return req


def link_product(
    ctx: NodeContext, request_id: str, product_id: str, verifier_certs: list[str] | None = None
) -> CfpRequest:
    """Our operator names the product of ours that answers a pending incoming request: see
    :func:`.part_links.link_product`, which also remembers the link for a platform's part (decision 0028)."""
    from . import part_links  # it builds on this module

    return part_links.link_product(ctx, request_id, product_id, verifier_certs)


def reject_request(ctx: NodeContext, request_id: str, reason: str, code: str = "NotFound") -> CfpRequest:
    req = get_request(ctx, request_id)
    if req.direction != "incoming" or req.state != "pending":
        raise ValidationFailed("only a pending incoming request can be rejected", code="request.not-rejectable")
    req.callback_url = reply_url(ctx, req.company_id)  # the partner may have been registered since
    reject(ctx, req, reason, code)
    return req


def reject(ctx: NodeContext, req: CfpRequest, reason: str, code: str = "NotFound") -> None:
    set_state(ctx, req, "rejected", reason)
    if req.callback_url and outbox.REJECT in protocols.adapter(req.protocol).intents:  # Catena-X has no rejection
        rejection = {
            "id": str(uuid.uuid4()),
            "at": outbox.iso(ctx.now()),
            "requestId": req.event_id,
            "code": code,
            "reason": reason,
        }
        outbox.enqueue(
            ctx.session, req.callback_url, req.company_id, outbox.REJECT, rejection, ctx.now(), protocol=req.protocol
        )
    audit.append(ctx.session, ctx.company_id, "request.rejected", req.event_id, to=req.company_id, reason=reason)


def fulfil_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    req = get_request(ctx, request_id)
    if req.direction != "incoming" or req.state != "pending":
        raise ValidationFailed("only a pending incoming request can be fulfilled", code="request.not-fulfillable")
    if req.product_id is None or not grants.has_grant(ctx, req.product_id, req.company_id):
        raise ValidationFailed(
            "accept the request (grant the product) before fulfilling it", code="request.not-accepted"
        )
    req.callback_url = reply_url(ctx, req.company_id)  # the partner may have been registered since
    if not try_fulfil(ctx, req, granted=True):
        raise MissingUpstream(
            "the footprint cannot be computed yet; the missing inputs were requested from suppliers",
            code="request.inputs-missing",
        )
    return req


def attempt_fulfil(
    ctx: NodeContext, req: CfpRequest, *, granted: bool = False, active: Any = footprints.LOOK_UP, fresh: bool = False
) -> bool:
    """:func:`try_fulfil` in a savepoint: a failure is recorded on the request and never undoes the caller's work."""
    try:
        with ctx.session.begin_nested():
            return try_fulfil(ctx, req, granted=granted, active=active, fresh=fresh)
    except ConnectorError as exc:
        log.warning("cannot answer request %s yet: %s", req.event_id, exc.detail)
        req.reason = f"cannot answer yet: {exc.detail}"[:2000]
        ctx.session.add(req)
        audit.append(ctx.session, ctx.company_id, "request.blocked", req.event_id, reason=exc.detail)
        return False


def try_fulfil(
    ctx: NodeContext, req: CfpRequest, *, granted: bool = False, active: Any = footprints.LOOK_UP, fresh: bool = False
) -> bool:
    """Answer an accepted request if the footprint can be had now; otherwise ask our own suppliers first.

    What the caller has just learnt in this transaction is not asked again: ``granted=True``, it checked (or made)
    the requester's grant; ``active``, the product's active footprint; ``fresh=True``, that footprint was created in
    this transaction and nothing was issued from it to the requester yet (so it has no attestation to look up).
    """
    product = ctx.session.get(Product, req.product_id) if req.product_id else None
    if product is None or (not granted and not grants.has_grant(ctx, product.id, req.company_id)):
        return False
    fp = repo.active_footprint(ctx.session, product.id) if active is footprints.LOOK_UP else active
    fresh = fresh and req.company_id != ctx.company_id  # our own audience: internal inputs are attested to it too
    if fp is None:
        try:
            fp, fresh = footprints.compute(ctx, product.id, active=None)  # none: read just above
        except MissingUpstream:
            request_missing_inputs(ctx, product, list(req.verifier_certs))
            return False
    document = protocols.adapter(req.protocol).footprint_document(ctx, fp, product, req.company_id, fresh=fresh)
    if req.callback_url:
        answer = {
            "id": str(uuid.uuid4()),
            "at": outbox.iso(ctx.now()),
            "requestId": req.event_id,
            "footprints": [document],
        }
        outbox.enqueue(
            ctx.session, req.callback_url, req.company_id, outbox.ANSWER, answer, ctx.now(), protocol=req.protocol
        )
    req.footprint_ids = [fp.id]
    set_state(ctx, req, "fulfilled")
    audit.append(ctx.session, ctx.company_id, "request.fulfilled", req.event_id, to=req.company_id, footprint=fp.id)
    return True


def reply_url(ctx: NodeContext, company_id: str) -> str | None:
    """Where answers to this company go: the node URL its operator registered for it, never a URL from its event
    (a non-partner, or a partner without a node URL, gets no answer until the operator registers one)."""
    partner = repo.partner_row(ctx.session, company_id)
    return partner.node_url.rstrip("/") if partner is not None and partner.node_url else None


def receive_request(
    ctx: NodeContext,
    caller: str,
    event_id: str,
    *,
    product_ids: list[str],
    message: str | None,
    due_date: datetime | None,
    verifier_certs: list[str],
    protocol: str,
) -> None:
    """A customer's request, as its protocol's adapter read it: recorded, then answered, rejected, or left for the
    operator. ``event_id`` names it in the answer (PACT: the RequestCreated event's id)."""
    wanted = product_ids
    products = repo.products_by_urns(ctx.session, wanted)
    req = CfpRequest(
        direction="incoming",
        event_id=event_id,
        company_id=caller,
        product_ids=wanted,
        product_id=products[0].id if products else None,
        message=message,
        due_date=due_date,
        verifier_certs=verifier_certs,
        protocol=protocol,
        callback_url=reply_url(ctx, caller),  # never an address the sender names (issue 15, SSRF)
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    ctx.session.add(req)
    ctx.session.flush()
    from . import part_links

    if part_links.link_remembered(ctx, req):  # a platform's part our operator linked before (decision 0028)
        return
    if not products:
        if ctx.settings.hold_unmatched_requests:  # the operator links one of our products (link_product) or rejects
            audit.append(ctx.session, ctx.company_id, "request.unmatched", event_id, by=caller)
            return
        reject(ctx, req, "no product matches the request", "NotFound")
        return
    refused = refused_verifiers(ctx, req.verifier_certs)
    if refused:
        reject(ctx, req, f"evidence can only be sealed to dataspace verifiers: {refused}", "BadRequest")
        return
    partner = repo.partner_row(ctx.session, caller)
    if partner is not None and partner.auto_fulfil:
        if not grants.has_grant(
            ctx, products[0].id, caller
        ):  # the usual case after the first request: one prepared query
            grants.add_grant(ctx, products[0].id, caller)
        attempt_fulfil(ctx, req, granted=True)
    elif grants.has_grant(ctx, products[0].id, caller):
        attempt_fulfil(ctx, req, granted=True)
    # otherwise the request waits for the operator


def refused_verifiers(ctx: NodeContext, pems: list[str]) -> str | None:
    """Why a named verifier certificate cannot receive evidence, or None when all can."""
    if not pems or ctx.identity is None or ctx.identity.trust is None:
        return None
    for pem in pems:
        try:
            ctx.identity.trust.validate(load_certificates(pem.encode()), ctx.now(), role="verifier")
        except (InvalidSignature, ValueError) as exc:
            return getattr(exc, "reason", None) or str(exc)
    return None
