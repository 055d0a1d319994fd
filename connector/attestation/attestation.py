"""CFP attestations: a W3C VC 2.0 ``CfpAttestation`` secured as SD-JWT (RFC 9901), ES256, ``x5c``.

The customer receives ``<issuer-jwt>~``: the clear claims and, in ``credentialSubject._sd``, salted digests of the
hidden claims padded with decoys. The disclosures (own emissions, the input count, one per input) go only into the
evidence package sealed to verifiers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from pydantic import ValidationError

from ..errors import InvalidSignature, ValidationFailed
from ..identity.ca import company_id_of
from ..identity.keys import PrivateKey
from ..identity.oids import Role
from ..identity.trust import CompanyIdentity, RoleSpec, TrustStore
from ..prevalidated import instance
from .jws import sign_jws_json, verify_jws
from .models import (
    ATTESTATION_TYPE,
    SD_JWT_TYP,
    VC_CONTEXT_V2,
    VC_TYPE,
    AttestationClaims,
    AttestationPayload,
    HiddenClaims,
    check_total,
)
from .sdjwt import SD_ALG, make_disclosure, parse_disclosure, serialize, sha256_b64url, split, with_decoys

DEFAULT_VALIDITY = timedelta(days=365)
OWN_EMISSIONS = "ownEmissions"
INPUT_COUNT = "inputCount"
INPUT_PREFIX = "input:"
ATTESTING_ROLES: tuple[Role, ...] = (Role.SUPPLIER, Role.OEM)


@dataclass(frozen=True)
class IssuedAttestation:
    """What :func:`issue_attestation` returns."""

    sd_jwt: str
    """``<issuer-jwt>~``: what the customer gets (no disclosures)."""
    disclosures: list[str]
    """The disclosures of the hidden claims: for the evidence package only."""
    digest: str
    """:func:`attestation_digest` of ``sd_jwt``: what a downstream input binds to."""
    attestation_id: str
    """``jti`` (also the VC ``id``), ``urn:uuid:...``."""


@dataclass(frozen=True)
class VerifiedAttestation:
    """What :func:`verify_attestation` returns; ``hidden`` only when the disclosures were supplied."""

    claims: AttestationClaims
    hidden: HiddenClaims | None
    issuer: CompanyIdentity
    issued_at: datetime
    valid_until: datetime
    attestation_id: str
    digest: str


def attestation_digest(sd_jwt: str) -> str:
    """base64url SHA-256 of the attestation as the customer receives it: ``<issuer-jwt>~``.

    Disclosures or a key binding JWT appended to ``sd_jwt`` are ignored, so a presentation with disclosures and the
    bare attestation give the same digest.

    >>> attestation_digest("eyJhbGciOiJFUzI1NiJ9.e30.c2ln~") == attestation_digest("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
    True
    """
    issuer_jwt = sd_jwt.split("~", 1)[0]
    if not issuer_jwt:
        raise InvalidSignature("empty attestation")
    return sha256_b64url(issuer_jwt + "~")


def _seconds(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValidationFailed("time must be timezone-aware (UTC)")
    return at.astimezone(UTC).replace(microsecond=0)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def hidden_disclosures(hidden: HiddenClaims) -> list[tuple[str, Any]]:
    """The (name, value) pairs that become disclosures, in a fixed order."""
    pairs: list[tuple[str, Any]] = [
        (OWN_EMISSIONS, hidden.own_emissions.model_dump(mode="json")),
        (INPUT_COUNT, len(hidden.inputs)),
    ]
    pairs += [(f"{INPUT_PREFIX}{i}", item.to_json_dict()) for i, item in enumerate(hidden.inputs)]
    return pairs


def issue_attestation(
    claims: AttestationClaims,
    hidden: HiddenClaims,
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    *,
    at: datetime,
    valid_for: timedelta = DEFAULT_VALIDITY,
    pad_to: int = 16,
) -> IssuedAttestation:
    """Sign a CFP attestation for one customer.

    ``claims.issuer`` must be the company id in ``chain[0]`` (the issuer's certificate, chain leaf first), and
    ``claims.total`` exactly the sum of ``claims.stages``. The hidden claims become disclosures ``ownEmissions``,
    ``inputCount`` and ``input:<i>``; their digests, padded with decoys to a multiple of ``pad_to`` and sorted, are
    ``credentialSubject._sd``. ``iat``/``validFrom`` is ``at`` (whole seconds), ``exp``/``validUntil`` is
    ``at + valid_for``.

    Example::

        issued = issue_attestation(claims, HiddenClaims(own_emissions=own, inputs=[...]), key, chain,
                                   at=datetime.now(UTC))
        send_to_customer(issued.sd_jwt)                       # "<jwt>~", no disclosures
        seal_evidence_tree(issued, ...)  # the evidence package for verifiers (connector.attestation.evidence)
    """
    at = _seconds(at)
    if valid_for <= timedelta(0):
        raise ValidationFailed("valid_for must be positive")
    check_total(claims)
    if not chain:
        raise ValidationFailed("the issuer's certificate chain is required")
    cert_company = company_id_of(chain[0])
    if cert_company != claims.issuer:
        raise ValidationFailed(f"claims.issuer {claims.issuer!r} is not the certificate's company id {cert_company!r}")

    disclosures = [make_disclosure(name, value) for name, value in hidden_disclosures(hidden)]
    until = at + valid_for
    jti = f"urn:uuid:{uuid.uuid4()}"
    subject = claims.model_dump(mode="json", exclude={"issuer", "audience"})
    subject["_sd"] = with_decoys([d.digest for d in disclosures], pad_to)
    payload: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "type": [VC_TYPE, ATTESTATION_TYPE],
        "id": jti,
        "issuer": claims.issuer,
        "validFrom": _iso(at),
        "validUntil": _iso(until),
        "credentialSubject": subject,
        "iss": claims.issuer,
        "aud": claims.audience,
        "iat": int(at.timestamp()),
        "exp": int(until.timestamp()),
        "jti": jti,
        "_sd_alg": SD_ALG,
    }
    issuer_jwt = sign_jws_json(payload, key, chain, SD_JWT_TYP)
    sd_jwt = serialize(issuer_jwt)
    return IssuedAttestation(
        sd_jwt=sd_jwt,
        disclosures=[d.text for d in disclosures],
        digest=attestation_digest(sd_jwt),
        attestation_id=jti,
    )


def _hidden_from(disclosed: dict[str, Any]) -> HiddenClaims:
    if OWN_EMISSIONS not in disclosed or INPUT_COUNT not in disclosed:
        raise InvalidSignature("incomplete disclosures: ownEmissions and inputCount are required")
    count = disclosed[INPUT_COUNT]
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidSignature("inputCount must be a non-negative integer")
    expected = {OWN_EMISSIONS, INPUT_COUNT} | {f"{INPUT_PREFIX}{i}" for i in range(count)}
    missing, extra = expected - disclosed.keys(), disclosed.keys() - expected
    if missing:
        raise InvalidSignature(f"incomplete disclosures: missing {sorted(missing)}")
    if extra:
        raise InvalidSignature(f"unexpected disclosures {sorted(extra)}")
    try:  # one validation of the whole (nested models built by pydantic-core, not one call per input)
        return HiddenClaims.model_validate(
            {
                "own_emissions": disclosed[OWN_EMISSIONS],
                "inputs": [disclosed[f"{INPUT_PREFIX}{i}"] for i in range(count)],
            }
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = {"own_emissions": OWN_EMISSIONS, "inputs": INPUT_PREFIX}.get(str(first["loc"][0]), "")
        if where == INPUT_PREFIX and len(first["loc"]) > 1:
            where += str(first["loc"][1])
        raise InvalidSignature(f"malformed disclosure value{f' {where}' if where else ''}: {first['msg']}") from None


@dataclass(frozen=True)
class CheckedPayload:
    """An attestation payload whose VC/JWT structure and clear claims were checked (see :func:`check_payload`)."""

    payload: AttestationPayload
    claims: AttestationClaims
    digests: frozenset[str]
    """``credentialSubject._sd``: the digests a disclosure must match."""
    issued_at: datetime
    valid_until: datetime


def presented_disclosures(sd_jwt: str, disclosures: Iterable[str] | None = None) -> tuple[str, list[str]]:
    """The issuer JWT of ``sd_jwt`` and every disclosure given (embedded after ``~``, then ``disclosures``).

    Refuses a key binding JWT and a disclosure given twice.
    """
    parts = split(sd_jwt)
    if parts.key_binding is not None:
        raise InvalidSignature("key binding JWTs are not used for CFP attestations")
    given = list(parts.disclosures) + list(disclosures or [])
    if len(set(given)) != len(given):
        raise InvalidSignature("duplicate disclosure")
    return parts.issuer_jwt, given


def check_payload(
    payload: dict[str, Any], issuer: CompanyIdentity, *, at: datetime, audience: str | None
) -> CheckedPayload:
    """The checks of :func:`verify_attestation` after the JWS: ``payload`` must come from a JWS whose signature,
    times and chain (``issuer``) were verified."""
    try:
        model = AttestationPayload.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidSignature(f"payload: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None

    if model.context[0] != VC_CONTEXT_V2:
        raise InvalidSignature("@context must start with the VC 2.0 context")
    if VC_TYPE not in model.type or ATTESTATION_TYPE not in model.type:
        raise InvalidSignature("type must include VerifiableCredential and CfpAttestation")
    if not (model.iss == model.issuer == issuer.company_id):
        raise InvalidSignature("iss/issuer is not the company id of the signing certificate")
    if model.jti != model.id:
        raise InvalidSignature("jti and VC id differ")
    issued_at = datetime.fromtimestamp(model.iat, UTC)
    valid_until = datetime.fromtimestamp(model.exp, UTC)
    if model.valid_from != issued_at or model.valid_until != valid_until:
        raise InvalidSignature("validFrom/validUntil do not match iat/exp")
    if valid_until <= at:
        raise InvalidSignature(f"attestation expired at {valid_until.isoformat()}")
    if audience is not None and model.aud != audience:
        raise InvalidSignature("attestation was issued to another audience")

    subject = model.credential_subject
    # The subject is a ClaimValues validated with the payload, iss and aud were validated as the URNs AttestationClaims
    # requires: the claims are those values, not validated a second time.
    fields = {k: v for k, v in subject.__dict__.items() if k != "sd"}
    claims = instance(AttestationClaims, {**fields, "issuer": model.iss, "audience": model.aud})
    try:
        check_total(claims)
    except ValidationFailed as exc:
        raise InvalidSignature(f"clear claims: {exc.detail}") from None

    digests = frozenset(subject.sd)
    if len(digests) != len(subject.sd):
        raise InvalidSignature("duplicate digest in _sd")
    return CheckedPayload(payload=model, claims=claims, digests=digests, issued_at=issued_at, valid_until=valid_until)


def open_disclosures(checked: CheckedPayload, given: Sequence[str]) -> HiddenClaims | None:
    """The hidden claims of ``given`` disclosures (None when none are given): each must match a digest of ``_sd``,
    no claim twice, and all hidden claims disclosed."""
    if not given:
        return None
    disclosed: dict[str, Any] = {}
    for text in given:
        d = parse_disclosure(text)
        if d.digest not in checked.digests:
            raise InvalidSignature(f"disclosure {d.name!r} is not committed in the attestation")
        if d.name in disclosed:
            raise InvalidSignature(f"claim {d.name!r} disclosed twice")
        disclosed[d.name] = d.value
    return _hidden_from(disclosed)


def verify_attestation(
    sd_jwt: str,
    trust: TrustStore,
    *,
    at: datetime,
    audience: str | None,
    disclosures: Iterable[str] | None = None,
    expected_role: RoleSpec = ATTESTING_ROLES,
) -> VerifiedAttestation:
    """Verify a CFP attestation and, when disclosures are given (embedded after ``~`` or in ``disclosures``),
    open its hidden claims.

    Checks: ``alg`` allow-list and ``typ`` ``vc+sd-jwt``; ``x5c`` chain to ``trust`` at the signing time (``iat``)
    including role (supplier or OEM by default) and CRLs; the signature; the VC/JWT structure; ``iss`` = VC
    ``issuer`` = the certificate's company id; ``validFrom``/``validUntil`` = ``iat``/``exp`` and ``at`` inside them
    (``iat`` may be ``trust.clock_skew`` ahead); ``aud`` = ``audience`` unless ``audience`` is None (verifiers);
    ``total`` = sum of stages; every disclosure's digest in ``_sd``, none twice; and, if any disclosure is given,
    that all hidden claims are disclosed. No key binding JWT is accepted.

    Every failure raises :class:`~connector.errors.InvalidSignature`; ``.reason`` says which check.

    Example::

        verified = verify_attestation(received, trust, at=datetime.now(UTC), audience=MY_COMPANY_ID)
        verified.claims.total, verified.issuer.company_id, verified.digest
    """
    if at.tzinfo is None:
        raise InvalidSignature("verification time must be timezone-aware")
    issuer_jwt, given = presented_disclosures(sd_jwt, disclosures)
    verified = verify_jws(issuer_jwt, trust, at=at, role=expected_role, typ=SD_JWT_TYP)
    checked = check_payload(verified.payload, verified.issuer, at=at, audience=audience)
    hidden = open_disclosures(checked, given)
    return VerifiedAttestation(
        claims=checked.claims,
        hidden=hidden,
        issuer=verified.issuer,
        issued_at=checked.issued_at,
        valid_until=checked.valid_until,
        attestation_id=checked.payload.jti,
        digest=attestation_digest(issuer_jwt),
    )
