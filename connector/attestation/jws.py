"""Compact JWS (RFC 7515) signed with a dataspace company key, the certificate chain in ``x5c``.

Hand-written on ``cryptography`` rather than a JOSE library so the checks are explicit and few: an algorithm
allow-list (ES256 with raw ``r||s`` signatures; Ed25519 per RFC 9864 optional), a ``typ`` check, no ``crit``,
no ``jwk``/``jku``/``x5u`` key sources, duplicate JSON member names refused, the signer's identity taken only from
the ``x5c`` chain validated by a :class:`~connector.identity.TrustStore` at the signing time.

Reused by attestations (SD-JWT issuer JWTs), declarations and certification credentials.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from ..errors import InvalidSignature
from ..identity.keys import PrivateKey, PublicKey, b64url, b64url_decode, same_public_key, x5c_decode, x5c_encode
from ..identity.trust import CompanyIdentity, RoleSpec, TrustStore
from ..strict_json import canonical_json, strict_json_loads

ALLOWED_ALGS = frozenset({"ES256", "Ed25519"})
MAX_TOKEN = 1_000_000
"""Refuse tokens over 1 MB before parsing anything."""
_ALLOWED_HEADER = frozenset({"alg", "typ", "x5c", "kid", "cty", "x5t#S256"})


X5C_CACHE_SIZE = 1024
"""Distinct ``x5c`` header values whose parsed certificates are remembered (one per signing certificate)."""
_x5c_cache: OrderedDict[tuple[str, ...], tuple[tuple[x509.Certificate, ...], PublicKey | None]] = OrderedDict()
_x5c_lock = threading.Lock()


def x5c_chain(values: object) -> tuple[list[x509.Certificate], PublicKey | None]:
    """:func:`~connector.identity.keys.x5c_decode` of an ``x5c`` header and the leaf's public key (None when its type
    is not supported), remembered per header value: a bundle repeats the same few chains thousands of times.

    Raises InvalidSignature like ``x5c_decode`` (malformed values are never cached) and when the leaf's public key
    cannot be read. Certificates are immutable, so handing the same objects out again is safe.
    """
    key = tuple(values) if isinstance(values, list) and all(isinstance(v, str) for v in values) else None
    if key is not None:
        with _x5c_lock:
            hit = _x5c_cache.get(key)
            if hit is not None:
                _x5c_cache.move_to_end(key)
        if hit is not None:
            return list(hit[0]), hit[1]
    chain = x5c_decode(values)
    try:
        leaf_key = chain[0].public_key()
    except ValueError:
        raise InvalidSignature("x5c leaf has an unreadable public key") from None
    public = leaf_key if isinstance(leaf_key, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey) else None
    if key is not None:
        with _x5c_lock:
            _x5c_cache[key] = (tuple(chain), public)
            while len(_x5c_cache) > X5C_CACHE_SIZE:
                _x5c_cache.popitem(last=False)
    return chain, public


@dataclass(frozen=True)
class VerifiedJws:
    """A JWS whose signature, chain and times were checked."""

    header: dict[str, Any]
    payload: dict[str, Any]
    issuer: CompanyIdentity
    signed_at: datetime


def alg_for_key(key: PrivateKey | PublicKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise InvalidSignature(f"unsupported EC curve {key.curve.name}: ES256 needs P-256")
        return "ES256"
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return "Ed25519"
    raise InvalidSignature(f"unsupported key type {type(key).__name__}")


def _sign(key: PrivateKey, signing_input: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return key.sign(signing_input)


def verify_signature(alg: str, key: PublicKey, signing_input: bytes, signature: bytes) -> None:
    """Check one JWS signature; raises InvalidSignature. ``alg`` must be allowed and match the key type."""
    if alg not in ALLOWED_ALGS:
        raise InvalidSignature(f"alg {alg!r} not allowed")
    if alg_for_key(key) != alg:
        raise InvalidSignature(f"alg {alg} does not match the key type")
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                raise InvalidSignature("ES256 signature must be 64 bytes (r||s)")
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            key.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(signature, signing_input)
    except CryptoInvalidSignature:
        raise InvalidSignature("signature does not verify") from None


HEADER_CACHE_SIZE = 256
"""Distinct encoded JWS headers whose decoded JSON is remembered: a signer's header (``alg``, ``typ``, ``x5c``) is
the same on every token it signs, and is most of a token's bytes."""
_header_cache: dict[str, dict[str, Any]] = {}


def _decode_header(encoded: str) -> Any:
    """The decoded JSON of an encoded header (ValueError when malformed). A JSON object is remembered and handed out
    as a copy: callers may change what they get."""
    hit = _header_cache.get(encoded)
    if hit is None:
        header = strict_json_loads(b64url_decode(encoded))
        if not isinstance(header, dict):
            return header
        if len(_header_cache) >= HEADER_CACHE_SIZE:
            _header_cache.clear()  # rare (more signers than that in one process): start over, never grow
        _header_cache[encoded] = hit = header
    return {k: (list(v) if isinstance(v, list) else v) for k, v in hit.items()}


@dataclass(frozen=True)
class CompactJws:
    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes


def _dots(token: object) -> tuple[int, int]:
    """The positions of the two dots of a compact JWS; InvalidSignature for anything else."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise InvalidSignature("token is not a string or too large")
    first = token.find(".")
    second = token.find(".", first + 1) if first >= 0 else -1
    if second < 0 or token.find(".", second + 1) >= 0:
        raise InvalidSignature("not a compact JWS (three dot-separated parts)")
    return first, second


def decode_compact(token: str) -> CompactJws:
    """Split and decode a compact JWS without verifying it (header must be a JSON object)."""
    first, second = _dots(token)
    try:
        header = _decode_header(token[:first])
        payload = b64url_decode(token[first + 1 : second])
        signature = b64url_decode(token[second + 1 :])
        signing_input = token[:second].encode("ascii")
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature("malformed JWS encoding") from None
    if not isinstance(header, dict):
        raise InvalidSignature("JWS header is not a JSON object")
    return CompactJws(header=header, payload=payload, signing_input=signing_input, signature=signature)


def payload_object(jws: CompactJws) -> dict[str, Any]:
    """The JWS payload as a JSON object (strict: no duplicate members, no NaN); InvalidSignature otherwise."""
    try:
        payload = strict_json_loads(jws.payload)
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature("payload is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidSignature("payload is not a JSON object")
    return payload


def unverified_payload(token: str) -> dict[str, Any]:
    """The payload of a compact JWS WITHOUT verifying it: only for naming things in reports and peeking."""
    return payload_object(decode_compact(token))


def verify_compact_with_key(token: str, key: PublicKey, *, algorithms: frozenset[str] = ALLOWED_ALGS) -> CompactJws:
    """Verify a compact JWS against a known public key (no certificates). Used by the RFC 7515 vectors."""
    jws = decode_compact(token)
    alg = jws.header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise InvalidSignature(f"alg {alg!r} not allowed")
    verify_signature(alg, key, jws.signing_input, jws.signature)
    return jws


def sign_jws_json(
    payload: dict[str, Any],
    key: PrivateKey,
    chain: Sequence[x509.Certificate],
    typ: str,
    *,
    extra_header: dict[str, Any] | None = None,
) -> str:
    """Sign a JSON payload as a compact JWS with header ``{alg, typ, x5c}``.

    ``chain`` is the signer's certificate chain, leaf first (the leaf must hold ``key``'s public half).
    The payload should carry ``iat`` (NumericDate): :func:`verify_jws` validates the chain at that time.

    >>> token = sign_jws_json({"iss": company_id, "iat": 1767225600}, key, chain, "example+jwt")  # doctest: +SKIP
    >>> verify_jws(token, trust, at=now, typ="example+jwt").payload["iss"]                      # doctest: +SKIP
    'urn:pact:andes-lithium.example:company:andes-lithium'
    """
    if not chain:
        raise ValueError("a certificate chain is required")
    if isinstance(payload.get("iat"), bool) or not isinstance(payload.get("iat"), int):
        raise ValueError("the payload needs an integer iat (NumericDate): the chain is validated at that time")
    if not same_public_key(key, chain[0]):
        raise ValueError("the signing key does not match the leaf certificate")
    header: dict[str, Any] = {"alg": alg_for_key(key), "typ": typ, "x5c": x5c_encode(chain)}
    if extra_header:
        unknown = set(extra_header) - _ALLOWED_HEADER
        if unknown or {"alg", "x5c"} & set(extra_header):
            raise ValueError(f"header members not allowed: {sorted(unknown | ({'alg', 'x5c'} & set(extra_header)))}")
        header.update(extra_header)
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(payload))}".encode("ascii")
    return f"{signing_input.decode('ascii')}.{b64url(_sign(key, signing_input))}"


def _typ_matches(actual: Any, expected: str) -> bool:
    if not isinstance(actual, str):
        return False
    norm = actual.lower().removeprefix("application/")
    return norm == expected.lower().removeprefix("application/")


def _numeric_date(payload: dict[str, Any], name: str, *, required: bool) -> datetime | None:
    value = payload.get(name)
    if value is None:
        if required:
            raise InvalidSignature(f"payload has no {name}")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSignature(f"{name} must be an integer NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidSignature(f"{name} out of range") from None


@dataclass(frozen=True)
class CheckedHeader:
    """An encoded JWS header that passed :func:`verify_jws`'s header checks (all but ``typ``, which depends on the
    caller): decoded, ``alg`` allowed, no ``crit``/``jwk``/``jku``/``x5u``, ``x5c`` parsed with a supported leaf key."""

    fields: dict[str, Any]
    """The decoded header, shared by every caller: read it, never change it (:meth:`copy_fields` for a copy)."""
    alg: str
    typ: Any
    chain: tuple[x509.Certificate, ...]
    leaf_key: PublicKey

    def copy_fields(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.fields.items()}


_checked_headers: dict[str, CheckedHeader] = {}
"""Encoded headers that passed the checks (at most :data:`HEADER_CACHE_SIZE`): a signer's header is the same on
every token it signs, and is most of a token's bytes (``x5c``). Failures are never remembered."""


def checked_header(encoded: str) -> CheckedHeader:
    """The header checks of :func:`verify_jws`, in its order, for an encoded header; InvalidSignature when one fails.
    A header that passes is remembered."""
    hit = _checked_headers.get(encoded)
    if hit is not None:
        return hit
    try:
        header = strict_json_loads(b64url_decode(encoded))
    except (ValueError, UnicodeDecodeError):
        raise InvalidSignature("malformed JWS encoding") from None
    if not isinstance(header, dict):
        raise InvalidSignature("JWS header is not a JSON object")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        raise InvalidSignature(f"alg {alg!r} not allowed")
    if "crit" in header:
        raise InvalidSignature("crit header not supported")
    for forbidden in ("jwk", "jku", "x5u"):
        if forbidden in header:
            raise InvalidSignature(f"{forbidden} header not accepted: keys come from x5c only")
    chain, leaf_key = x5c_chain(header.get("x5c"))
    if leaf_key is None:
        raise InvalidSignature("x5c leaf key type not supported")
    checked = CheckedHeader(fields=header, alg=alg, typ=header.get("typ"), chain=tuple(chain), leaf_key=leaf_key)
    if len(_checked_headers) >= HEADER_CACHE_SIZE:
        _checked_headers.clear()  # rare (more signers than that in one process): start over, never grow
    _checked_headers[encoded] = checked
    return checked


def clear_caches() -> None:
    """Forget every remembered header and ``x5c`` chain (benchmarks of a first sighting; tests)."""
    _checked_headers.clear()
    _header_cache.clear()
    with _x5c_lock:
        _x5c_cache.clear()


def verify_jws(
    token: str,
    trust: TrustStore,
    *,
    at: datetime,
    role: RoleSpec = None,
    typ: str | None = None,
) -> VerifiedJws:
    """Verify a compact JWS made by :func:`sign_jws_json`; return its header, payload and the signer's identity.

    Checks, in order: size and form, header encoding, ``alg`` allow-list, no ``crit``, ``x5c``, ``typ`` (when given),
    the signature with the leaf certificate's key, ``iat`` (required; not after ``at`` + clock skew), ``nbf`` and
    ``exp`` against ``at``, and the chain with :meth:`TrustStore.validate` **at the signing time** ``iat``
    (revocation after signing does not invalidate an earlier signature), with ``role`` when given.

    Raises :class:`~connector.errors.InvalidSignature` (or its subclass TrustError); ``.reason`` says which check.

    >>> verify_jws(token, trust, at=datetime.now(UTC), role="verifier", typ="vc+jwt")  # doctest: +SKIP
    """
    if at.tzinfo is None:
        raise InvalidSignature("verification time must be timezone-aware")
    first, second = _dots(token)
    header = checked_header(token[:first])
    if typ is not None and not _typ_matches(header.typ, typ):
        raise InvalidSignature(f"typ {header.typ!r}, expected {typ!r}")
    try:
        jws = CompactJws(
            header=header.copy_fields(),
            payload=b64url_decode(token[first + 1 : second]),
            signing_input=token[:second].encode("ascii"),
            signature=b64url_decode(token[second + 1 :]),
        )
    except (ValueError, UnicodeEncodeError):
        raise InvalidSignature("malformed JWS encoding") from None
    verify_signature(header.alg, header.leaf_key, jws.signing_input, jws.signature)

    payload = payload_object(jws)

    skew = trust.clock_skew
    iat = _numeric_date(payload, "iat", required=True)
    assert iat is not None
    if iat > at + skew:
        raise InvalidSignature(f"issued in the future (iat {iat.isoformat()})")
    nbf = _numeric_date(payload, "nbf", required=False)
    if nbf is not None and nbf > at + skew:
        raise InvalidSignature(f"not yet valid (nbf {nbf.isoformat()})")
    exp = _numeric_date(payload, "exp", required=False)
    if exp is not None and exp <= at:
        raise InvalidSignature(f"expired (exp {exp.isoformat()})")

    identity = trust.validate(header.chain, at=iat, role=role)
    return VerifiedJws(header=jws.header, payload=payload, issuer=identity, signed_at=iat)
