"""Certification credentials: a verifier's signed statement that one attestation checked out, bound to its digest.

The credential's format lives beside the attestation it is bound to: verification reads it (a bundle carries
certifications) and :mod:`connector.certification` issues it after verifying, so both import it from here.

A compact JWS (``typ: cfp-certification+jwt``, ``x5c`` of a ``verifier``-role certificate) whose ``sub`` is
:func:`~connector.attestation.attestation_digest` of the certified attestation. It travels downstream beside the
footprint; the declaration lists it; the end-of-chain verifier may trust the certified tier without opening it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from cryptography import x509
from pydantic import Field, ValidationError

from ..errors import InvalidSignature, ValidationFailed
from ..identity.ca import company_id_of, name_of
from ..identity.keys import PrivateKey
from ..identity.oids import Role
from ..identity.trust import CompanyIdentity, TrustStore
from .attestation import attestation_digest
from .jws import sign_jws_json, unverified_payload, verify_jws
from .models import URN_PATTERN, WireModel

CERTIFICATION_TYP = "cfp-certification+jwt"
DEFAULT_CERTIFICATION_VALIDITY = timedelta(days=365)
DIGEST_PATTERN = r"^[A-Za-z0-9_-]{43}$"


class CertificationPayload(WireModel):
    """The JWT payload of a certification credential."""

    iss: str = Field(pattern=URN_PATTERN, description="the verifier's company id (its certificate's)")
    verifier_name: str = Field(min_length=1, description="the verifier's name, from its certificate")
    sub: str = Field(pattern=DIGEST_PATTERN, description="attestation_digest of the certified attestation")
    attestation_id: str = Field(min_length=1, description="jti of the certified attestation")
    certified_company: str = Field(pattern=URN_PATTERN, description="issuer of the certified attestation")
    footprint_id: str = Field(min_length=1)
    product_ids: list[str] = Field(default_factory=list)
    scope: str = Field(min_length=1, description="what was checked, e.g. 'evidence tree, arithmetic, certificates'")
    standard: str = Field(min_length=1, description="rule set and version the footprint claims to follow")
    result: Literal["valid"] = "valid"
    iat: int
    exp: int
    jti: str = Field(pattern=r"^urn:uuid:")


@dataclass(frozen=True)
class CertificationCheck:
    """A certification credential that verified: who certified which attestation, when, until when."""

    payload: CertificationPayload
    verifier: CompanyIdentity
    issued_at: datetime
    expires_at: datetime

    @property
    def digest(self) -> str:
        return self.payload.sub

    @property
    def certified_company(self) -> str:
        return self.payload.certified_company


def peek_certification(token: str) -> dict[str, Any]:
    """The payload of a certification credential WITHOUT verifying anything (for naming it in a report)."""
    try:
        return unverified_payload(token)
    except InvalidSignature:
        return {}


def sign_certification(payload: dict[str, Any], key: PrivateKey, chain: Sequence[x509.Certificate]) -> str:
    """Sign an already built certification payload (validated against :class:`CertificationPayload`)."""
    CertificationPayload.model_validate(payload)
    return sign_jws_json(payload, key, chain, CERTIFICATION_TYP)


def certification_payload(
    attestation_claims: dict[str, Any],
    sd_jwt: str,
    verifier_chain: Sequence[x509.Certificate],
    *,
    scope: str,
    at: datetime,
    valid_for: timedelta = DEFAULT_CERTIFICATION_VALIDITY,
) -> dict[str, Any]:
    """The payload certifying ``sd_jwt`` (whose verified issuer payload is ``attestation_claims``)."""
    if at.tzinfo is None:
        raise ValidationFailed("time must be timezone-aware (UTC)")
    if valid_for <= timedelta(0):
        raise ValidationFailed("valid_for must be positive")
    at = at.astimezone(UTC).replace(microsecond=0)
    verifier = company_id_of(verifier_chain[0])
    if verifier is None:
        raise ValidationFailed("the verifier certificate has no company id")
    subject = attestation_claims.get("credentialSubject", {})
    methodology = subject.get("methodology") or {}
    standard = " ".join(str(methodology.get(k, "")) for k in ("ruleSet", "version")).strip() or "unspecified"
    return {
        "iss": verifier,
        "verifierName": name_of(verifier_chain[0]),
        "sub": attestation_digest(sd_jwt),
        "attestationId": attestation_claims["jti"],
        "certifiedCompany": attestation_claims["iss"],
        "footprintId": subject["footprintId"],
        "productIds": list(subject.get("productIds", [])),
        "scope": scope,
        "standard": standard,
        "result": "valid",
        "iat": int(at.timestamp()),
        "exp": int((at + valid_for).timestamp()),
        "jti": f"urn:uuid:{uuid.uuid4()}",
    }


def decode_certification(token: str, trust: TrustStore, *, at: datetime) -> CertificationCheck:
    """Verify a certification credential on its own: ``typ``, alg, chain at ``iat`` with role ``verifier`` and
    CRLs, signature, ``exp``, payload structure, ``iss`` = the certificate's company id. Raises InvalidSignature.

    This does not say *which* attestation it certifies is acceptable: use :func:`verify_certification` with the
    attestation, or compare ``check.digest`` yourself.
    """
    verified = verify_jws(token, trust, at=at, role=Role.VERIFIER, typ=CERTIFICATION_TYP)
    try:
        payload = CertificationPayload.model_validate(verified.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidSignature(f"payload: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    if payload.iss != verified.issuer.company_id:
        raise InvalidSignature("iss is not the company id of the signing certificate")
    expires = datetime.fromtimestamp(payload.exp, UTC)
    if expires <= at:  # verify_jws checked it too; kept so the rule is visible here
        raise InvalidSignature(f"certification expired at {expires.isoformat()}")
    return CertificationCheck(
        payload=payload, verifier=verified.issuer, issued_at=verified.signed_at, expires_at=expires
    )


def verify_certification(token: str, attestation: str, trust: TrustStore, at: datetime) -> CertificationCheck:
    """Verify a certification credential and that it certifies exactly ``attestation``.

    Refuses (InvalidSignature, ``.reason`` says why) a signer without the ``verifier`` role, a bad signature or
    chain, an expired credential, a ``sub`` that is not ``attestation_digest(attestation)``, and a
    ``certifiedCompany`` that is not the attestation's issuer. The attestation itself is not verified here.

    Example::

        check = verify_certification(token, footprint_attestation, trust, datetime.now(UTC))
        check.verifier.company_id, check.expires_at
    """
    check = decode_certification(token, trust, at=at)
    digest = attestation_digest(attestation)
    if check.payload.sub != digest:
        raise InvalidSignature(f"certification is for attestation digest {check.payload.sub}, not {digest}")
    issuer = unverified_payload(attestation.split("~", 1)[0]).get("iss")
    if check.payload.certified_company != issuer:
        raise InvalidSignature(
            f"certification names {check.payload.certified_company}, the attestation's issuer is {issuer}"
        )
    return check


def to_pact_verification(cert_payload: CertificationPayload | dict[str, Any]) -> dict[str, Any]:
    """PACT v3 ``verification`` fields for a footprint whose attestation a verifier certified.

    >>> to_pact_verification({"verifierName": "NB 0042", "iat": 1772366400, "standard": "EU-2023/1542-Art7 2025",
    ...     "scope": "full evidence tree", "sub": "A" * 43, "iss": "urn:pact:nb.example:company:nb"})["completedAt"]
    '2026-03-01T12:00:00Z'
    """
    data = cert_payload.model_dump(mode="json") if isinstance(cert_payload, CertificationPayload) else cert_payload
    completed = datetime.fromtimestamp(int(data["iat"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "coverage": "product level",
        "providerName": data.get("verifierName") or data["iss"],
        "completedAt": completed,
        "standardName": data.get("standard") or "unspecified",
        "comments": (
            f"Third-party certification of attestation digest {data['sub']} by {data['iss']}; "
            f"scope: {data.get('scope', 'unspecified')}; result: {data.get('result', 'valid')}."
        ),
    }
