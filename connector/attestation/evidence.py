"""Evidence packages: an attestation's disclosures and its upstream attestations, sealed to verifiers.

JWE JSON general serialization (RFC 7516 section 7.2.1), one recipient per verifier certificate, key management
``ECDH-ES+A256KW`` and content encryption ``A256GCM``: sealed with joserfc, opened by
:func:`connector.identity.jwe.open_ecdh_es_a256kw` (that one profile on ``cryptography``). Each recipient is named in its unprotected header by
``x5t#S256`` (its certificate thumbprint) and ``kid`` (its company id). Only certificates with the ``verifier`` role
are accepted as recipients. Nested upstream packages stay sealed to whoever their issuer sealed them to, so a
customer forwards them without being able to read them.

The JWE authenticates nothing about the sender (ECDH-ES is anonymous); what matters is bound by signatures inside:
the attestation is signed, each disclosure must match a digest in it, each upstream attestation is signed and bound
by the ``attestationDigest`` of an input.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.jwk import ECKey
from pydantic import ValidationError

from ..errors import InvalidSignature, TrustError, ValidationFailed
from ..identity.ca import company_id_of
from ..identity.jwe import JweError, open_ecdh_es_a256kw
from ..identity.keys import PrivateKey, certificate_thumbprint, same_public_key
from ..identity.oids import Role
from ..identity.trust import TrustStore
from .jws import canonical_json, strict_json_loads
from .models import EvidenceContent, SealedEvidence, UpstreamEvidence

KEY_ALG = "ECDH-ES+A256KW"
ENC = "A256GCM"
EVIDENCE_TYP = "cfp-evidence+jwe"
_ALGORITHMS = [KEY_ALG, ENC]
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
"""Longest ciphertext member (base64url characters) ``open_evidence`` accepts, read at each call. Evidence nests the
evidence of every tier below, so it grows with the chain (joserfc's default cap was 64 KB)."""

Recipient = x509.Certificate | Sequence[x509.Certificate]
"""A verifier certificate, or its chain (leaf first) when the trust store does not know the intermediate."""


class RecipientRefused(ValidationFailed):
    """Evidence may only be sealed to valid verifier certificates."""

    type_ = "recipient-refused"
    title = "Evidence can only be sealed to verifier certificates"


class NotARecipient(InvalidSignature):
    """The package is not sealed to this verifier certificate (or cannot be opened with its key)."""


def _chain(recipient: Recipient) -> list[x509.Certificate]:
    return [recipient] if isinstance(recipient, x509.Certificate) else list(recipient)


def check_recipient(recipient: Recipient, trust: TrustStore, at: datetime) -> x509.Certificate:
    """The validated verifier leaf certificate; RecipientRefused with a clear message otherwise."""
    chain = _chain(recipient)
    if not chain:
        raise RecipientRefused("empty recipient chain")
    leaf = chain[0]
    subject = leaf.subject.rfc4514_string()
    try:
        identity = trust.validate(chain, at=at, role=Role.VERIFIER)
    except TrustError as exc:
        raise RecipientRefused(f"cannot seal evidence to {subject}: {exc.reason}") from None
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
        agreement = usage.key_agreement
    except x509.ExtensionNotFound:
        agreement = False
    if not agreement:
        raise RecipientRefused(f"cannot seal evidence to {identity.company_id}: certificate lacks keyAgreement")
    key = leaf.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise RecipientRefused(f"cannot seal evidence to {identity.company_id}: ECDH-ES needs an EC P-256 key")
    return leaf


def seal_evidence(
    content: EvidenceContent,
    recipients: Sequence[Recipient],
    trust: TrustStore,
    at: datetime,
) -> dict[str, Any]:
    """Encrypt ``content`` to each verifier in ``recipients``; return the JWE JSON (general serialization).

    Every recipient must validate in ``trust`` at ``at`` with role ``verifier`` and keyAgreement; otherwise
    :class:`RecipientRefused` names the certificate and the reason.

    Example::

        package = seal_evidence(
            EvidenceContent(attestation=issued.sd_jwt, disclosures=issued.disclosures,
                            upstream=[UpstreamEvidence(attestation=up_sd_jwt, evidence=up_package)]),
            [notified_body_cert], trust, at=datetime.now(UTC))
    """
    if not recipients:
        raise RecipientRefused("evidence needs at least one verifier recipient")
    leaves = [check_recipient(r, trust, at) for r in recipients]
    thumbprints = [certificate_thumbprint(c) for c in leaves]
    if len(set(thumbprints)) != len(thumbprints):
        raise RecipientRefused("the same verifier certificate is named twice")
    plaintext = canonical_json(content.to_json_dict())
    obj = jwe.GeneralJSONEncryption({"enc": ENC, "typ": EVIDENCE_TYP, "cty": "json"}, plaintext)
    for leaf, thumb in zip(leaves, thumbprints, strict=True):
        header = {"alg": KEY_ALG, "x5t#S256": thumb, "kid": company_id_of(leaf) or thumb}
        obj.add_recipient(header, ECKey.import_key(leaf.public_key()))  # type: ignore[arg-type]
    out = jwe.encrypt_json(obj, None, algorithms=_ALGORITHMS)
    return SealedEvidence.model_validate(dict(out)).to_json_dict()


def _sealed(package: SealedEvidence | dict[str, Any]) -> SealedEvidence:
    if isinstance(package, SealedEvidence):  # validated when it was built (models are frozen)
        return package
    try:
        return SealedEvidence.model_validate(package)
    except ValidationError:
        raise InvalidSignature("evidence package is not a JWE general JSON serialization") from None


def recipients_of(package: SealedEvidence | dict[str, Any]) -> list[str]:
    """The ``kid`` (company id) of each recipient, without decrypting anything."""
    return [str(r.header.get("kid", "")) for r in _sealed(package).recipients]


_VerifierMaterial = tuple[bool, str]
_verifiers: OrderedDict[tuple[PrivateKey, x509.Certificate], _VerifierMaterial] = OrderedDict()
_verifiers_lock = threading.Lock()


def _verifier_material(verifier_key: ec.EllipticCurvePrivateKey, verifier_cert: x509.Certificate) -> _VerifierMaterial:
    """(key matches certificate, certificate thumbprint) for a verifier, remembered for the last few
    (key object, certificate) pairs: a bundle opens thousands of packages with the same key."""
    pair = (verifier_key, verifier_cert)  # the key object by identity (kept alive here), the certificate by DER
    with _verifiers_lock:
        hit = _verifiers.get(pair)
    if hit is None:
        hit = (same_public_key(verifier_key, verifier_cert), certificate_thumbprint(verifier_cert))
        with _verifiers_lock:
            _verifiers[pair] = hit
            while len(_verifiers) > 8:
                _verifiers.popitem(last=False)
    return hit


def open_evidence(package: SealedEvidence | dict[str, Any], verifier_key: PrivateKey,
                  verifier_cert: x509.Certificate) -> EvidenceContent:
    """Decrypt an evidence package with the verifier's key; return its content (nested packages still sealed).

    Raises :class:`NotARecipient` when no recipient entry names ``verifier_cert`` or the key does not unwrap it, and
    :class:`~connector.errors.InvalidSignature` when the package or its plaintext is malformed. Nothing in the
    content is verified here: pass ``content.attestation`` and ``content.disclosures`` to ``verify_attestation``.
    """
    if not isinstance(verifier_key, ec.EllipticCurvePrivateKey):
        raise NotARecipient("the verifier key does not belong to the verifier certificate")
    matches, thumb = _verifier_material(verifier_key, verifier_cert)
    if not matches:
        raise NotARecipient("the verifier key does not belong to the verifier certificate")
    sealed = _sealed(package)
    mine = [r for r in sealed.recipients if r.header.get("x5t#S256") == thumb]
    if not mine:
        raise NotARecipient("evidence is not sealed to this verifier certificate")
    if mine[0].header.get("alg") != KEY_ALG:
        raise InvalidSignature(f"key management algorithm must be {KEY_ALG}")
    recipient = mine[0]
    try:
        protected, plaintext = open_ecdh_es_a256kw(
            verifier_key, protected=sealed.protected, recipient_header=recipient.header,
            encrypted_key=recipient.encrypted_key, iv=sealed.iv, ciphertext=sealed.ciphertext, tag=sealed.tag,
            unprotected=sealed.unprotected, aad=sealed.aad, max_ciphertext=MAX_EVIDENCE_BYTES)
    except JweError as exc:
        raise NotARecipient(f"cannot decrypt evidence: {exc}") from None
    if protected.get("enc") != ENC:
        raise InvalidSignature(f"content encryption must be {ENC}")
    if protected.get("typ") != EVIDENCE_TYP:
        raise InvalidSignature(f"typ must be {EVIDENCE_TYP}")
    try:
        return EvidenceContent.model_validate(strict_json_loads(plaintext))
    except (ValueError, ValidationError):
        raise InvalidSignature("evidence plaintext is not an evidence content document") from None


def reseal_evidence(
    package: dict[str, Any],
    verifier_key: PrivateKey,
    verifier_cert: x509.Certificate,
    new_recipients: Sequence[Recipient],
    trust: TrustStore,
    at: datetime,
    *,
    recursive: bool = True,
) -> dict[str, Any]:
    """Open ``package`` as ``verifier_cert`` and seal the same content to ``new_recipients``.

    With ``recursive`` (the default), nested upstream packages that ``verifier_cert`` can open are re-sealed too;
    the others are kept as they are. The caller decides who may ask for a re-seal (the holder of the attestation).
    """
    content = open_evidence(package, verifier_key, verifier_cert)
    if recursive:
        upstream = []
        for item in content.upstream:
            evidence = item.evidence
            if evidence is not None:
                nested = evidence.to_json_dict()
                thumb = certificate_thumbprint(verifier_cert)
                if any(r.header.get("x5t#S256") == thumb for r in evidence.recipients):
                    nested = reseal_evidence(nested, verifier_key, verifier_cert, new_recipients, trust, at)
                evidence = SealedEvidence.model_validate(nested)
            upstream.append(UpstreamEvidence(attestation=item.attestation, evidence=evidence))
        content = EvidenceContent(attestation=content.attestation, disclosures=content.disclosures, upstream=upstream)
    return seal_evidence(content, new_recipients, trust, at)
