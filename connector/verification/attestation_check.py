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
from .messages import said
from .report import EvidenceStatus, VerificationNode
from .signed_objects import SignedObject, check_signed
from .walk_context import WalkContext

# --- reading an attestation for the report ------------------------------------------------------------------------


def digest_or_fail(node: VerificationNode, sd_jwt: str) -> str | None:
    """:func:`attestation_digest` of ``sd_jwt``; None (``format`` failed) when it is not an SD-JWT."""
    try:
        return attestation_digest(sd_jwt)
    except (InvalidSignature, AttributeError):
        node.fail("format", said("verify.format.not-sd-jwt"))
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
        node.ok("structure", said("verify.structure.attestation"))
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
        node.ok("total", said("verify.total.ok", total=format_decimal(claims.total)))
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
            node.fail("total", said("verify.total.malformed"))
            return False
    if stages.total() != total:
        node.fail(
            "total", said("verify.total.not-sum", total=format_decimal(total), sum=format_decimal(stages.total()))
        )
        return False
    node.ok("total", said("verify.total.ok", total=format_decimal(total)))
    return True


def _check_audience(node: VerificationNode, audience: object, used_by: str, user: str) -> None:
    if audience == used_by:
        node.ok("audience", said("verify.audience.ok", audience=audience, user=user))
    else:
        node.fail("audience", said("verify.audience.wrong", audience=repr(audience), user=user, company=used_by))


def _bind_certifications(ctx: WalkContext, node: VerificationNode, digest: str, issuer: CompanyIdentity) -> None:
    """``certification``: each valid certification of this digest that names this issuer is bound to it."""
    for index, (check, cert_node) in enumerate(ctx.certs.get(digest, [])):
        if check.certified_company == issuer.company_id:
            node.certified = True
            node.certified_by.append(check.verifier.company_id)
            ctx.bound.add(check.payload.jti)
            binding = said("verify.binding.certifies", company=check.certified_company, attestation=node.attestation_id)
            cert_node.ok("binding", binding)
            ctx.bindings.append((digest, index, binding))
            node.ok(
                "certification",
                said(
                    "verify.certification.ok",
                    verifier=check.verifier.name,
                    company=check.verifier.company_id,
                    until=check.expires_at.isoformat(),
                    scope=check.payload.scope,
                ),
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
        node.fail("evidence", said("verify.evidence.unreadable", company=company, reason=exc.reason))
        return None
    node.evidence = EvidenceStatus.OPENED
    node.ok("evidence", said("verify.evidence.opened"))

    if content.attestation.split("~", 1)[0] == issuer_jwt:  # the same issuer JWT: the same digest, no hashing
        content_digest = digest
    else:
        try:
            content_digest = attestation_digest(content.attestation)
        except InvalidSignature:
            content_digest = "?"
    if content_digest != digest:
        node.fail("evidence binding", said("verify.evidence-binding.other", digest=content_digest))
        return None
    node.ok("evidence binding", said("verify.evidence-binding.ok"))
    return content


def _no_package(node: VerificationNode, package_id: str | None, company: str) -> None:
    why = (
        said("verify.evidence.no-package", company=company)
        if package_id is None
        else said("verify.evidence.package-not-bundled", package=package_id)
    )
    if node.certified:
        node.evidence = EvidenceStatus.CERTIFIED_NOT_OPENED
        node.ok("evidence", said("verify.evidence.certified", why=[why]))
    else:
        node.evidence = EvidenceStatus.MISSING
        node.fail("evidence", said("verify.evidence.missing", why=[why]))


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
        node.fail("evidence", said("verify.evidence.undecryptable", company=company, reason=exc.reason))
        return
    if node.certified:
        node.evidence = EvidenceStatus.CERTIFIED_NOT_OPENED
        node.ok("evidence", said("verify.evidence.sealed-certified", names=names))
    else:
        node.evidence = EvidenceStatus.SEALED_FOR_ANOTHER_VERIFIER
        node.fail(
            "evidence",
            said("verify.evidence.sealed-for-another", names=names, verifier=ctx.verifier_id, reason=exc.reason),
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
    node.ok("disclosures", said("verify.disclosures.ok", count=len(content.disclosures)))
    return hidden


def check_arithmetic(node: VerificationNode, claims: AttestationClaims, hidden: HiddenClaims) -> None:
    """``arithmetic``: the stated stages and total recomputed from the disclosed own emissions and inputs."""
    try:
        rule = RoundingRule.parse(claims.rounding)
        inputs = [(convert(i.quantity, i.unit, i.declared_unit), i.upstream.as_dict()) for i in hidden.inputs]
        expected = combine_stages(hidden.own_emissions.as_dict(), inputs, rule)
    except ConnectorError as exc:
        node.fail("arithmetic", said("verify.arithmetic.cannot-recompute", reason=exc.detail))
        return
    stated = claims.stages.as_dict()
    wrong = [
        said(
            "verify.arithmetic.stage",
            stage=s.value,
            stated=format_decimal(stated[s]),
            recomputed=format_decimal(expected[s]),
        )
        for s in STAGES
        if stated[s] != expected[s]
    ]
    if wrong:
        node.fail("arithmetic", said("verify.arithmetic.stages", rule=rule, stages=wrong))
        return
    total = sum(expected.values(), Decimal(0))
    if total != claims.total:
        node.fail(
            "arithmetic",
            said("verify.arithmetic.total", stated=format_decimal(claims.total), recomputed=format_decimal(total)),
        )
        return
    node.ok(
        "arithmetic", said("verify.arithmetic.ok", inputs=len(hidden.inputs), rule=rule, total=format_decimal(total))
    )
