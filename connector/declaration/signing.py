"""The signed declaration (a W3C VC 2.0 as a compact JWS, ``typ: vc+jwt``) and the evidence bundle for the verifier.

The declaration credential binds the Art. 7 figures to the pack maker's attestation by its digest
(``credentialSubject.packAttestationDigest``); the bundle carries that attestation, the id of its evidence package,
every evidence package of the tree side by side (flat, ``bundleVersion "2"``, decision 0004), the certification
credentials collected along the chain and the CRLs the OEM holds, in one JSON file. Pure: keys, models
and an explicit time in, strings and models out.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

from cryptography import x509
from pydantic import Field, ValidationError

from ..attestation.attestation import attestation_digest
from ..attestation.evidence import Evidence, MalformedEvidence, PackageId, evidence_of
from ..attestation.jws import sign_jws_json, unverified_payload, verify_jws
from ..attestation.models import VC_CONTEXT_V2, VC_TYPE, SealedEvidence, WireModel
from ..errors import InvalidSignature, ValidationFailed
from ..identity.ca import company_id_of, role_of
from ..identity.keys import PrivateKey, b64url, crl_to_pem, load_crl
from ..identity.oids import Role
from ..identity.trust import CompanyIdentity, TrustStore
from ..strict_json import strict_json_loads
from .models import Declaration

DECLARATION_TYP = "vc+jwt"
DECLARATION_TYPE = "BatteryCarbonFootprintDeclaration"
PACK_DIGEST = "packAttestationDigest"
BUNDLE_VERSION: Final = "2"
BUNDLE_MEDIA_TYPE = "application/vnd.cfp-evidence-bundle+json"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def declaration_payload(
    declaration: Declaration, pack_attestation: str, issuer: str, *, at: datetime, valid_for: timedelta | None = None
) -> dict[str, Any]:
    """The JWT payload of the declaration credential (unsigned): VC 2.0 + ``iss``, ``iat``, ``jti`` (+ ``exp``)."""
    if at.tzinfo is None:
        raise ValidationFailed("time must be timezone-aware (UTC)")
    at = at.astimezone(UTC).replace(microsecond=0)
    subject = declaration.model_dump(mode="json", by_alias=True)
    subject[PACK_DIGEST] = attestation_digest(pack_attestation)
    jti = f"urn:uuid:{uuid.uuid4()}"
    payload: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "type": [VC_TYPE, DECLARATION_TYPE],
        "id": jti,
        "issuer": issuer,
        "validFrom": _iso(at),
        "credentialSubject": subject,
        "iss": issuer,
        "iat": int(at.timestamp()),
        "jti": jti,
    }
    if valid_for is not None:
        if valid_for <= timedelta(0):
            raise ValidationFailed("valid_for must be positive")
        payload["validUntil"] = _iso(at + valid_for)
        payload["exp"] = int((at + valid_for).timestamp())
    return payload


def sign_declaration(
    declaration: Declaration,
    pack_attestation: str,
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    *,
    at: datetime,
    valid_for: timedelta | None = None,
) -> str:
    """Sign the Art. 7 declaration as a W3C VC 2.0 compact JWS (``typ: vc+jwt``, ``x5c``), issued by the OEM.

    ``credentialSubject`` is ``declaration.model_dump(mode="json", by_alias=True)`` plus ``packAttestationDigest``
    (:func:`~connector.attestation.attestation_digest` of the pack maker's attestation to the OEM). ``chain[0]``
    must carry the ``oem`` role and the declaration's ``issuerCompanyId`` (when set) as its company id. No expiry
    unless ``valid_for`` is given: a declaration stays the declaration of that battery model.

    Example::

        token = sign_declaration(decl, pack_sd_jwt, oem.key, oem.chain, at=datetime.now(UTC))
        verify_declaration(token, trust, at=datetime.now(UTC)).declaration.carbon_footprint.value
    """
    if not chain:
        raise ValidationFailed("the OEM's certificate chain is required")
    issuer = company_id_of(chain[0])
    if issuer is None:
        raise ValidationFailed("the signing certificate has no company id")
    if role_of(chain[0]) is not Role.OEM:
        raise ValidationFailed(f"a declaration is signed by an oem certificate, not {role_of(chain[0])}")
    if declaration.issuer_company_id is not None and declaration.issuer_company_id != issuer:
        raise ValidationFailed(
            f"declaration issuerCompanyId {declaration.issuer_company_id!r} is not the certificate's {issuer!r}"
        )
    payload = declaration_payload(declaration, pack_attestation, issuer, at=at, valid_for=valid_for)
    return sign_jws_json(payload, key, chain, DECLARATION_TYP)


@dataclass(frozen=True)
class VerifiedDeclaration:
    """What :func:`verify_declaration` returns."""

    declaration: Declaration
    pack_attestation_digest: str
    issuer: CompanyIdentity
    issued_at: datetime
    declaration_id: str
    """The credential's ``jti`` (VC ``id``); ``declaration.id`` is the declaration's own id."""
    payload: dict[str, Any]


def parse_declaration_payload(payload: dict[str, Any]) -> tuple[Declaration, str]:
    """Structure of a declaration credential payload: (the Declaration, packAttestationDigest). InvalidSignature."""
    if (
        not isinstance(payload.get("@context"), list)
        or not payload["@context"]
        or payload["@context"][0] != VC_CONTEXT_V2
    ):
        raise InvalidSignature("@context must start with the VC 2.0 context")
    types = payload.get("type")
    if not isinstance(types, list) or VC_TYPE not in types or DECLARATION_TYPE not in types:
        raise InvalidSignature(f"type must include {VC_TYPE} and {DECLARATION_TYPE}")
    if payload.get("id") != payload.get("jti") or not isinstance(payload.get("jti"), str):
        raise InvalidSignature("jti and VC id differ or are missing")
    subject = payload.get("credentialSubject")
    if not isinstance(subject, dict):
        raise InvalidSignature("credentialSubject is not an object")
    subject = dict(subject)
    digest = subject.pop(PACK_DIGEST, None)
    if not isinstance(digest, str):
        raise InvalidSignature(f"credentialSubject has no {PACK_DIGEST}")
    try:
        declaration = Declaration.model_validate(subject)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidSignature(f"credentialSubject: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
    return declaration, digest


def verify_declaration(token: str, trust: TrustStore, *, at: datetime) -> VerifiedDeclaration:
    """Verify a declaration credential: JWS checks (``typ: vc+jwt``, chain at ``iat``, role ``oem``, CRLs), the VC
    structure, ``iss`` = ``issuer`` = the certificate's company id = ``issuerCompanyId``. Raises InvalidSignature.

    The binding to the pack attestation (``packAttestationDigest``) and the figures are checked by
    :func:`connector.verification.verify_bundle`, which has the attestation.
    """
    verified = verify_jws(token, trust, at=at, role=Role.OEM, typ=DECLARATION_TYP)
    payload = verified.payload
    declaration, digest = parse_declaration_payload(payload)
    company = verified.issuer.company_id
    if not (payload.get("iss") == payload.get("issuer") == company):
        raise InvalidSignature("iss/issuer is not the company id of the signing certificate")
    if declaration.issuer_company_id is not None and declaration.issuer_company_id != company:
        raise InvalidSignature("issuerCompanyId is not the company id of the signing certificate")
    return VerifiedDeclaration(
        declaration=declaration,
        pack_attestation_digest=digest,
        issuer=verified.issuer,
        issued_at=verified.signed_at,
        declaration_id=str(payload["jti"]),
        payload=payload,
    )


def token_digest(token: str) -> str:
    """base64url SHA-256 of a compact JWS: how a report names a declaration or certification credential."""
    return b64url(hashlib.sha256(token.encode("ascii", "replace")).digest())


# --- the evidence bundle -------------------------------------------------------------------------------------------


class BundlePack(WireModel):
    """The pack maker's attestation to the OEM and the id of its evidence package in ``packages`` (or null)."""

    attestation: str = Field(min_length=1, description="SD-JWT <issuer-jwt>~ issued by the pack maker to the OEM")
    package: PackageId | None = Field(
        default=None,
        description="id of the pack attestation's evidence package in the bundle's packages, or null when it has none",
    )


class EvidenceBundle(WireModel):
    """Everything a verifier needs, in one JSON file: ``connector verify BUNDLE --trust ROOT.pem --key KEY``.

    ``packages`` holds every evidence package of the tree side by side (flat, decision 0004): each a JWE sealed by its
    issuer to verifiers, whose plaintext names its upstream attestations' packages by id. The carrier sees how many
    packages there are and their sizes, not the tree nor any upstream attestation.
    """

    bundle_version: Literal["2"] = Field(default=BUNDLE_VERSION, description="format version of this file")
    declaration: str = Field(min_length=1, description="the declaration credential, compact JWS typ vc+jwt")
    pack: BundlePack
    packages: dict[PackageId, SealedEvidence] = Field(
        default_factory=dict,
        description="package id (random 128 bits, base64url) -> evidence package (JWE JSON, plaintext EvidenceContent)",
    )
    certifications: list[str] = Field(
        default_factory=list, description="certification credentials (compact JWS typ cfp-certification+jwt)"
    )
    crls: list[str] = Field(default_factory=list, description="PEM CRLs of the dataspace CAs the OEM holds")

    def to_json(self, *, indent: int | None = 2) -> str:
        import json

        return json.dumps(self.model_dump(mode="json", exclude_none=False), indent=indent, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: str | bytes | dict[str, Any]) -> EvidenceBundle:
        """Parse a bundle (text or dict); ValidationFailed with the first problem otherwise."""
        try:
            obj = strict_json_loads(data) if isinstance(data, str | bytes) else data
            if isinstance(obj, dict) and obj.get("bundleVersion") == "1":
                raise ValidationFailed(
                    "bundle: bundleVersion 1 (evidence packages nested in each other) is no longer "
                    "read; this verifier reads bundleVersion 2 (flat packages, decision 0004)"
                )
            return cls.model_validate(obj)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError too
            if isinstance(exc, ValidationError):
                first = exc.errors()[0]
                raise ValidationFailed(f"bundle: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
            raise ValidationFailed(f"bundle is not JSON: {exc}") from None

    def crl_objects(self) -> list[x509.CertificateRevocationList]:
        return [load_crl(pem.encode("ascii")) for pem in self.crls]

    def pack_evidence(self) -> Evidence | None:
        """The pack attestation's evidence as it travelled (its package id and every package), or None."""
        if self.pack.package is None:
            return None
        return Evidence.model_construct(package=self.pack.package, packages=self.packages)


def build_bundle(
    declaration: str,
    pack_attestation: str,
    pack_evidence: Evidence | dict[str, Any] | None = None,
    *,
    certifications: Iterable[str] = (),
    crls: Iterable[x509.CertificateRevocationList | str | bytes] = (),
) -> EvidenceBundle:
    """Assemble the evidence bundle for the verifier.

    ``declaration`` is :func:`sign_declaration`'s token; ``pack_attestation`` the pack maker's SD-JWT to the OEM
    (its digest must be the declaration's ``packAttestationDigest``); ``pack_evidence`` the evidence the pack maker sent
    with it (:class:`~connector.attestation.evidence.Evidence`: its package id and every package of the tree, sealed
    to the verifier; the OEM cannot read them), copied into the bundle unchanged; ``certifications`` every
    certification credential received with footprints; ``crls`` CRL objects or PEM.

    Example::

        bundle = build_bundle(token, pack.sd_jwt, pack.evidence, certifications=certs, crls=[crl])
        Path("bundle.json").write_text(bundle.to_json())
    """
    pems = []
    for crl in crls:
        if isinstance(crl, x509.CertificateRevocationList):
            pems.append(crl_to_pem(crl).decode("ascii"))
        else:
            text = crl.decode("ascii") if isinstance(crl, bytes) else crl
            load_crl(text.encode("ascii"))  # refuse garbage now rather than in the verifier's hands
            pems.append(text)
    try:
        evidence = evidence_of(pack_evidence) if pack_evidence is not None else None
    except MalformedEvidence as exc:
        raise ValidationFailed(f"pack evidence: {exc.detail}") from None
    # the bundle must be self-consistent before anyone signs off on it
    digest = attestation_digest(pack_attestation)
    try:
        _, declared_digest = parse_declaration_payload(unverified_payload(declaration))
    except InvalidSignature as exc:
        raise ValidationFailed(f"declaration: {exc.reason}") from None
    if declared_digest != digest:
        raise ValidationFailed("the declaration's packAttestationDigest is not the digest of this pack attestation")
    return EvidenceBundle(
        declaration=declaration,
        pack=BundlePack(attestation=pack_attestation, package=evidence.package if evidence else None),
        packages=dict(evidence.packages) if evidence else {},
        certifications=list(certifications),
        crls=pems,
    )


__all__ = [
    "BUNDLE_MEDIA_TYPE",
    "BUNDLE_VERSION",
    "DECLARATION_TYP",
    "DECLARATION_TYPE",
    "PACK_DIGEST",
    "BundlePack",
    "EvidenceBundle",
    "VerifiedDeclaration",
    "build_bundle",
    "declaration_payload",
    "parse_declaration_payload",
    "sign_declaration",
    "token_digest",
    "verify_declaration",
]
