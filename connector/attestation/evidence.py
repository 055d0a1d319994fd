"""Evidence packages: an attestation's disclosures and its upstream attestations, sealed to verifiers.

Flat layout (decision 0004, ``bundleVersion "2"``): an attestation's :class:`Evidence` is the id of its own package
plus a map from package id to sealed package holding its package and every package of the tree below it. A
package's plaintext (:class:`EvidenceContent`) lists each upstream attestation with the *id* of that attestation's
package, never the package itself, so packages are never sealed inside each other: a tier forwards the packages it
received unchanged and adds its own, and the evidence grows by one package per attestation whatever the depth.
Package ids are random 128-bit values (:func:`new_package_id`), not digests, so an id says nothing about the
attestation. But a forwarded package keeps its id and its bytes: a customer that receives two footprints of one
supplier built on the same upstream footprint sees the same package in both maps, and learns that they share that
input (not what it is, nor whose). The nested v1 layout hid this inside fresh ciphertext (decision 0004).

Each package is a JWE JSON general serialization (RFC 7516 section 7.2.1), one recipient per verifier certificate, key management
``ECDH-ES+A256KW`` and content encryption ``A256GCM``: sealed with joserfc, opened by
:func:`connector.identity.jwe.open_ecdh_es_a256kw` (that one profile on ``cryptography``). Each recipient is named in its unprotected header by
``x5t#S256`` (its certificate thumbprint) and ``kid`` (its company id). Only certificates with the ``verifier`` role
are accepted as recipients. The optional members ``unprotected`` and ``aad`` are omitted, never ``null`` (RFC 7516;
packages sealed before issue 14 wrote nulls, still read). Upstream packages stay sealed to whoever their issuer
sealed them to, so a customer forwards them without being able to read them; the upstream SD-JWTs (clear claims of tier 2 and beyond) are only
inside the parent's ciphertext.

The JWE authenticates nothing about the sender (ECDH-ES is anonymous); what matters is bound by signatures inside:
the attestation is signed, each disclosure must match a digest in it, each upstream attestation is signed and bound
by the ``attestationDigest`` of an input.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.jwk import ECKey
from pydantic import Field, ValidationError

from ..errors import InvalidSignature, TrustError, ValidationFailed
from ..identity.ca import company_id_of
from ..identity.jwe import JweError, open_ecdh_es_a256kw
from ..identity.keys import PrivateKey, b64url, certificate_thumbprint, same_public_key
from ..identity.oids import Role
from ..identity.trust import TrustStore
from ..strict_json import canonical_json, strict_json_loads
from .models import SealedEvidence, WireModel

KEY_ALG = "ECDH-ES+A256KW"
ENC = "A256GCM"
EVIDENCE_TYP = "cfp-evidence+jwe"
_ALGORITHMS = [KEY_ALG, ENC]
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024
"""Longest ciphertext member (base64url characters) ``open_evidence`` accepts, read at each call. Packages are flat
(no package inside another), so one grows only with its attestation's direct inputs: about 5.7 KB per input."""

PACKAGE_ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"
PackageId = Annotated[
    str, Field(pattern=PACKAGE_ID_PATTERN, description="random 128-bit package id, unpadded base64url (22 characters)")
]


def new_package_id() -> str:
    """A fresh random package id: 128 bits from the OS CSPRNG, unpadded base64url. Never a digest of anything."""
    return b64url(secrets.token_bytes(16))


class UpstreamPackage(WireModel):
    """An upstream attestation used as an input, with the id of its own evidence package (null if it has none)."""

    attestation: str = Field(description="the upstream SD-JWT as the issuer received it (issuer JWT followed by ~)")
    package: PackageId | None = Field(default=None, description="id of its evidence package in the same map")


class EvidenceDocument(WireModel):
    """The source document of an entered input (issue 17), so that the verifier can open it and hash it again."""

    media_type: str = Field(min_length=1, max_length=100, description="e.g. application/json, application/pdf")
    content: str = Field(description="the document's bytes, base64 (RFC 4648, padded)")

    def data(self) -> bytes:
        """The document's bytes; InvalidSignature when ``content`` is not base64."""
        try:
            return base64.b64decode(self.content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidSignature("an evidence document is not base64") from None

    @classmethod
    def of(cls, data: bytes, media_type: str) -> EvidenceDocument:
        return cls(media_type=media_type, content=base64.b64encode(data).decode("ascii"))


def _empty(value: object) -> bool:
    return not value


class EvidenceContent(WireModel):
    """The plaintext of an evidence package (v2): one attestation's disclosures and its upstream attestations, each
    with the id of its package (sealed on its own, side by side in the map), and the source documents of its entered
    inputs by their SHA-256 (lower-case hex; omitted when there are none, so packages without are as before)."""

    attestation: str = Field(description="the SD-JWT as given to the customer (issuer JWT followed by ~)")
    disclosures: list[str] = Field(default_factory=list)
    upstream: list[UpstreamPackage] = Field(default_factory=list)
    documents: dict[Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")], EvidenceDocument] = Field(
        default_factory=dict,
        exclude_if=_empty,
        description="source documents of this attestation's entered inputs, by lower-case hex SHA-256",
    )


class Evidence(WireModel):
    """An attestation's evidence as it travels (PACT extension ``evidence``, stored with the attestation): the id of
    its own package and every package of its tree, each a JWE sealed by its issuer to its verifiers."""

    package: PackageId = Field(description="id of this attestation's own package in ``packages``")
    packages: dict[PackageId, SealedEvidence] = Field(
        min_length=1, description="package id -> evidence package (JWE); this attestation's and every upstream one"
    )


class MalformedEvidence(ValidationFailed):
    """Evidence received from upstream is not the v2 shape, or two trees give one package id different packages."""

    type_ = "malformed-evidence"
    title = "The evidence is malformed"


def evidence_of(evidence: Evidence | Mapping[str, Any]) -> Evidence:
    """``evidence`` as a validated :class:`Evidence`; :class:`MalformedEvidence` (with the first problem) otherwise."""
    if isinstance(evidence, Evidence):
        return evidence
    try:
        out = Evidence.model_validate(evidence)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise MalformedEvidence(
            f"evidence is not a v2 evidence set (package id and packages map): {where}: {first['msg']}"
        ) from None
    if out.package not in out.packages:
        raise MalformedEvidence(f"evidence names package {out.package}, which is not in its packages")
    return out


def merge_packages(trees: Iterable[Evidence | Mapping[str, Any] | None]) -> dict[str, SealedEvidence]:
    """Every package of ``trees`` in one map (the same package reached twice is kept once); MalformedEvidence when
    one id stands for two different packages."""
    merged: dict[str, SealedEvidence] = {}
    for tree in trees:
        if tree is None:
            continue
        for pid, package in evidence_of(tree).packages.items():
            known = merged.setdefault(pid, package)
            if known is not package and known != package:
                raise MalformedEvidence(f"package id {pid} stands for two different packages")
    return merged


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

    One package on its own; :func:`seal_evidence_tree` builds an attestation's whole :class:`Evidence`.

    Example::

        package = seal_evidence(
            EvidenceContent(attestation=issued.sd_jwt, disclosures=issued.disclosures,
                            upstream=[UpstreamPackage(attestation=up_sd_jwt, package=up_evidence.package)]),
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


def seal_evidence_tree(
    attestation: str,
    disclosures: Sequence[str],
    upstream: Sequence[tuple[str, Evidence | Mapping[str, Any] | None]],
    recipients: Sequence[Recipient],
    trust: TrustStore,
    at: datetime,
    documents: Mapping[str, EvidenceDocument] | None = None,
) -> dict[str, Any]:
    """Seal ``attestation``'s package to ``recipients`` and return its :class:`Evidence` as JSON: a new random
    package id and the packages of every upstream evidence (forwarded unchanged) plus the new one.

    ``upstream`` is (upstream SD-JWT, its evidence or None) per attested input, in input order; ``documents`` the
    source documents of the entered inputs by SHA-256 hex. Raises MalformedEvidence when
    an upstream evidence is not the v2 shape, RecipientRefused as :func:`seal_evidence`.

    Example::

        evidence = seal_evidence_tree(issued.sd_jwt, issued.disclosures, [(up_sd_jwt, up_evidence)],
                                      [notified_body_cert], trust, at=datetime.now(UTC))
    """
    trees = [evidence_of(e) if e is not None else None for _, e in upstream]
    packages = merge_packages(trees)
    entries = [
        UpstreamPackage(attestation=sd_jwt, package=tree.package if tree is not None else None)
        for (sd_jwt, _), tree in zip(upstream, trees, strict=True)
    ]
    content = EvidenceContent(
        attestation=attestation, disclosures=list(disclosures), upstream=entries, documents=dict(documents or {})
    )
    own = seal_evidence(content, recipients, trust, at)
    pid = new_package_id()
    while pid in packages:  # 2^-128: never, but a clash must not replace a package
        pid = new_package_id()
    return {"package": pid, "packages": {**{k: v.to_json_dict() for k, v in packages.items()}, pid: own}}


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


def open_evidence(
    package: SealedEvidence | dict[str, Any], verifier_key: PrivateKey, verifier_cert: x509.Certificate
) -> EvidenceContent:
    """Decrypt an evidence package with the verifier's key; return its content (upstream packages are named by id, still sealed in the map).

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
            verifier_key,
            protected=sealed.protected,
            recipient_header=recipient.header,
            encrypted_key=recipient.encrypted_key,
            iv=sealed.iv,
            ciphertext=sealed.ciphertext,
            tag=sealed.tag,
            unprotected=sealed.unprotected,
            aad=sealed.aad,
            max_ciphertext=MAX_EVIDENCE_BYTES,
        )
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
    evidence: Evidence | Mapping[str, Any],
    verifier_key: PrivateKey,
    verifier_cert: x509.Certificate,
    new_recipients: Sequence[Recipient],
    trust: TrustStore,
    at: datetime,
    *,
    recursive: bool = True,
) -> dict[str, Any]:
    """Open ``evidence``'s own package as ``verifier_cert`` and seal the same content to ``new_recipients``; the
    package ids stay the same.

    With ``recursive`` (the default), every other package of the map that ``verifier_cert`` is a recipient of is
    re-sealed too; the others are kept as they are. The caller decides who may ask for a re-seal (the holder of the
    attestation).
    """
    tree = evidence_of(evidence)
    thumb = certificate_thumbprint(verifier_cert)
    packages = {k: v.to_json_dict() for k, v in tree.packages.items()}
    for pid, package in tree.packages.items():
        if pid != tree.package and not (
            recursive and any(r.header.get("x5t#S256") == thumb for r in package.recipients)
        ):
            continue
        content = open_evidence(package, verifier_key, verifier_cert)
        packages[pid] = seal_evidence(content, new_recipients, trust, at)
    return {"package": tree.package, "packages": packages}
