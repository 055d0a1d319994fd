"""Opening one JWE recipient entry for exactly one profile: ``ECDH-ES+A256KW`` key management, ``A256GCM`` content
encryption, EC P-256 (RFC 7516 JSON serialization, RFC 7518 sections 4.6 and 5.3).

Sealing stays with joserfc (connector.attestation.evidence); this is the decrypting half on ``cryptography`` alone,
because joserfc's generic machinery (key objects, registries, header models) cost about a third of a bundle's
verification time. Nothing else is accepted: any other ``alg``/``enc``, ``zip``, ``crit``, unknown header members,
header members repeated across the protected, shared and per-recipient headers (RFC 7516 section 7.2.1), an
ephemeral key that is not a P-256 point on the curve, an IV other than 96 bits or a tag other than 128 bits.

Every failure is a :class:`JweError` (a ``ValueError``) whose message says what failed; it never says whether the
key unwrap or the tag check failed on a package that was tampered with beyond "cannot decrypt".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from ..strict_json import strict_json_loads
from .keys import b64url_decode

ALG = "ECDH-ES+A256KW"
ENC = "A256GCM"
KEY_BITS = 256
"""keydatalen of the Concat KDF for A256KW (RFC 7518 section 4.6.2)."""

MAX_PROTECTED_BYTES = 1024
"""Longest protected header segment accepted (base64url characters), as joserfc's registry default."""

_KNOWN = frozenset(
    {"alg", "enc", "typ", "cty", "kid", "x5t#S256", "x5t", "x5c", "x5u", "jku", "jwk", "epk", "apu", "apv"}
)
"""Header members accepted (RFC 7516 section 4.1, RFC 7518 section 4.6.1); ``zip`` and ``crit`` are refused."""
_STRINGS = ("alg", "enc", "typ", "cty", "kid", "x5t#S256", "x5t", "x5u", "jku", "apu", "apv")


class JweError(ValueError):
    """The JWE cannot be opened with this key; the message says why."""


def _b64(value: object, what: str) -> bytes:
    try:
        return b64url_decode(value)  # type: ignore[arg-type]
    except (ValueError, UnicodeEncodeError):
        raise JweError(f"{what} is not base64url") from None


def concat_kdf(shared_secret: bytes, algorithm_id: str, key_bits: int, apu: bytes = b"", apv: bytes = b"") -> bytes:
    """The Concat KDF of RFC 7518 section 4.6.2 (NIST SP 800-56A, SHA-256): ``key_bits`` of key from ``Z``.

    OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo (each a 32-bit big-endian length and the octets) ||
    SuppPubInfo (``key_bits`` as 32-bit big-endian); SuppPrivInfo empty.
    """
    alg = algorithm_id.encode("ascii")
    other = b"".join(len(x).to_bytes(4, "big") + x for x in (alg, apu, apv)) + key_bits.to_bytes(4, "big")
    return ConcatKDFHash(algorithm=hashes.SHA256(), length=key_bits // 8, otherinfo=other).derive(shared_secret)


def _ephemeral_key(epk: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(epk, Mapping):
        raise JweError("epk must be a JWK object")
    if epk.get("kty") != "EC" or epk.get("crv") != "P-256":
        raise JweError("epk must be an EC P-256 key")
    if "d" in epk:
        raise JweError("epk must be a public key")
    x, y = _b64(epk.get("x"), "epk x"), _b64(epk.get("y"), "epk y")
    if len(x) != 32 or len(y) != 32:
        raise JweError("epk coordinates must be 32 bytes")
    try:  # checks that the point is on the curve
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
    except ValueError:
        raise JweError("epk is not a point on P-256") from None


def open_ecdh_es_a256kw(
    private_key: ec.EllipticCurvePrivateKey,
    *,
    protected: str,
    recipient_header: Mapping[str, Any],
    encrypted_key: str,
    iv: str,
    ciphertext: str,
    tag: str,
    unprotected: Mapping[str, Any] | None = None,
    aad: str | None = None,
    max_ciphertext: int | None = None,
) -> tuple[dict[str, Any], bytes]:
    """Decrypt one recipient entry of a JWE JSON serialization; return (protected header, plaintext).

    ``protected``, ``encrypted_key``, ``iv``, ``ciphertext``, ``tag`` and ``aad`` are the base64url members as
    received; ``max_ciphertext`` bounds the ciphertext member's length in characters. ``enc`` must be in the
    protected header (it is what the AAD authenticates); ``alg`` and ``epk`` may be anywhere.
    """
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(private_key.curve, ec.SECP256R1):
        raise JweError("the key must be an EC P-256 private key")
    if not isinstance(protected, str) or len(protected) > MAX_PROTECTED_BYTES:
        raise JweError(f"protected header missing or over {MAX_PROTECTED_BYTES} bytes")
    if not isinstance(ciphertext, str) or (max_ciphertext is not None and len(ciphertext) > max_ciphertext):
        raise JweError(f"ciphertext size exceeds {max_ciphertext} bytes")
    try:
        header = strict_json_loads(_b64(protected, "protected header"))
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
        raise JweError(f"protected header is not strict JSON: {exc}") from None
    if not isinstance(header, dict):
        raise JweError("protected header is not a JSON object")

    joint: dict[str, Any] = {}
    for part in (header, unprotected or {}, recipient_header):
        if not isinstance(part, Mapping):
            raise JweError("header is not a JSON object")
        repeated = joint.keys() & part.keys()
        if repeated:
            raise JweError(f"header member(s) {sorted(repeated)} repeated across headers")
        joint.update(part)
    unknown = joint.keys() - _KNOWN
    if unknown:
        raise JweError(f"header member(s) {sorted(unknown)} not accepted")
    for name in _STRINGS:
        if name in joint and not isinstance(joint[name], str):
            raise JweError(f"header {name} must be a string")
    if joint.get("alg") != ALG:
        raise JweError(f"alg must be {ALG}")
    if header.get("enc") != ENC:
        raise JweError(f"enc must be {ENC} in the protected header")

    epk = _ephemeral_key(joint.get("epk"))
    apu = _b64(joint["apu"], "apu") if "apu" in joint else b""
    apv = _b64(joint["apv"], "apv") if "apv" in joint else b""
    wrapped, nonce, sealed, mac = (
        _b64(encrypted_key, "encrypted_key"),
        _b64(iv, "iv"),
        _b64(ciphertext, "ciphertext"),
        _b64(tag, "tag"),
    )
    if len(nonce) != 12:
        raise JweError("iv must be 96 bits")
    if len(mac) != 16:
        raise JweError("tag must be 128 bits")
    if len(wrapped) != 40:
        raise JweError("encrypted_key must wrap a 256-bit key")
    associated = protected.encode("ascii")
    if aad is not None:
        if not isinstance(aad, str) or not aad:
            raise JweError("aad must be omitted when empty")
        _b64(aad, "aad")
        associated += b"." + aad.encode("ascii")

    kek = concat_kdf(private_key.exchange(ec.ECDH(), epk), ALG, KEY_BITS, apu, apv)
    try:
        cek = aes_key_unwrap(kek, wrapped)
    except InvalidUnwrap:
        raise JweError("key unwrap failed") from None
    try:
        plaintext = AESGCM(cek).decrypt(nonce, sealed + mac, associated)
    except InvalidTag:
        raise JweError("authentication tag does not match") from None
    return header, plaintext


__all__ = ["ALG", "ENC", "JweError", "concat_kdf", "open_ecdh_es_a256kw"]
