"""The attestation check: one attestation on its own, and (with the verifier's key) its evidence.

On its own: the signed-object checks, ``structure``, ``total``, ``audience`` (bound to the company that uses it) and
``certification`` (a valid certification bound to it). With the key: ``evidence`` (opened?), ``evidence binding``
(the package holds this attestation), ``disclosures`` (every digest committed) and ``arithmetic`` (stages = own +
Σ convert(quantity) × upstream, rounded with the declared rule). Its inputs are checked by the tree walk.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ..aggregation.engine import combine_stages
from ..attestation.attestation import (
    ATTESTING_ROLES,
    CheckedPayload,
    attestation_digest,
    check_payload,
    open_disclosures,
    presented_disclosures,
)
from ..attestation.evidence import EvidenceContent, NotARecipient, recipients_of
from ..attestation.jws import decode_compact
from ..attestation.models import SD_JWT_TYP, AttestationClaims, HiddenClaims, SealedEvidence, StageValues
from ..decimals import RoundingRule, format_decimal, parse_decimal
from ..errors import ConnectorError, InvalidSignature
from ..identity.keys import certificate_thumbprint
from ..identity.trust import CompanyIdentity
from ..stages import STAGES, Stage
from ..strict_json import strict_json_loads
from ..units import convert
from .entered import coverage_text
from .report import EvidenceStatus, VerificationNode
from .signed_objects import SignedObject, check_signed
from .walk_context import WalkContext

# --- reading an attestation for the report ------------------------------------------------------------------------


def digest_or_fail(node: VerificationNode, sd_jwt: str) -> str | None:
    """:func:`attestation_digest` of ``sd_jwt``; None (``format`` failed) when it is not an SD-JWT."""
    try:
        return attestation_digest(sd_jwt)
    except (InvalidSignature, AttributeError):
        node.fail("format", "not an SD-JWT attestation")
        return None


def _peek_claims(payload: dict[str, Any]) -> AttestationClaims | None:
    subject = payload.get("credentialSubject")
    if not isinstance(subject, dict):
        return None
    data = {k: v for k, v in subject.items() if k != "_sd"}
    try:
        return AttestationClaims.model_validate({**data, "issuer": payload.get("iss"), "audience": payload.get("aud")})
    except (ValidationError, ConnectorError):
        return None


def peek(node: VerificationNode, issuer_jwt: str) -> None:
    """Name an attestation that is not verified (cycle, visit budget) from its unverified payload, for the report."""
    try:
        payload = strict_json_loads(decode_compact(issuer_jwt).payload)
        node.company = payload.get("iss") if isinstance(payload, dict) else None
        _fill(node, payload if isinstance(payload, dict) else {}, None)
    except (InvalidSignature, ValueError, UnicodeDecodeError):
        pass


def _fill(node: VerificationNode, payload: dict[str, Any], claims: AttestationClaims | None) -> None:
    if isinstance(payload.get("jti"), str):
        node.attestation_id = payload["jti"]
    if isinstance(payload.get("aud"), str):
        node.audience = payload["aud"]
    if claims is not None:
        node.footprint_id = claims.footprint_id
        node.product_ids = list(claims.product_ids)
        node.declared_unit = claims.declared_unit
        node.stages = {s.value: format_decimal(v) for s, v in claims.stages.as_dict().items()}
        node.total = format_decimal(claims.total)
        coverage = claims.attested_coverage
        if coverage is not None:
            node.attested_coverage = coverage_text(coverage.stages.as_dict(), coverage.total)
        node.entered_inputs = claims.entered_inputs or 0


def stage_text(values: StageValues | dict[Stage, Decimal]) -> str:
    items = values.as_dict() if isinstance(values, StageValues) else values
    return ", ".join(f"{s.value}={format_decimal(v)}" for s, v in items.items())


# --- the attestation on its own -----------------------------------------------------------------------------------


def check_attestation(
    ctx: WalkContext,
    node: VerificationNode,
    sd_jwt: str,
    issuer_jwt: str,
    digest: str,
    *,
    used_by: str | None,
    user: str,
) -> tuple[CheckedPayload | None, AttestationClaims | None]:
    """Every check of the attestation itself; its checked payload (None when it failed) and clear claims (read
    leniently when the payload failed, for the report; None when unreadable)."""
    signed = check_signed(ctx, node, issuer_jwt, typ=SD_JWT_TYP, roles=ATTESTING_ROLES, require_exp=True)
    checked, structure_error = _checked_payload(ctx, sd_jwt, signed)
    claims = checked.claims if checked is not None else _peek_claims(signed.payload)
    _fill(node, signed.payload, claims)
    total_ok = _check_total(node, signed.payload, claims, checked=checked is not None)
    if checked is not None:
        node.ok("structure", "W3C VC 2.0 CfpAttestation, SD-JWT")
    elif structure_error is not None and (total_ok or not structure_error.startswith("clear claims: total")):
        node.fail("structure", structure_error)
    if claims is not None:
        ctx.claims[digest] = claims
    if used_by is not None:
        _check_audience(node, signed.payload.get("aud"), used_by, user)
    if signed.identity is not None:
        _bind_certifications(ctx, node, digest, signed.identity)
    return checked, claims


def _checked_payload(ctx: WalkContext, sd_jwt: str, signed: SignedObject) -> tuple[CheckedPayload | None, str | None]:
    """What verify_attestation(sd_jwt, audience=None) checks, without repeating the JWS checks ``signed`` made
    (signature, alg/typ, times, chain with role and CRLs at iat, iss = the certificate's company): each signature
    and chain is verified once per attestation, and the disclosures are checked against the same result."""
    if not signed.ok:
        return None, None
    assert signed.identity is not None
    try:
        _, embedded = presented_disclosures(sd_jwt)
        checked = check_payload(signed.payload, signed.identity, at=ctx.at, audience=None)
        open_disclosures(checked, embedded)
    except InvalidSignature as exc:
        return None, exc.reason
    return checked, None


def _check_total(
    node: VerificationNode, payload: dict[str, Any], claims: AttestationClaims | None, checked: bool = False
) -> bool:
    """The ``total`` check; ``checked``: ``claims`` passed check_payload, which refuses a total that is not the sum."""
    if checked and claims is not None:
        node.ok("total", f"{format_decimal(claims.total)} = sum of the four stages")
        return True
    if claims is not None:  # validated from this very subject: its stages and total are the same values
        stages, total = claims.stages, claims.total
    else:
        subject = payload.get("credentialSubject")
        try:
            if not isinstance(subject, dict):
                raise TypeError("no credentialSubject object")
            stages = StageValues.model_validate(subject["stages"])
            total = parse_decimal(subject["total"], field="total")
        except (TypeError, KeyError, ValidationError, ConnectorError):
            node.fail("total", "stages or total missing or malformed")
            return False
    if stages.total() != total:
        node.fail(
            "total", f"total {format_decimal(total)} is not the sum of the stages {format_decimal(stages.total())}"
        )
        return False
    node.ok("total", f"{format_decimal(total)} = sum of the four stages")
    return True


def _check_audience(node: VerificationNode, audience: object, used_by: str, user: str) -> None:
    if audience == used_by:
        node.ok("audience", f"issued to {audience}, used by {user}")
    else:
        node.fail(
            "audience",
            f"issued to {audience!r} but used by {user} ({used_by}): "
            "an attestation may only be used by the company it was issued to",
        )


def _bind_certifications(ctx: WalkContext, node: VerificationNode, digest: str, issuer: CompanyIdentity) -> None:
    """``certification``: each valid certification of this digest that names this issuer is bound to it."""
    for index, (check, cert_node) in enumerate(ctx.certs.get(digest, [])):
        if check.certified_company == issuer.company_id:
            node.certified = True
            node.certified_by.append(check.verifier.company_id)
            ctx.bound.add(check.payload.jti)
            cert_node.ok("binding", f"certifies {check.certified_company}, attestation {node.attestation_id}")
            ctx.bindings.append((digest, index, cert_node.checks[-1].detail))
            node.ok(
                "certification",
                f"certified by {check.verifier.name} ({check.verifier.company_id}) until "
                f"{check.expires_at.isoformat()}, scope: {check.payload.scope}",
            )


# --- its evidence ---------------------------------------------------------------------------------------------------


def open_attestation_evidence(
    ctx: WalkContext, node: VerificationNode, package_id: str | None, issuer_jwt: str, digest: str
) -> EvidenceContent | None:
    """``evidence`` and ``evidence binding``: the attestation's package opened with the verifier's key; None when
    there is no key, no package, or it cannot be opened or is another attestation's (each reported)."""
    if ctx.key is None or ctx.cert is None:
        node.evidence = EvidenceStatus.NOT_OPENED
        return None
    company = node.company or "?"
    package = ctx.packages.get(package_id) if package_id is not None else None
    if package_id is None or package is None:
        _no_package(node, package_id, company)
        return None
    try:
        content = ctx.open_package(package_id, package)
    except NotARecipient as exc:
        _sealed_for_another(ctx, node, package, company, exc)
        return None
    except InvalidSignature as exc:
        node.evidence = EvidenceStatus.FAILED
        node.fail("evidence", f"evidence package of {company} cannot be read: {exc.reason}")
        return None
    node.evidence = EvidenceStatus.OPENED
    node.ok("evidence", "opened")

    if content.attestation.split("~", 1)[0] == issuer_jwt:  # the same issuer JWT: the same digest, no hashing
        content_digest = digest
    else:
        try:
            content_digest = attestation_digest(content.attestation)
        except InvalidSignature:
            content_digest = "?"
    if content_digest != digest:
        node.fail("evidence binding", f"the evidence package is for attestation {content_digest}, not this one")
        return None
    node.ok("evidence binding", "the package holds this attestation")
    return content


def _no_package(node: VerificationNode, package_id: str | None, company: str) -> None:
    why = (
        f"no evidence package for this attestation of {company}"
        if package_id is None
        else f"its evidence package {package_id} is not in the bundle"
    )
    if node.certified:
        node.evidence = EvidenceStatus.CERTIFIED_NOT_OPENED
        node.ok("evidence", f"{why}; trusted on its certification")
    else:
        node.evidence = EvidenceStatus.MISSING
        node.fail("evidence", f"evidence missing: {why}")


def _sealed_for_another(
    ctx: WalkContext,
    node: VerificationNode,
    package: SealedEvidence | dict[str, Any],
    company: str,
    exc: NotARecipient,
) -> None:
    assert ctx.cert is not None
    try:
        names = ", ".join(recipients_of(package)) or "unnamed recipients"
        if isinstance(package, SealedEvidence):
            thumbs = [r.header.get("x5t#S256") for r in package.recipients]
        else:
            thumbs = [r.get("header", {}).get("x5t#S256") for r in package.get("recipients", [])]
    except (InvalidSignature, AttributeError):
        names, thumbs = "unnamed recipients", []
    if certificate_thumbprint(ctx.cert) in thumbs and not node.certified:
        node.evidence = EvidenceStatus.FAILED
        node.fail("evidence", f"evidence of {company} is sealed to this verifier but cannot be decrypted: {exc.reason}")
        return
    if node.certified:
        node.evidence = EvidenceStatus.CERTIFIED_NOT_OPENED
        node.ok("evidence", f"sealed for {names}; trusted on its certification")
    else:
        node.evidence = EvidenceStatus.SEALED_FOR_ANOTHER_VERIFIER
        node.fail(
            "evidence", f"evidence sealed for another verifier ({names}), not for {ctx.verifier_id}: {exc.reason}"
        )


def open_hidden(
    node: VerificationNode, checked: CheckedPayload | None, sd_jwt: str, content: EvidenceContent
) -> HiddenClaims | None:
    """``disclosures``: the hidden claims the package's disclosures open; None if they cannot be trusted (an
    attestation that already failed is not opened: its disclosures would not mean anything)."""
    if checked is None:
        return None
    try:
        _, given = presented_disclosures(sd_jwt, content.disclosures)
        hidden = open_disclosures(checked, given)
    except InvalidSignature as exc:
        node.fail("disclosures", exc.reason)
        return None
    node.ok("disclosures", f"{len(content.disclosures)} disclosures, each committed in the attestation")
    return hidden


def check_arithmetic(node: VerificationNode, claims: AttestationClaims, hidden: HiddenClaims) -> None:
    """``arithmetic``: the stated stages and total recomputed from the disclosed own emissions and inputs."""
    try:
        rule = RoundingRule.parse(claims.rounding)
        inputs = [(convert(i.quantity, i.unit, i.declared_unit), i.upstream.as_dict()) for i in hidden.inputs]
        expected = combine_stages(hidden.own_emissions.as_dict(), inputs, rule)
    except ConnectorError as exc:
        node.fail("arithmetic", f"cannot recompute: {exc.detail}")
        return
    stated = claims.stages.as_dict()
    wrong = [
        f"{s.value}: stated {format_decimal(stated[s])}, recomputed {format_decimal(expected[s])}"
        for s in STAGES
        if stated[s] != expected[s]
    ]
    if wrong:
        node.fail("arithmetic", "stages are not own + sum(quantity x upstream) with " + f"{rule}: " + "; ".join(wrong))
        return
    total = sum(expected.values(), Decimal(0))
    if total != claims.total:
        node.fail("arithmetic", f"total {format_decimal(claims.total)} is not {format_decimal(total)}")
        return
    node.ok("arithmetic", f"own + {len(hidden.inputs)} input(s), {rule}: total {format_decimal(total)}")
