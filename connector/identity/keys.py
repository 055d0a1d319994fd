"""Keys and certificates as bytes: PEM load/save, x5c (base64 DER) encode/decode, JWK thumbprints.

This package is the only place that touches ``cryptography.hazmat`` key types directly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Sequence

import pybase64
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ..errors import InvalidSignature, ValidationFailed

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

MAX_X5C = 5
"""Longest certificate chain accepted in an ``x5c`` header (leaf, intermediates, optional root)."""


def generate_key() -> ec.EllipticCurvePrivateKey:
    """A fresh EC P-256 key (ES256 signatures, ECDH-ES key agreement)."""
    return ec.generate_private_key(ec.SECP256R1())


def private_key_to_pem(key: PrivateKey, password: bytes | None = None) -> bytes:
    """PKCS#8 PEM, encrypted with ``password`` when given."""
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def load_private_key(pem: bytes, password: bytes | None = None) -> PrivateKey:
    """Load a PEM private key; only EC and Ed25519 keys are accepted."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError) as exc:
        raise ValidationFailed(f"cannot load private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise ValidationFailed(f"unsupported private key type {type(key).__name__}: use EC P-256 or Ed25519")
    return key


def certificate_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def certificates_to_pem(certs: Iterable[x509.Certificate]) -> bytes:
    return b"".join(certificate_to_pem(c) for c in certs)


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """All certificates in a PEM bundle, in file order."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise ValidationFailed(f"cannot load certificates: {exc}") from None


def load_certificate(pem: bytes) -> x509.Certificate:
    """The first certificate of a PEM file."""
    return load_certificates(pem)[0]


def crl_to_pem(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.PEM)


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    """A CRL in PEM or DER."""
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError as exc:
        raise ValidationFailed(f"cannot load CRL: {exc}") from None


_URL_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_STANDARD_TO_URL = bytes.maketrans(b"+/", b"-_")


SIMD_FROM = 128
"""Inputs from this many bytes (characters to decode) go through pybase64's SIMD codec, 10-20x faster than binascii's
byte loop on evidence ciphertexts (6 KB to 60 MB); below, binascii's smaller call overhead wins (32-byte digests)."""


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 7515 section 2)."""
    if len(data) >= SIMD_FROM:
        return pybase64.b64encode(data, altchars=b"-_").rstrip(b"=").decode("ascii")
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_STANDARD_TO_URL).decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url decode; raises ValueError on padding or characters outside the alphabet."""
    if not isinstance(text, str) or "=" in text or "+" in text or "/" in text:
        raise ValueError("not unpadded base64url")
    if len(text) >= SIMD_FROM:
        # "-_" stand for "+/" (neither is there); validate refuses any other byte, non-ASCII text and a length that
        # no encoding has (4k + 1), as binascii's strict mode below
        return pybase64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    raw = text.encode("ascii")  # UnicodeEncodeError (a ValueError) outside ASCII
    # "-_" become "+/" (neither was there), the padding is added; strict mode refuses any other byte and a length
    # that no encoding has (4k + 1)
    return binascii.a2b_base64(raw.translate(_URL_TO_STANDARD) + b"=" * (-len(raw) % 4), strict_mode=True)


def x5c_encode(chain: Sequence[x509.Certificate]) -> list[str]:
    """``x5c`` header value (RFC 7515 section 4.1.6): standard base64 (with padding) of each DER, leaf first."""
    return [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode("ascii") for c in chain]


def x5c_decode(values: object) -> list[x509.Certificate]:
    """Parse an ``x5c`` header value; anything malformed is an InvalidSignature."""
    if not isinstance(values, list) or not values or len(values) > MAX_X5C:
        raise InvalidSignature("x5c: must be a non-empty list of at most 5 certificates")
    certs = []
    for value in values:
        if not isinstance(value, str):
            raise InvalidSignature("x5c: entries must be strings")
        try:
            der = base64.b64decode(value, validate=True)
            certs.append(x509.load_der_x509_certificate(der))
        except ValueError:
            raise InvalidSignature("x5c: entry is not a base64 DER certificate") from None
    return certs


def certificate_thumbprint(cert: x509.Certificate) -> str:
    """``x5t#S256``: base64url SHA-256 of the certificate's DER."""
    return b64url(hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest())


def same_public_key(key: PrivateKey, cert: x509.Certificate) -> bool:
    """Whether ``key`` is the private half of ``cert``'s public key."""
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return key.public_key().public_bytes(*fmt) == cert.public_key().public_bytes(*fmt)
