"""The supply-chain exchange: requests, grants, incoming events, receipt of footprints and propagation."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..api import schemas as s
from ..attestation import verify_attestation
from ..certification import peek_certification, to_pact_verification
from ..errors import ConnectorError, InvalidSignature, MissingUpstream, NotFound, ValidationFailed
from ..exchange import pact
from ..identity import load_certificates
from ..stages import STAGES
from ..storage import repositories as repo
from ..storage.pact_reads import RenderKeyFields
from ..storage.tables import BomLine, CfpRequest, Footprint, Grant, Product, UpstreamFootprint
from . import attesting, audit, footprints, outbox
from .context import NodeContext

log = logging.getLogger("connector.exchange")


# grants -------------------------------------------------------------------------------------------------------------


def has_grant(ctx: NodeContext, product_id: str, company_id: str) -> bool:
    return repo.has_grant(ctx.session, product_id, company_id)


def grant(ctx: NodeContext, product_id: str, company_id: str) -> Grant:
    footprints.get_product(ctx, product_id)
    existing = ctx.session.exec(
        select(Grant).where(Grant.product_id == product_id, Grant.company_id == company_id)
    ).first()
    if existing:
        return existing
    return _add_grant(ctx, product_id, company_id)


def _add_grant(ctx: NodeContext, product_id: str, company_id: str) -> Grant:
    """A new grant (the caller knows there is none for the pair), returned outside the session. One made at the
    same moment by another transaction (uq_grant) is returned instead."""
    row = Grant(product_id=product_id, company_id=company_id, created_at=ctx.now())
    try:
        with ctx.session.begin_nested():
            repo.insert_new(ctx.session, row)
    except IntegrityError:
        return ctx.session.exec(
            select(Grant).where(Grant.product_id == product_id, Grant.company_id == company_id)
        ).one()
    audit.append(ctx.session, ctx.company_id, "grant.created", product_id, company=company_id)
    return row


def revoke_grant(ctx: NodeContext, grant_id: str) -> None:
    row = ctx.session.get(Grant, grant_id)
    if row is None:
        raise NotFound(f"grant {grant_id} not found")
    ctx.session.delete(row)
    audit.append(ctx.session, ctx.company_id, "grant.revoked", row.product_id, company=row.company_id)


def visible_footprints(ctx: NodeContext, company_id: str) -> list[tuple[Footprint, Product]]:
    stmt = (
        select(Footprint, Product)
        .join(Product, col(Product.id) == Footprint.product_id)
        .join(Grant, col(Grant.product_id) == Product.id)
        .where(Grant.company_id == company_id)
        .order_by(col(Footprint.created_at).desc(), col(Footprint.id))
    )
    return [(fp, prod) for fp, prod in ctx.session.exec(stmt)]


def visible_footprint(ctx: NodeContext, company_id: str, footprint_id: str) -> tuple[Footprint, Product]:
    """The footprint, its product and the caller's grant in one query; unshared answers exactly like missing."""
    stmt = (
        select(Footprint, Product)
        .join(Product, col(Product.id) == Footprint.product_id)
        .join(Grant, col(Grant.product_id) == Product.id)
        .where(Footprint.id == footprint_id.lower(), Grant.company_id == company_id)
        .limit(1)
    )
    row = ctx.session.exec(stmt).first()
    if row is None:
        raise NotFound("footprint not found")
    return row[0], row[1]


def render_for(
    ctx: NodeContext, fp: Footprint, product: Product, audience: str, *, fresh: bool = False
) -> dict[str, Any]:
    """The PACT footprint as ``audience`` gets it, with its attestation when this node can sign."""
    return json.loads(rendered_json(ctx, fp, product, audience, fresh=fresh))


_RENDERED: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_RENDERED_MAX = 4096
_RENDERED_LOCK = threading.Lock()


def render_key(
    ctx: NodeContext,
    fp: RenderKeyFields,
    audience: str,
    attestation_id: str | None,
    certifications: int,
    upstream_tokens: Iterable[str],
    product: tuple[Any, ...],
) -> tuple[Any, ...]:
    """Everything a rendering depends on besides the immutable footprint (see :func:`rendered_json`); ``product``:
    ``pact.product_key`` of its product, which can change."""
    return (
        ctx.company_id,
        ctx.settings.company_name,
        fp.id,
        fp.status,
        audience,
        attestation_id,
        certifications,
        tuple(upstream_tokens),
        product,
    )


def cached_rendering(key: tuple[Any, ...]) -> bytes | None:
    """The bytes :func:`rendered_json` made under ``key`` in this process, if still remembered."""
    with _RENDERED_LOCK:
        hit = _RENDERED.get(key)
        if hit is not None:
            _RENDERED.move_to_end(key)
        return hit


def rendered_json(
    ctx: NodeContext, fp: Footprint, product: Product, audience: str, *, issue_missing: bool = True, fresh: bool = False
) -> bytes:
    """:func:`render_for` as compact JSON, cached per process.

    A footprint is immutable but for its status; what else goes into the rendering is named in the key: its
    product's rendered fields, the audience, the attestation (id, and how many certifications it has gathered), the
    certifications passed up with the inputs, and the node's names. So a hit is byte-for-byte what rendering again
    would give.
    ``issue_missing=False`` raises :class:`attesting.NotIssuedYet` when the attestation is still to be issued;
    ``fresh``: see :func:`attesting.attestation_for`.
    """
    att = None
    if ctx.identity is not None and ctx.identity.can_sign:
        try:
            att = attesting.attestation_for(
                ctx,
                fp,
                product,
                audience,
                latest_verifiers(ctx, product, audience),
                issue_missing=issue_missing,
                fresh=fresh,
            )
        except attesting.CannotAttest as exc:
            log.warning("footprint %s goes out unattested: %s", fp.id, exc.detail)
    upstream = attesting.upstream_certifications(ctx, fp) if att is not None else []
    key = render_key(
        ctx,
        fp,
        audience,
        att.id if att else None,
        len(att.certifications) if att else 0,
        [e["token"] for e in upstream],
        pact.product_key(product),
    )
    hit = cached_rendering(key)
    if hit is not None:
        return hit
    pf = pact.render_footprint(
        footprint=fp,
        product=product,
        company_id=ctx.company_id,
        company_name=ctx.settings.company_name,
        extension=attesting.extension_data(ctx, fp, att, upstream),
    )
    own = [e["token"] for e in (att.certifications if att else []) if isinstance(e, dict) and e.get("depth") == 0]
    if own:
        # PACT's descriptive verification record, filled from our signed certification
        pf["pcf"]["verification"] = to_pact_verification(peek_certification(own[-1]))
    raw = json.dumps(pf, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    with _RENDERED_LOCK:
        _RENDERED[key] = raw
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return raw


def latest_verifiers(ctx: NodeContext, product: Product, audience: str) -> list[str]:
    return repo.latest_verifiers(ctx.session, audience, product.id)


# outgoing requests --------------------------------------------------------------------------------------------------


def source_url(ctx: NodeContext) -> str:
    return ctx.settings.public_url.rstrip("/")


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
        raise NotFound(f"supplier BOM line {line_id} not found")
    return _request_for_line(ctx, line, message=message, due_date=due_date, verifier_certs=verifier_certs)


def _request_for_line(
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
            f"supplier {line.supplier_company_id} has no node URL; add it as a partner first",
            errors=[{"field": "supplierCompanyId", "message": "no node URL"}],
        )
    repo.lock_line(ctx.session, line.id)  # one open request per line (uq_cfprequest_open_line), never a 500
    open_id = repo.open_request_for_line(ctx.session, line.id)
    if open_id is not None:
        return get_request(ctx, open_id)
    event_id = str(uuid.uuid4())
    verifiers = list(verifier_certs or [])
    data: dict[str, Any] = {"productId": [line.supplier_product_id], "companyId": [partner.company_id]}
    if message:
        data["comment"] = message
        data[pact.X_MESSAGE] = message
    if due_date:
        data[pact.X_DUE] = pact.iso(due_date)
    if verifiers:
        data[pact.X_VERIFIERS] = verifiers
    req = CfpRequest(
        direction="outgoing",
        event_id=event_id,
        company_id=partner.company_id,
        product_ids=[line.supplier_product_id or ""],
        bom_line_id=line.id,
        message=message,
        due_date=due_date,
        verifier_certs=verifiers,
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    ctx.session.add(req)
    event = pact.cloud_event(pact.REQUEST_CREATED, source_url(ctx), data, event_id=event_id, at=ctx.now())
    outbox.enqueue(ctx.session, partner.node_url, partner.company_id, outbox.SEND_EVENT, event, ctx.now())
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
                _request_for_line(ctx, line, verifier_certs=verifier_certs, message=f"needed for {product.name}")
            )
    return made


def cancel_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    req = get_request(ctx, request_id)
    if req.direction != "outgoing" or req.state != "pending":
        raise ValidationFailed("only a pending outgoing request can be cancelled")
    _set_state(ctx, req, "cancelled")
    return req


# incoming requests --------------------------------------------------------------------------------------------------


def get_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    req = ctx.session.get(CfpRequest, request_id)
    if req is None:
        raise NotFound(f"request {request_id} not found")
    return req


def _set_state(ctx: NodeContext, req: CfpRequest, state: str, reason: str | None = None) -> None:
    req.state, req.updated_at = state, ctx.now()
    if reason:
        req.reason = reason
    ctx.session.add(req)


def accept_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    """Grant the requester the product and answer as soon as the footprint can be computed."""
    req = get_request(ctx, request_id)
    if req.direction != "incoming" or req.state != "pending":
        raise ValidationFailed("only a pending incoming request can be accepted")
    if req.product_id is None:
        raise ValidationFailed("the request names no product of this company; reject it instead")
    req.callback_url = _reply_url(ctx, req.company_id)  # the partner may have been registered since
    grant(ctx, req.product_id, req.company_id)
    attempt_fulfil(ctx, req, granted=True)
    return req


def reject_request(ctx: NodeContext, request_id: str, reason: str, code: str = "NotFound") -> CfpRequest:
    req = get_request(ctx, request_id)
    if req.direction != "incoming" or req.state != "pending":
        raise ValidationFailed("only a pending incoming request can be rejected")
    req.callback_url = _reply_url(ctx, req.company_id)  # the partner may have been registered since
    _reject(ctx, req, reason, code)
    return req


def _reject(ctx: NodeContext, req: CfpRequest, reason: str, code: str = "NotFound") -> None:
    _set_state(ctx, req, "rejected", reason)
    if req.callback_url:
        event = pact.cloud_event(
            pact.REQUEST_REJECTED,
            source_url(ctx),
            {"requestEventId": req.event_id, "error": {"code": code, "message": reason}},
            at=ctx.now(),
        )
        outbox.enqueue(ctx.session, req.callback_url, req.company_id, outbox.SEND_EVENT, event, ctx.now())
    audit.append(ctx.session, ctx.company_id, "request.rejected", req.event_id, to=req.company_id, reason=reason)


def fulfil_request(ctx: NodeContext, request_id: str) -> CfpRequest:
    req = get_request(ctx, request_id)
    if req.direction != "incoming" or req.state != "pending":
        raise ValidationFailed("only a pending incoming request can be fulfilled")
    if req.product_id is None or not has_grant(ctx, req.product_id, req.company_id):
        raise ValidationFailed("accept the request (grant the product) before fulfilling it")
    req.callback_url = _reply_url(ctx, req.company_id)  # the partner may have been registered since
    if not try_fulfil(ctx, req, granted=True):
        raise MissingUpstream("the footprint cannot be computed yet; the missing inputs were requested from suppliers")
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
    if product is None or (not granted and not has_grant(ctx, product.id, req.company_id)):
        return False
    fp = repo.active_footprint(ctx.session, product.id) if active is footprints.LOOK_UP else active
    fresh = fresh and req.company_id != ctx.company_id  # our own audience: internal inputs are attested to it too
    if fp is None:
        try:
            fp, fresh = footprints.compute(ctx, product.id, active=None)  # none: read just above
        except MissingUpstream:
            request_missing_inputs(ctx, product, list(req.verifier_certs))
            return False
    pf = render_for(ctx, fp, product, req.company_id, fresh=fresh)
    event = pact.cloud_event(
        pact.REQUEST_FULFILLED, source_url(ctx), {"requestEventId": req.event_id, "pfs": [pf]}, at=ctx.now()
    )
    if req.callback_url:
        outbox.enqueue(ctx.session, req.callback_url, req.company_id, outbox.SEND_EVENT, event, ctx.now())
    req.footprint_ids = [fp.id]
    _set_state(ctx, req, "fulfilled")
    audit.append(ctx.session, ctx.company_id, "request.fulfilled", req.event_id, to=req.company_id, footprint=fp.id)
    return True


# incoming events ----------------------------------------------------------------------------------------------------


def handle_event(ctx: NodeContext, caller: str, event: dict[str, Any]) -> None:
    """Process one validated CloudEvent from an authenticated peer (the caller is already deduplicated)."""
    kind, data, source = event["type"], event["data"], event["source"]
    audit.append(ctx.session, caller, "event.received", event["id"], type=kind)
    if kind == pact.REQUEST_CREATED:
        _on_request(ctx, caller, event["id"], source, data)
    elif kind == pact.REQUEST_FULFILLED:
        _on_fulfilled(ctx, caller, data)
    elif kind == pact.REQUEST_REJECTED:
        _on_rejected(ctx, caller, data)
    elif kind == pact.PUBLISHED:
        _on_published(ctx, caller, source, data)


def _reply_url(ctx: NodeContext, company_id: str) -> str | None:
    """Where answers to this company go: the node URL its operator registered for it, never a URL from its event
    (a non-partner, or a partner without a node URL, gets no answer until the operator registers one)."""
    partner = repo.partner_row(ctx.session, company_id)
    return partner.node_url.rstrip("/") if partner is not None and partner.node_url else None


def _on_request(ctx: NodeContext, caller: str, event_id: str, source: str, data: dict[str, Any]) -> None:
    wanted = [str(p) for p in data.get("productId") or []]
    products = repo.products_by_urns(ctx.session, wanted)
    due = data.get(pact.X_DUE)
    req = CfpRequest(
        direction="incoming",
        event_id=event_id,
        company_id=caller,
        product_ids=wanted,
        product_id=products[0].id if products else None,
        message=data.get(pact.X_MESSAGE) or data.get("comment"),
        due_date=datetime.fromisoformat(due.replace("Z", "+00:00")) if isinstance(due, str) else None,
        verifier_certs=[str(v) for v in data.get(pact.X_VERIFIERS) or []],
        callback_url=_reply_url(ctx, caller),  # not ``source``: the sender names it (issue 15, SSRF)
        created_at=ctx.now(),
        updated_at=ctx.now(),
    )
    ctx.session.add(req)
    ctx.session.flush()
    if not products:
        _reject(ctx, req, "no product matches the request", "NotFound")
        return
    refused = _refused_verifiers(ctx, req.verifier_certs)
    if refused:
        _reject(ctx, req, f"evidence can only be sealed to dataspace verifiers: {refused}", "BadRequest")
        return
    partner = repo.partner_row(ctx.session, caller)
    if partner is not None and partner.auto_fulfil:
        if not has_grant(ctx, products[0].id, caller):  # the usual case after the first request: one prepared query
            _add_grant(ctx, products[0].id, caller)
        attempt_fulfil(ctx, req, granted=True)
    elif has_grant(ctx, products[0].id, caller):
        attempt_fulfil(ctx, req, granted=True)
    # otherwise the request waits for the operator


def _refused_verifiers(ctx: NodeContext, pems: list[str]) -> str | None:
    """Why a named verifier certificate cannot receive evidence, or None when all can."""
    if not pems or ctx.identity is None or ctx.identity.trust is None:
        return None
    for pem in pems:
        try:
            ctx.identity.trust.validate(load_certificates(pem.encode()), ctx.now(), role="verifier")
        except (InvalidSignature, ValueError) as exc:
            return getattr(exc, "reason", None) or str(exc)
    return None


def _on_fulfilled(ctx: NodeContext, caller: str, data: dict[str, Any]) -> None:
    found = repo.outgoing_request_answered(ctx.session, str(data.get("requestEventId")))
    if found is None or found.company_id != caller:
        raise ValidationFailed("requestEventId does not name a request this node sent to you")
    refusals: list[str] = []
    footprint_ids = []
    for pf in data.get("pfs") or []:
        before = len(refusals)
        row = receive_footprint(ctx, caller, pf, refusals)
        if row is not None:
            footprint_ids.append(row.footprint_id)
        elif len(refusals) == before and isinstance(pf, dict):
            footprint_ids.append(str(pf.get("id", "")).lower())  # verified, and held already: it answers too
    if found.state == "fulfilled":
        # a repeated or late answer never undoes a fulfilled request; a new footprint in it is kept with the others
        added = [f for f in footprint_ids if f not in found.footprint_ids]
        if added:
            repo.update_request(
                ctx.session, found.id, footprint_ids=[*found.footprint_ids, *added], updated_at=ctx.now()
            )
        return
    state: dict[str, Any] = {"state": "fulfilled" if footprint_ids else "pending"}
    if not footprint_ids and refusals:
        # Closed, with why: an open ("pending") request would make asking again return this one, and nothing would
        # ever ask again; the operator sees the reason and can ask anew (or the supplier can publish a new version).
        state = {"state": "refused", "reason": "answer refused: " + "; ".join(refusals)[:1000]}
    repo.update_request(ctx.session, found.id, footprint_ids=footprint_ids, updated_at=ctx.now(), **state)


def _on_rejected(ctx: NodeContext, caller: str, data: dict[str, Any]) -> None:
    req = repo.outgoing_request(ctx.session, str(data.get("requestEventId")))
    if req is None or req.company_id != caller:
        raise ValidationFailed("requestEventId does not name a request this node sent to you")
    error = data.get("error") or {}
    _set_state(ctx, req, "rejected", f"{error.get('code', '')}: {error.get('message', '')}".strip(": "))


def _on_published(ctx: NodeContext, caller: str, source: str, data: dict[str, Any]) -> None:
    partner = repo.partner_row(ctx.session, caller)
    if partner is None or not partner.is_supplier or not partner.node_url:
        return  # news from someone we do not buy from: nothing to fetch
    for pf_id in data["pfIds"]:
        outbox.enqueue(ctx.session, partner.node_url, caller, outbox.FETCH_FOOTPRINT, {"pfId": pf_id}, ctx.now())


# receipt and propagation --------------------------------------------------------------------------------------------


def receive_footprint(
    ctx: NodeContext, sender: str, pf: dict[str, Any], refusals: list[str] | None = None
) -> UpstreamFootprint | None:
    """Verify and store a supplier's footprint, then recompute what depends on it. A bad one is refused and recorded
    (and its reason appended to ``refusals`` when given)."""
    try:
        row = _verify_and_store(ctx, sender, pf)
    except (InvalidSignature, ValidationFailed, KeyError, TypeError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "detail", None) or repr(exc)
        if refusals is not None:
            refusals.append(str(reason))
        log.warning("refused footprint %s from %s: %s", pf.get("id") if isinstance(pf, dict) else "?", sender, reason)
        audit.append(
            ctx.session,
            sender,
            "footprint.refused",
            str(pf.get("id", "")) if isinstance(pf, dict) else "",
            reason=reason,
        )
        return None
    if row is not None:
        propagate(ctx, sender, row.product_id)
    return row


def _verify_and_store(ctx: NodeContext, sender: str, pf: dict[str, Any]) -> UpstreamFootprint | None:
    ext = pact.find_extension(pf)
    if ext is None or not ext.get("attestation"):
        raise InvalidSignature("footprint carries no attestation")
    if ctx.identity is None or ctx.identity.trust is None:
        raise InvalidSignature("this node has no trust anchors to verify attestations")
    verified = verify_attestation(ext["attestation"], ctx.identity.trust, at=ctx.now(), audience=ctx.company_id)
    claims = verified.claims
    if claims.issuer != sender or sender not in pf.get("companyIds", []):
        raise InvalidSignature(f"attestation issuer {claims.issuer} is not the sender {sender}")
    if claims.footprint_id != pf["id"]:
        raise InvalidSignature("attestation is for another footprint")
    if {p.lower() for p in claims.product_ids} != {p.lower() for p in pf["productIds"]}:
        raise InvalidSignature("attestation product ids differ from the footprint")
    if Decimal(pf["pcf"]["pcfExcludingBiogenicUptake"]) != claims.total:
        raise InvalidSignature("footprint total differs from the attested total")
    if claims.declared_unit != pf["pcf"]["declaredUnitOfMeasurement"]:
        raise InvalidSignature("declared unit differs from the attested one")
    # the usual case, a footprint not held yet, in one prepared query (the row, with its evidence and PACT JSON, is
    # loaded only when held)
    held_id = pf["id"].lower()  # as record_upstream stores it: a peer may send the id in another case
    existing = (
        ctx.session.exec(select(UpstreamFootprint).where(UpstreamFootprint.footprint_id == held_id)).first()
        if repo.upstream_held(ctx.session, held_id)
        else None
    )
    if existing is not None:
        if pf.get("status") == "Deprecated" and existing.status != "Deprecated":
            existing.status = "Deprecated"
            ctx.session.add(existing)
        certifications = ext.get("certifications") or []
        if certifications != existing.certifications:
            # the same footprint, now certified: keep the news and pass it on to our own customers
            existing.certifications = certifications
            existing.pact = pf
            ctx.session.add(existing)
            audit.append(ctx.session, sender, "certification.received", pf["id"], count=len(certifications))
            republish(ctx, sender, existing.product_id)
        return None
    stages = claims.stages.as_dict()
    body = s.UpstreamFootprintCreate.model_validate(
        {
            "footprintId": pf["id"],
            "supplierCompanyId": sender,
            "productId": claims.product_ids[0],
            "declaredUnit": claims.declared_unit,
            "stages": {st.value: str(stages[st]) for st in STAGES},
            "primaryDataShare": str(claims.primary_data_share),
            "dqr": claims.data_quality.model_dump(mode="json"),
        }
    )
    try:
        row = footprints.record_upstream(
            ctx,
            body,
            source="peer",
            attestation=ext["attestation"],
            evidence=ext.get("evidence"),
            pact=pf,
            certifications=ext.get("certifications") or [],
            not_held=True,
        )  # the look-up above was for the id it stores
    except footprints.AlreadyHeld:
        return None  # the same footprint, stored by an answer that arrived at the same moment
    audit.append(ctx.session, sender, "footprint.received", pf["id"], digest=verified.digest)
    return row


def propagate(ctx: NodeContext, supplier: str, product_urn: str) -> None:
    """Recompute our products that use this input; publish new versions; answer requests that were waiting."""
    todo = repo.products_using_upstream(ctx.session, supplier, product_urn)
    seen: set[str] = set()
    while todo:
        product_id = todo.pop(0)
        if product_id in seen:
            continue
        seen.add(product_id)
        product = ctx.session.get(Product, product_id)
        if product is None:
            continue
        if product.manual_confirmation and repo.active_footprint(ctx.session, product_id) is not None:
            audit.append(ctx.session, ctx.company_id, "footprint.awaiting-confirmation", product_id)
            continue
        try:
            fp, changed = footprints.compute(ctx, product_id)
        except MissingUpstream:
            continue
        waiting = pending_incoming(ctx, product_id)
        if changed:
            # customers with a request open get the footprint in the answer; the others hear of the new version
            publish(ctx, product, fp, skip={r.company_id for r in waiting})
            for urn in product.product_ids:
                todo.extend(repo.products_using_upstream(ctx.session, ctx.company_id, urn))
        answered: set[str] = set()
        for req in waiting:
            # fp is the active footprint; new (changed), it has no attestation for a customer not answered above
            attempt_fulfil(ctx, req, active=fp, fresh=changed and req.company_id not in answered)
            answered.add(req.company_id)


def republish(ctx: NodeContext, supplier: str, product_urn: str) -> None:
    """Announce our active footprints that use this input again (their extension data changed, not their values)."""
    for product_id in repo.products_using_upstream(ctx.session, supplier, product_urn):
        product = ctx.session.get(Product, product_id)
        fp = repo.active_footprint(ctx.session, product_id)
        if product is not None and fp is not None:
            publish(ctx, product, fp)


def pending_incoming(ctx: NodeContext, product_id: str) -> list[CfpRequest]:
    return repo.pending_incoming(ctx.session, product_id)


def publish(ctx: NodeContext, product: Product, fp: Footprint, skip: set[str] | None = None) -> int:
    """Tell every customer holding a grant on the product that a new version exists (PublishedEvent)."""
    sent = 0
    for company_id in repo.grantees(ctx.session, product.id):
        if skip and company_id in skip:
            continue
        partner = repo.partner_row(ctx.session, company_id)
        target = partner.node_url if partner else None
        if not target:
            continue
        event = pact.cloud_event(pact.PUBLISHED, source_url(ctx), {"pfIds": [fp.id]}, at=ctx.now())
        outbox.enqueue(ctx.session, target, company_id, outbox.SEND_EVENT, event, ctx.now())
        sent += 1
    return sent


def compute_and_publish(ctx: NodeContext, product_id: str) -> tuple[Footprint, bool]:
    """The operator's "compute": a new version is published to customers and flows on to internal users."""
    fp, changed = footprints.compute(ctx, product_id)
    if changed:
        product = footprints.get_product(ctx, product_id)
        publish(ctx, product, fp)
        for urn in product.product_ids:
            propagate(ctx, ctx.company_id, urn)
        for req in pending_incoming(ctx, product_id):
            attempt_fulfil(ctx, req)
    return fp, changed
