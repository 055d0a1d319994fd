"""``certify``: the verifier opens one attestation's evidence, verifies the whole subtree and, only if it is valid,
signs a certification credential bound to that attestation's digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509

from ..attestation.attestation import attestation_digest
from ..attestation.certification_credential import (
    DEFAULT_CERTIFICATION_VALIDITY,
    certification_payload,
    sign_certification,
)
from ..attestation.evidence import Evidence, MalformedEvidence, evidence_of, open_evidence
from ..attestation.jws import decode_compact
from ..errors import InvalidSignature, TrustError, ValidationFailed
from ..identity.keys import PrivateKey, same_public_key
from ..identity.oids import Role
from ..identity.trust import TrustStore
from ..strict_json import strict_json_loads
from ..verification import VerificationReport, verify_attestation_tree

DEFAULT_SCOPE = (
    "full evidence tree: signatures, certificates and CRLs at signing time, audience binding, "
    "disclosures, upstream digests and values, arithmetic with the declared rounding"
)


class CertificationRefused(ValidationFailed):
    """The attestation did not verify, so no certification was signed. ``report`` says why."""

    type_ = "certification-refused"
    title = "The attestation did not verify; nothing was certified"

    def __init__(self, detail: str, report: VerificationReport) -> None:
        super().__init__(detail, errors=[{"field": f.check, "message": f.line()} for f in report.failures])
        self.report = report


def certify(
    attestation: str,
    evidence_package: Evidence | dict[str, Any],
    verifier_key: PrivateKey,
    verifier_cert_chain: Sequence[x509.Certificate],
    trust: TrustStore,
    *,
    scope: str = DEFAULT_SCOPE,
    at: datetime,
    valid_for: timedelta = DEFAULT_CERTIFICATION_VALIDITY,
    crls: Sequence[x509.CertificateRevocationList] = (),
) -> str:
    """Open ``attestation``'s evidence as the verifier, verify the whole subtree, and sign a certification.

    Returns a compact JWS (``typ: cfp-certification+jwt``) with ``iss`` = the verifier, ``sub`` =
    ``attestation_digest(attestation)``, ``certifiedCompany``, ``footprintId``, ``scope``, ``iat``, ``exp``,
    ``result: valid``. Raises :class:`CertificationRefused` (carrying the report) when anything fails, and
    ValidationFailed when the signer is not a valid verifier or the evidence is for another attestation.

    Example::

        token = certify(fp.attestation, fp.evidence, nb.key, nb.chain, trust, scope="CFP per EU 2023/1542",
                        at=datetime.now(UTC))
        to_pact_verification(verify_certification(token, fp.attestation, trust, now).payload)
    """
    if not verifier_cert_chain:
        raise ValidationFailed("the verifier's certificate chain is required")
    leaf = verifier_cert_chain[0]
    if not same_public_key(verifier_key, leaf):
        raise ValidationFailed("the verifier key does not belong to the verifier certificate")
    full = trust.with_crls(crls)
    try:
        full.validate(list(verifier_cert_chain), at=at, role=Role.VERIFIER)
    except TrustError as exc:
        raise ValidationFailed(f"only a valid verifier certificate can certify: {exc.reason}") from None
    try:  # the attestation's evidence: its package id and every package of its tree (decision 0004, v2)
        package = evidence_of(evidence_package)
    except MalformedEvidence as exc:
        raise ValidationFailed(f"cannot open the evidence: {exc.detail}") from None
    try:
        content = open_evidence(package.packages[package.package], verifier_key, leaf)
    except InvalidSignature as exc:
        raise ValidationFailed(f"cannot open the evidence: {exc.reason}") from None
    if attestation_digest(content.attestation) != attestation_digest(attestation):
        raise ValidationFailed("the evidence package belongs to another attestation")

    report = verify_attestation_tree(attestation, package, full, at=at, verifier_key=verifier_key, verifier_cert=leaf)
    if not report.valid:
        raise CertificationRefused(f"attestation does not verify: {report.summary()}", report)
    claims = strict_json_loads(decode_compact(attestation.split("~", 1)[0]).payload)
    payload = certification_payload(claims, attestation, verifier_cert_chain, scope=scope, at=at, valid_for=valid_for)
    return sign_certification(payload, verifier_key, verifier_cert_chain)
