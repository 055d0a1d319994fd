"""The OEM's Art. 7 declaration from the pack footprint it holds; the verifier's verification and certification."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from ..aggregation import claimed_coverage, claimed_entered
from ..attestation import AttestationClaims, verify_attestation
from ..certification import certify, decode_certification
from ..declaration import (
    AttestedCoverage,
    ConformityInput,
    DeclarationInput,
    build_declaration_of_conformity,
    compute_declaration,
    declared_coverage,
)
from ..declaration import Declaration as DeclarationDoc
from ..declaration.models import CertificationInput, SupplierContributionInput
from ..declaration.signing import EvidenceBundle, build_bundle, sign_declaration
from ..errors import ConnectorError, Forbidden, MissingUpstream, NotFound, ValidationFailed
from ..storage import upstream_footprints
from ..storage.tables import Attestation, DeclarationRecord, Footprint, Product, UpstreamFootprint
from ..verification import VerificationReport, verify_bundle
from . import audit
from .context import NodeContext


class NotConfigured(ConnectorError):
    status = 409
    type_ = "not-configured"
    title = "This node lacks the identity for this"


def _pack_footprint(ctx: NodeContext, product_id: str) -> UpstreamFootprint:
    held = upstream_footprints.newest_active(ctx.session, product_id)
    if held is None or not held.attestation:
        raise MissingUpstream(
            "no attested footprint of %(product)s is held yet; request it from the pack maker",
            code="declaration.pack-missing",
            params={"product": product_id},
        )
    return held


def certification_inputs(ctx: NodeContext, entries: list[Any], at: datetime) -> list[CertificationInput]:
    """Certifications that travelled down with the pack footprint, as the declaration lists them."""
    out = []
    trust = ctx.identity.trust if ctx.identity else None
    for entry in entries:
        token: Any  # what travelled: a certification's compact JWS, refused by decode_certification otherwise
        token, depth = (entry.get("token"), int(entry.get("depth", 0))) if isinstance(entry, dict) else (entry, 0)
        status = "invalid"
        verifier = company = "unknown"
        when = at.date()
        if trust is not None:
            try:
                check = decode_certification(token, trust, at=at)
                status, verifier, company = "valid", check.verifier.name, check.certified_company
                when = check.issued_at.date()
            except ConnectorError:
                pass
        out.append(
            CertificationInput(
                tier=depth + 1,
                company_name=company,
                company_id=company if company != "unknown" else None,
                verifier=verifier,
                date=when,
                status=status,
            )
        )
    return out


def coverage_of_pack(claims: AttestationClaims) -> AttestedCoverage:
    """The declaration's coverage: the pack attestation's clear claim (per stage, overall, and the entered values
    below it as a count). The pack is this node's only tier-1 input and a declaration needs its attestation, so no
    tier-1 value of this node is entered; the pack maker's entered inputs and deeper ones are counted, not named
    (this node cannot see whose they are)."""
    coverage = claimed_coverage(claims)
    return declared_coverage(coverage.stages, coverage.total, entered_deeper_tiers=claimed_entered(claims))


def declare(ctx: NodeContext, inp: DeclarationInput) -> DeclarationRecord:
    """Compute, sign and bundle the declaration of ``inp.pack_product_id`` from the attested footprint held."""
    identity = ctx.identity
    if identity is None or not identity.can_sign or identity.trust is None or identity.role != "oem":
        raise NotConfigured("declarations are signed with an oem-role certificate; this node has none")
    if inp.issuer_company_id and inp.issuer_company_id != ctx.company_id:
        raise ValidationFailed("issuerCompanyId must be this node's company id", code="declaration.not-issuer")
    held = _pack_footprint(ctx, inp.pack_product_id)
    at = ctx.now()
    verified = verify_attestation(held.attestation or "", identity.trust, at=at, audience=ctx.company_id)
    claims = verified.claims
    pf = held.pact or {}
    contribution = SupplierContributionInput(
        company_name=pf.get("companyName", held.supplier_company_id),
        company_id=held.supplier_company_id,
        product_id=held.product_id,
        product_name=pf.get("productNameCompany"),
        quantity=Decimal(1),
        declared_unit=claims.declared_unit,
        kg_co2e_per_declared_unit=claims.total,
    )
    certifications = certification_inputs(ctx, held.certifications, at)
    declaration_id = str(uuid.uuid4())
    document = compute_declaration(
        inp,
        claims.stages.as_dict(),
        supplier_contributions=[contribution],
        certifications=certifications,
        at=at,
        declaration_id=f"urn:uuid:{declaration_id}",
        attested_coverage=coverage_of_pack(claims),
    )
    token = sign_declaration(document, held.attestation or "", identity.key, identity.chain, at=at)  # type: ignore[arg-type]
    tokens: list[Any] = [e.get("token") if isinstance(e, dict) else e for e in held.certifications]
    bundle = build_bundle(token, held.attestation or "", held.evidence, certifications=tokens, crls=identity.crls)
    row = DeclarationRecord(
        id=declaration_id,
        battery_model=inp.battery_model,
        pack_product_id=inp.pack_product_id,
        document=document.model_dump(mode="json", by_alias=True),
        signed=token,
        bundle=bundle.model_dump(mode="json"),
        created_at=at,
    )
    ctx.session.add(row)
    ctx.session.flush()
    audit.append(
        ctx.session, ctx.company_id, "declaration.issued", row.id, model=inp.battery_model, pack=held.footprint_id
    )
    return row


def get_declaration(ctx: NodeContext, declaration_id: str) -> DeclarationRecord:
    row = ctx.session.get(DeclarationRecord, declaration_id)
    if row is None:
        raise NotFound(
            "declaration %(declaration)s not found",
            code="declaration.not-found",
            params={"declaration": declaration_id},
        )
    return row


def document_of(row: DeclarationRecord) -> DeclarationDoc:
    return DeclarationDoc.model_validate(row.document)


def bundle_of(row: DeclarationRecord) -> dict[str, Any]:
    """The stored bundle as JSON, written again through the model: a bundle stored before evidence packages left out
    their absent optional JWE members (RFC 7516) carried them as nulls, which other JOSE libraries refuse."""
    return EvidenceBundle.model_validate(row.bundle).to_json_dict()


def conformity(row: DeclarationRecord, data: ConformityInput) -> Any:
    return build_declaration_of_conformity(document_of(row), data)


def self_check(ctx: NodeContext, row: DeclarationRecord) -> VerificationReport:
    """What the OEM can check itself: signatures, chains, audience, digests; never the sealed evidence."""
    if ctx.identity is None or ctx.identity.trust is None:
        raise NotConfigured("this node has no trust anchors")
    return verify_bundle(EvidenceBundle.model_validate(row.bundle), ctx.identity.trust, at=ctx.now())


# verifier side ----------------------------------------------------------------------------------------------------


def _verifier(ctx: NodeContext) -> Any:
    identity = ctx.identity
    if identity is None or not identity.can_sign or identity.trust is None or identity.role != "verifier":
        raise NotConfigured("only a node holding a verifier-role certificate can open evidence")
    return identity


def verify(ctx: NodeContext, bundle: dict[str, Any], *, require_attested: bool = False) -> VerificationReport:
    """Verify a bundle with this verifier node's key (opens every evidence package sealed to it); with
    ``require_attested`` any entered input in the tree is a failure."""
    identity = _verifier(ctx)
    report = verify_bundle(
        bundle,
        identity.trust,
        at=ctx.now(),
        verifier_key=identity.key,
        verifier_cert=identity.chain[0],
        crls=identity.crls,
        require_attested=require_attested,
    )
    audit.append(
        ctx.session,
        ctx.company_id,
        "bundle.verified",
        report.root.attestation_id or "",
        valid=report.valid,
        failures=len(report.failures),
    )
    return report


def certify_for(ctx: NodeContext, caller: str, attestation: str, evidence: dict[str, Any], scope: str | None) -> str:
    """A supplier asks this verifier to certify one of its attestations (the caller must be its issuer)."""
    identity = _verifier(ctx)
    issuer = pact_issuer(attestation)
    if issuer != caller:
        raise Forbidden("a company can only ask to certify its own attestations")
    kwargs: dict[str, Any] = {"scope": scope} if scope else {}
    token = certify(
        attestation, evidence, identity.key, identity.chain, identity.trust, at=ctx.now(), crls=identity.crls, **kwargs
    )
    audit.append(ctx.session, caller, "attestation.certified", issuer)
    return token


def pact_issuer(sd_jwt: str) -> str | None:
    from ..attestation.jws import unverified_payload

    return unverified_payload(sd_jwt.split("~", 1)[0]).get("iss")


def store_certification(ctx: NodeContext, attestation_id: str, token: str) -> Attestation:
    row = ctx.session.get(Attestation, attestation_id)
    if row is None:
        raise NotFound(f"attestation {attestation_id} not found")
    row.certifications = [*row.certifications, {"token": token, "depth": 0}]
    ctx.session.add(row)
    audit.append(ctx.session, ctx.company_id, "certification.received", row.footprint_id)
    # tell the customer: the same footprint id, fetched again, now carries the certification
    from ..exchange.propagation import publish

    fp = ctx.session.get(Footprint, row.footprint_id)
    product = ctx.session.get(Product, fp.product_id) if fp else None
    if fp is not None and product is not None:
        publish(ctx, product, fp)
    return row
