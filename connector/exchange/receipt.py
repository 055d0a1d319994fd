"""Receipt of a supplier's footprints: an answer to our request, or a new version it announced. A footprint with an
attestation is verified against it before anything is stored (a bad one is refused); one without is stored as an
entered value with its provenance (the partner, the document as received; decision 0019). A new one flows on
(propagation). A footprint we did not ask for (announced, or pushed) is taken only for a part one of our BOM lines
buys from its sender (:mod:`.bought`). Every refused footprint is told to the supplier (the ``refused`` intent,
decision 0019): an answer refused as a whole, the footprints refused in an answer otherwise accepted, and a new
version fetched after the supplier announced it or refused unread.

A footprint arrives as its protocol's document; the protocol's adapter reads it (``read_footprint``), so nothing here
knows a wire format. The document is stored as received (``UpstreamFootprint.pact``).
"""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal
from typing import Any, NamedTuple

from .. import protocols
from ..attestation import verify_attestation
from ..decimals import format_decimal
from ..errors import InvalidSignature, ValidationFailed
from ..services import audit, footprints
from ..services import models as s
from ..services.context import NodeContext
from ..services.footprint_import import ForeignFootprint
from ..stages import STAGES
from ..storage import repositories as repo
from ..storage import requests as request_rows
from ..storage import supplier_data, upstream_footprints
from ..storage.tables import UpstreamFootprint
from ..strict_json import canonical_json
from . import bought, outbox, propagation, requests

log = logging.getLogger("connector.exchange")


class Refusal(NamedTuple):
    """One footprint of an answer or a fetch this node refused: its id as the document gave it (each version of a
    footprint has its own id; "(no id)" when it had none), its version when the document states one, and why."""

    footprint_id: str
    version: str | None
    reason: str

    def line(self) -> str:
        version = f" version {self.version}" if self.version else ""
        return f"footprint {self.footprint_id}{version}: {self.reason}"


def refusals_text(refusals: list[Refusal]) -> str:
    """The refusals as one line for a request's reason: each footprint named, with why."""
    return "; ".join(r.line() for r in refusals)


def receive_answer(
    ctx: NodeContext, caller: str, request_id: str, documents: list[Any], *, protocol: str = protocols.DEFAULT
) -> None:
    """A supplier's answer to a request this node sent it: each footprint document verified and stored on its own
    (a bad one refused and recorded), then the request closed (fulfilled, or refused with why). The supplier is told
    of every refused footprint (no silent refusals): of the whole answer, or of the ones refused in an answer
    otherwise accepted (the request stays ``fulfilled``, its reason naming them)."""
    found = request_rows.outgoing_request_answered(ctx.session, request_id)
    if found is None or found.company_id != caller:
        raise requests.NotOurRequest("the answer names no request this node sent to you")
    refusals: list[Refusal] = []
    footprint_ids = []
    for pf in documents:
        before = len(refusals)
        row = receive_footprint(ctx, caller, pf, refusals, protocol=protocol, asked=found.product_ids)
        if row is not None:
            footprint_ids.append(row.footprint_id)
        elif len(refusals) == before and isinstance(pf, dict):
            footprint_ids.append(str(pf.get("id", "")).lower())  # verified, and held already: it answers too
    partial = f"refused {len(refusals)} of {len(documents)} footprints: {refusals_text(refusals)}"[:2000]
    if found.state == "fulfilled":
        # a repeated or late answer never undoes a fulfilled request; a new footprint in it is kept with the others
        added = [f for f in footprint_ids if f not in found.footprint_ids]
        values: dict[str, Any] = {"footprint_ids": [*found.footprint_ids, *added]} if added else {}
        if refusals:  # a later answer (or a Catena-X update naming the request) refused in all or part
            later = (
                f"refused {len(refusals)} of {len(documents)} footprints of a later answer: {refusals_text(refusals)}"
            )
            values["reason"] = later[:2000]
            _tell_refused(ctx, caller, request_id, values["reason"], protocol, refusals, whole=False)
        if values:
            request_rows.update_request(ctx.session, found.id, updated_at=ctx.now(), **values)
        return
    state: dict[str, Any] = {"state": "fulfilled" if footprint_ids else "pending"}
    if not footprint_ids and refusals:
        # Closed, with why: an open ("pending") request would make asking again return this one, and nothing would
        # ever ask again; the operator sees the reason and can ask anew (or the supplier can publish a new version).
        state = {"state": "refused", "reason": f"answer refused: {refusals_text(refusals)}"[:2000]}
        _tell_refused(ctx, caller, request_id, state["reason"], protocol, refusals, whole=True)
    elif refusals:
        # accepted in part: fulfilled by what was accepted, and the reason names what was not (both operators see it)
        state["reason"] = partial
        _tell_refused(ctx, caller, request_id, partial, protocol, refusals, whole=False)
    request_rows.update_request(ctx.session, found.id, footprint_ids=footprint_ids, updated_at=ctx.now(), **state)


class Fetched(NamedTuple):
    """What became of a footprint received outside any request of ours."""

    row: UpstreamFootprint | None
    """The footprint stored; None when it was refused, held already, or not bought."""
    bought: bool
    """False when no BOM line of ours buys one of its product ids from the sender: refused unread (decision 0019)."""


def receive_fetched(ctx: NodeContext, sender: str, document: Any, *, protocol: str = protocols.DEFAULT) -> Fetched:
    """A footprint a supplier announced (a new version), fetched or pushed to us outside any request of ours. Taken
    only when one of our BOM lines buys one of its product ids from that supplier (:mod:`.bought`); then received as
    :func:`receive_footprint` does. When it is refused, the supplier is told (no request of ours names it) and, when
    a line buys it, the latest answered request of each such line names it in its reason, so our operator sees it
    where the line's supply is shown (the supplier-data view); a footprint nobody here buys is in the audit log."""
    says = bought.named(document, protocol)
    if says is not None and not bought.buys(ctx, sender, says.product_ids):
        as_sent, version = _named(document)
        refused = Refusal(says.footprint_id[:100] if says.footprint_id else as_sent, version, bought.NOT_BOUGHT)
        _refuse_unread(ctx, sender, [refused], protocol)
        return Fetched(None, False)
    refusals: list[Refusal] = []
    row = receive_footprint(ctx, sender, document, refusals, protocol=protocol)
    if refusals:
        reason = f"a new version was refused: {refusals_text(refusals)}"[:2000]
        _note_on_lines(ctx, sender, says.product_ids if says is not None else _raw_product_ids(document), reason)
        _tell_refused(ctx, sender, None, reason, protocol, refusals, whole=False)
    return Fetched(row, True)


def _raw_product_ids(document: Any) -> list[str]:
    product_ids = document.get("productIds") if isinstance(document, dict) else None
    return [str(p) for p in product_ids] if isinstance(product_ids, list) else []


def _refuse_unread(ctx: NodeContext, sender: str, refusals: list[Refusal], protocol: str) -> None:
    """Footprints refused before they were read (announced or pushed, and for no part we buy from ``sender``): each in
    our audit log, and the supplier told when its protocol can say it."""
    for refused in refusals:
        audit.append(ctx.session, sender, "footprint.refused", refused.footprint_id, reason=refused.reason)
    log.info("refused %d footprint(s) from %s: %s", len(refusals), sender, refusals[0].reason)
    _tell_refused(ctx, sender, None, f"refused: {refusals_text(refusals)}"[:2000], protocol, refusals, whole=False)


def _note_on_lines(ctx: NodeContext, supplier: str, product_ids: list[str], reason: str) -> None:
    """Write ``reason`` on the latest request of each of our BOM lines buying one of ``product_ids`` from the
    supplier, when that request is answered (a pending one gets its own answer); its state is kept."""
    lines = [
        line.id
        for line in supplier_data.supplier_lines_for(ctx.session, product_ids)
        if line.supplier_company_id == supplier
    ]
    for latest in supplier_data.latest_requests(ctx.session, lines).values():
        if latest.state != "pending":
            request_rows.update_request(ctx.session, latest.id, reason=reason, updated_at=ctx.now())


def _tell_refused(
    ctx: NodeContext,
    supplier: str,
    request_id: str | None,
    reason: str,
    protocol: str,
    refusals: list[Refusal],
    *,
    whole: bool,
) -> None:
    """The supplier learns that footprints it sent were refused, and why (no silent refusals), when its protocol can
    say it (``refused`` among its adapter's intents); otherwise only our operator sees it (the request, the audit)."""
    partner = repo.partner_row(ctx.session, supplier)
    if partner is None or not partner.node_url or outbox.REFUSED not in protocols.adapter(protocol).intents:
        return
    body = {
        "id": str(uuid.uuid4()),
        "at": outbox.iso(ctx.now()),
        "requestId": request_id,
        "reason": reason,
        "whole": whole,
        "footprints": [
            {"footprintId": r.footprint_id, "version": r.version, "reason": r.reason[:1000]} for r in refusals[:1000]
        ],
    }
    outbox.enqueue(ctx.session, partner.node_url, supplier, outbox.REFUSED, body, ctx.now(), protocol=protocol)


def on_published(ctx: NodeContext, caller: str, footprint_ids: list[str], *, protocol: str = protocols.DEFAULT) -> None:
    """A supplier announced new footprint versions: each fetched (by the outbox, over ``protocol``) and received. Not
    fetched when no BOM line of ours buys anything from it (no footprint of it can be for us): refused unread."""
    partner = repo.partner_row(ctx.session, caller)
    if partner is None or not partner.is_supplier or not partner.node_url:
        return  # news from someone we do not buy from: nothing to fetch
    if not bought.buys_from(ctx, caller):
        _refuse_unread(ctx, caller, [Refusal(str(p)[:100], None, bought.BUYS_NOTHING) for p in footprint_ids], protocol)
        return
    for pf_id in footprint_ids:
        fetch = {"footprintId": pf_id}
        outbox.enqueue(ctx.session, partner.node_url, caller, outbox.FETCH, fetch, ctx.now(), protocol=protocol)


def receive_footprint(
    ctx: NodeContext,
    sender: str,
    pf: dict[str, Any],
    refusals: list[Refusal] | None = None,
    *,
    protocol: str = protocols.DEFAULT,
    asked: list[str] | None = None,
) -> UpstreamFootprint | None:
    """Verify and store a supplier's footprint (a document of ``protocol``), then recompute what depends on it. A
    bad one is refused and recorded (and its reason appended to ``refusals`` when given). An answer to a request is
    filed under the product id the request ``asked`` for when the footprint carries it (a supplier may list our
    part number after its own: Ouranos' linked parts), else under its first."""
    try:
        row = _verify_and_store(ctx, sender, protocols.adapter(protocol).read_footprint(pf), protocol, asked)
    except (InvalidSignature, ValidationFailed, KeyError, TypeError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or getattr(exc, "detail", None) or repr(exc)
        if refusals is not None:
            refusals.append(Refusal(*_named(pf), str(reason)))
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
        propagation.propagate(ctx, sender, row.product_id)
    return row


def _named(pf: Any) -> tuple[str, str | None]:
    """How a refusal names a footprint: its id as sent (a version's own id in PACT v3; "(no id)" without one) and the
    version the document states, if any (PACT v2 has one)."""
    if not isinstance(pf, dict):
        return "(not a JSON object)", None
    version = pf.get("version")
    shown = str(version)[:20] if isinstance(version, int | str) and not isinstance(version, bool) else None
    return str(pf.get("id") or "(no id)")[:100], shown or None


def _verify_and_store(
    ctx: NodeContext,
    sender: str,
    got: protocols.FootprintDocument,
    protocol: str = protocols.DEFAULT,
    asked: list[str] | None = None,
) -> UpstreamFootprint | None:
    attestation = got.attestation
    if not attestation:
        return _store_entered(ctx, sender, got, protocol)
    if ctx.identity is None or ctx.identity.trust is None:
        raise InvalidSignature("this node has no trust anchors to verify attestations")
    verified = verify_attestation(attestation, ctx.identity.trust, at=ctx.now(), audience=ctx.company_id)
    claims = verified.claims
    if claims.issuer != sender or sender not in got.company_ids:
        raise InvalidSignature(f"attestation issuer {claims.issuer} is not the sender {sender}")
    if claims.footprint_id != got.id:
        raise InvalidSignature("attestation is for another footprint")
    if {p.lower() for p in claims.product_ids} != {p.lower() for p in got.product_ids}:
        raise InvalidSignature("attestation product ids differ from the footprint")
    if Decimal(got.total()) != claims.total:
        raise InvalidSignature("footprint total differs from the attested total")
    if claims.declared_unit != got.declared_unit():
        raise InvalidSignature("declared unit differs from the attested one")
    pf = got.document
    # the usual case, a footprint not held yet, in one prepared query (the row, with its evidence and PACT JSON, is
    # loaded only when held)
    held_id = got.id.lower()  # as record_upstream stores it: a peer may send the id in another case
    existing = upstream_footprints.held(ctx.session, held_id)
    if existing is not None:
        if got.status == "Deprecated" and existing.status != "Deprecated":
            existing.status = "Deprecated"
            ctx.session.add(existing)
        certifications = got.certifications
        if certifications != existing.certifications:
            # the same footprint, now certified: keep the news and pass it on to our own customers
            existing.certifications = certifications
            existing.pact = pf
            ctx.session.add(existing)
            audit.append(ctx.session, sender, "certification.received", got.id, count=len(certifications))
            propagation.republish(ctx, sender, existing.product_id)
        return None
    stages = claims.stages.as_dict()
    body = s.UpstreamFootprintCreate.model_validate(
        {
            "footprintId": got.id,
            "supplierCompanyId": sender,
            "productId": _filed_under(claims.product_ids, asked if asked is not None else _used(ctx, sender, claims)),
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
            attestation=attestation,
            evidence=got.evidence,
            pact=pf,
            certifications=got.certifications,
            not_held=True,
        )  # the look-up above was for the id it stores
    except footprints.AlreadyHeld:
        return None  # the same footprint, stored by an answer that arrived at the same moment
    audit.append(ctx.session, sender, "footprint.received", got.id, digest=verified.digest)
    return row


def _used(ctx: NodeContext, sender: str, claims: Any) -> list[str]:
    """For a footprint not answering a request (announced, then fetched) with several product ids: those a line of
    ours names for that supplier, so a new version is filed where the one it replaces was."""
    ids = claims.product_ids
    if len(ids) < 2:
        return []
    lines = supplier_data.supplier_lines_for(ctx.session, ids)
    return [line.supplier_product_id for line in lines if line.supplier_company_id == sender]


def _filed_under(product_ids: list[str], asked: list[str] | None) -> str:
    wanted = {urn.lower() for urn in asked or []}
    return next((urn for urn in product_ids if urn.lower() in wanted), product_ids[0])


def _store_entered(
    ctx: NodeContext, sender: str, got: protocols.FootprintDocument, protocol: str
) -> UpstreamFootprint | None:
    """A footprint a partner sent without an attestation: stored as an entered value (source kind
    ``<protocol>-partner``, entered by ``partner:<sender>``, the document as received in canonical JSON), never as an
    attested one. A footprint that names another company than its sender is refused."""
    if sender not in got.company_ids:
        raise ValidationFailed(f"footprint names the companies {got.company_ids}, not the sender {sender}")
    values: ForeignFootprint = got.entered_values()
    if upstream_footprints.held(ctx.session, got.id.lower()) is not None:
        return None  # held already (a footprint id names one immutable footprint)
    if values.declared_amount <= 0:
        raise ValidationFailed("declaredUnitAmount must be greater than zero")
    per_unit = values.per_unit()
    # the product id our BOM lines buy it under, when one does (ids compare case-insensitively)
    ours = [
        line.supplier_product_id
        for line in supplier_data.supplier_lines_for(ctx.session, values.product_ids)
        if line.supplier_company_id == sender
    ]
    body = s.UpstreamFootprintCreate.model_validate(
        {
            "footprintId": got.id,
            "supplierCompanyId": sender,
            "productId": ours[0] if ours else values.product_ids[0],
            "declaredUnit": values.declared_unit,
            "stages": {st.value: format_decimal(per_unit[st]) for st in STAGES},
            "primaryDataShare": None
            if values.primary_data_share is None
            else format_decimal(values.primary_data_share),
            "dqr": values.dqr,
        }
    )
    provenance = footprints.Provenance(
        f"{protocol}-partner", f"partner:{sender}", document=canonical_json(got.document), media_type="application/json"
    )
    try:
        row = footprints.record_upstream(
            ctx, body, source="peer", pact=got.document, not_held=True, provenance=provenance
        )
    except footprints.AlreadyHeld:
        return None
    audit.append(ctx.session, sender, "footprint.received", got.id, basis="entered", digest=row.document_sha256)
    return row
