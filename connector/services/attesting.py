"""Sign what a node passes downstream: one attestation per footprint and customer, with sealed evidence."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from ..aggregation import coverage_claim, coverage_of_inputs
from ..attestation import (
    AttestationClaims,
    EvidenceDocument,
    HiddenClaims,
    InputClaim,
    MalformedEvidence,
    Methodology,
    ReferencePeriod,
    StageValues,
    attestation_digest,
    issue_attestation,
    seal_evidence_tree,
)
from ..attestation.jws import unverified_payload
from ..attestation.models import ClaimValues
from ..errors import ConnectorError
from ..identity import load_certificates
from ..periods import reference_period
from ..storage import pact_reads, upstream_footprints
from ..storage import repositories as repo
from ..storage.tables import Attestation, Footprint, Product
from . import audit
from .context import NodeContext

METHODOLOGY = Methodology(rule_set="EU-2023/1542-Art7-CFB", version="2025")
DEFAULT_DQR = {"technological": "3", "geographical": "3", "temporal": "3"}


class NotIssuedYet(Exception):
    """:func:`attestation_for` with ``issue=False`` found none: the caller must issue it in a write transaction."""


class CannotAttest(ConnectorError):
    status = 409
    type_ = "cannot-attest"
    title = "The footprint cannot be attested"


def attestation_for(
    ctx: NodeContext,
    fp: Footprint,
    product: Product,
    audience: str,
    verifier_pems: list[str],
    *,
    issue_missing: bool = True,
    fresh: bool = False,
) -> Attestation:
    """The attestation of ``fp`` for ``audience``, issued now if this node has none for these verifiers yet
    (``issue_missing=False``: raise :class:`NotIssuedYet` instead, for read-only transactions). ``fresh=True``: the
    caller knows there is none (``fp`` was created in this transaction and nothing issued from it to ``audience``)."""
    verifiers = sorted(set(verifier_pems))
    if not fresh:
        for row in repo.attestations_for(ctx.session, fp.id, audience):
            if sorted(row.verifiers) == verifiers:
                return row
    if not issue_missing:
        raise NotIssuedYet(fp.id)
    return issue(ctx, fp, product, audience, verifiers)


def issue(ctx: NodeContext, fp: Footprint, product: Product, audience: str, verifier_pems: list[str]) -> Attestation:
    identity = ctx.identity
    if identity is None or identity.key is None or not identity.can_sign or identity.trust is None:
        raise CannotAttest("this node has no signing certificate and trust anchors configured")
    at = ctx.now()
    start, end = reference_period(product, fp)
    claims = AttestationClaims(
        issuer=ctx.company_id,
        audience=audience,
        footprint_id=fp.id,
        product_ids=list(product.product_ids),
        declared_unit=product.declared_unit,
        stages=StageValues.from_mapping(fp.stages),
        total=Decimal(str(fp.total)),
        reference_period=ReferencePeriod(start=start, end=end),
        methodology=METHODOLOGY,
        primary_data_share=fp.primary_data_share if fp.primary_data_share is not None else Decimal(0),
        data_quality=fp.dqr or DEFAULT_DQR,
        rounding=fp.rounding,
    )
    inputs: list[InputClaim] = []
    upstream: list[tuple[str, Any]] = []
    documents: dict[str, EvidenceDocument] = {}
    upstream_claims: dict[str, ClaimValues] = {}
    for item in fp.inputs:
        entered = _entered_input(ctx, item)
        if entered is not None:
            claim, document = entered
            inputs.append(claim)
            if document is not None and claim.document_digest is not None:
                documents[claim.document_digest] = document
            continue
        sd_jwt, evidence = _upstream_attestation(ctx, item, verifier_pems)
        digest = attestation_digest(sd_jwt)
        upstream_claims[digest] = clear_claims(sd_jwt)
        inputs.append(
            InputClaim(
                attestation_digest=digest,
                quantity=Decimal(item["quantity"]),
                unit=item["unit"],
                upstream=StageValues.from_mapping(item["upstreamStages"]),
                declared_unit=item["upstreamUnit"],
            )
        )
        upstream.append((sd_jwt, evidence))
    hidden = HiddenClaims(own_emissions=StageValues.from_mapping(fp.own_stages), inputs=inputs)
    coverage, entered_below, _ = coverage_of_inputs(hidden.own_emissions.as_dict(), inputs, upstream_claims.get)
    claims = claims.model_copy(update={"attested_coverage": coverage_claim(coverage), "entered_inputs": entered_below})
    issued = issue_attestation(
        claims,
        hidden,
        identity.key,
        identity.chain,
        at=at,
        valid_for=ctx.settings.attestation_validity,
    )
    sealed = None
    if verifier_pems:
        recipients = [load_certificates(p.encode()) for p in verifier_pems]
        # flat evidence (decision 0004, v2): our package names each input's package by id; the packages we
        # received are forwarded unchanged, ours added
        try:
            sealed = seal_evidence_tree(
                issued.sd_jwt, issued.disclosures, upstream, recipients, identity.trust, at, documents
            )
        except MalformedEvidence as exc:
            raise CannotAttest(f"the evidence received with an input cannot be passed on: {exc.detail}") from None
    row = Attestation(
        footprint_id=fp.id,
        audience=audience,
        sd_jwt=issued.sd_jwt,
        digest=issued.digest,
        disclosures=issued.disclosures,
        evidence=sealed,
        verifiers=sorted(set(verifier_pems)),
        created_at=at,
    )
    repo.insert_new(ctx.session, row)  # returned outside the session: never changed after issue
    audit.append(
        ctx.session,
        ctx.company_id,
        "attestation.issued",
        fp.id,
        audience=audience,
        digest=issued.digest,
        verifiers=len(verifier_pems),
    )
    return row


def clear_claims(sd_jwt: str) -> ClaimValues:
    """The clear claims of an attestation this node verified when it received it (or issued itself)."""
    subject = unverified_payload(sd_jwt.split("~", 1)[0]).get("credentialSubject", {})
    return ClaimValues.model_validate({k: v for k, v in subject.items() if k != "_sd"})


def _entered_input(ctx: NodeContext, item: dict[str, Any]) -> tuple[InputClaim, EvidenceDocument | None] | None:
    """The hidden claim of an input whose upstream value was entered (no attestation), with its source document
    when this node holds it; None for an attested input (or one of our own products)."""
    if item["supplierCompanyId"] == ctx.company_id:
        return None
    row = upstream_footprints.held(ctx.session, item["footprintId"])
    if row is None or row.attestation:
        return None
    entered_at = row.received_at if row.received_at.tzinfo else row.received_at.replace(tzinfo=UTC)
    claim = InputClaim(
        basis="entered",
        quantity=Decimal(item["quantity"]),
        unit=item["unit"],
        upstream=StageValues.from_mapping(item["upstreamStages"]),
        declared_unit=item["upstreamUnit"],
        document_digest=row.document_sha256,
        source_kind=row.source_kind or "document",
        entered_by=row.entered_by or f"source:{row.source}",
        entered_at=entered_at,
        supplier=row.supplier_company_id,
    )
    document = None
    if row.document is not None:
        document = EvidenceDocument.of(row.document, row.document_media_type or "application/octet-stream")
    return claim, document


def _upstream_attestation(ctx: NodeContext, item: dict[str, Any], verifier_pems: list[str]) -> tuple[str, Any]:
    """The attestation (and sealed evidence) behind one input of a footprint."""
    if item["supplierCompanyId"] == ctx.company_id:
        # one of our own products: attest it to ourselves so the chain of evidence stays whole
        own = ctx.session.get(Footprint, item["footprintId"])
        prod = repo.product_by_urn(ctx.session, item["productId"])
        if own is None or prod is None:
            raise CannotAttest(f"internal input {item['productId']} has no footprint")
        row = attestation_for(ctx, own, prod, ctx.company_id, verifier_pems)
        return row.sd_jwt, row.evidence
    up = repo.upstream_attestation(ctx.session, item["footprintId"])
    if up is None or not up[0]:
        raise CannotAttest(
            f"input {item['productId']} from {item['supplierCompanyId']} was recorded without an "
            "attestation; only attested inputs can be passed on as a signed footprint"
        )
    return up[0], up[1]


def extension_data(
    ctx: NodeContext, fp: Footprint, att: Attestation | None, upstream: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Our PACT extension: the four stage values, the attestation, the evidence (the id of its package and every
    package of its tree, decision 0004 v2), certifications.

    Certifications travel on down the chain: ours at depth 0, the ones our suppliers passed us one level deeper.
    """
    data: dict[str, Any] = {"stages": fp.stages, "rounding": fp.rounding}
    if att is not None:
        data["attestation"] = att.sd_jwt
        data["evidence"] = att.evidence
        data["certifications"] = [
            *att.certifications,
            *(upstream if upstream is not None else upstream_certifications(ctx, fp)),
        ]
    return data


def upstream_certifications(ctx: NodeContext, fp: Footprint) -> list[dict[str, Any]]:
    """The certifications our suppliers passed us with the inputs of ``fp``, one level deeper (one query)."""
    return certifications_of_inputs(
        fp, pact_reads.upstream_certifications(ctx.session, [i["footprintId"] for i in fp.inputs])
    )


def certifications_of_inputs(fp: pact_reads.RenderKeyFields, held: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """:func:`upstream_certifications` of ``fp`` from ``held`` (upstream footprint id -> its certifications, as
    ``pact_reads.upstream_certifications`` reads them): what the render key of ``fp``'s answer names."""
    return [
        {"token": entry["token"], "depth": int(entry.get("depth", 0)) + 1}
        for item in fp.inputs
        for entry in held.get(item["footprintId"], [])
        if isinstance(entry, dict) and entry.get("token")
    ]
