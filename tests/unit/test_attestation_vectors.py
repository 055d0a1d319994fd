"""Known-answer tests: RFC 9901 disclosure digest, RFC 7515 Appendix A.3 (ES256)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from connector.attestation.jws import verify_compact_with_key
from connector.attestation.sdjwt import disclosure_digest, encode_disclosure, parse_disclosure
from connector.errors import InvalidSignature
from connector.identity.keys import b64url_decode

RFC9901_DISCLOSURE = "WyJfMjZiYzRMVC1hYzZxMktJNmNCVzVlcyIsICJmYW1pbHlfbmFtZSIsICJNw7ZiaXVzIl0"
RFC9901_DIGEST = "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"

# RFC 7515 Appendix A.3.1: the EC P-256 key and the ES256 JWS.
RFC7515_A3_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI",
}
RFC7515_A3_JWS = (
    "eyJhbGciOiJFUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"
)


def _rfc7515_public_key() -> ec.EllipticCurvePublicKey:
    x = int.from_bytes(b64url_decode(RFC7515_A3_JWK["x"]), "big")
    y = int.from_bytes(b64url_decode(RFC7515_A3_JWK["y"]), "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def test_rfc9901_disclosure_encoding_and_digest() -> None:
    disclosure = encode_disclosure("_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius")
    assert disclosure == RFC9901_DISCLOSURE
    assert disclosure_digest(disclosure) == RFC9901_DIGEST


def test_rfc9901_disclosure_parses() -> None:
    d = parse_disclosure(RFC9901_DISCLOSURE)
    assert (d.salt, d.name, d.value, d.digest) == ("_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius", RFC9901_DIGEST)


def test_rfc7515_a3_es256_verifies() -> None:
    jws = verify_compact_with_key(RFC7515_A3_JWS, _rfc7515_public_key())
    assert jws.header == {"alg": "ES256"}
    assert jws.payload == b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'


def test_rfc7515_a3_private_key_matches_public_key() -> None:
    d = int.from_bytes(b64url_decode(RFC7515_A3_JWK["d"]), "big")
    key = ec.derive_private_key(d, ec.SECP256R1())
    assert key.public_key().public_numbers() == _rfc7515_public_key().public_numbers()


def test_rfc7515_a3_tampered_payload_fails() -> None:
    head, payload, sig = RFC7515_A3_JWS.split(".")
    tampered = f"{head}.{payload[:-2]}fQ.{sig}" if not payload.endswith("fQ") else f"{head}.{payload[:-3]}xfQ.{sig}"
    with pytest.raises(InvalidSignature):
        verify_compact_with_key(tampered, _rfc7515_public_key())


def test_rfc7515_a3_other_alg_refused() -> None:
    with pytest.raises(InvalidSignature) as err:
        verify_compact_with_key(RFC7515_A3_JWS, _rfc7515_public_key(), algorithms=frozenset({"Ed25519"}))
    assert "alg" in err.value.reason
