"""The generic JWS helper other credentials (declaration VC, certification credentials) reuse."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from connector.attestation import sign_jws_json, verify_jws
from connector.attestation.jws import _sign, decode_compact
from connector.errors import InvalidSignature, TrustError
from connector.identity import issue_company_certificate, x5c_encode
from connector.identity.keys import SIMD_FROM, b64url, b64url_decode
from connector.strict_json import canonical_json, strict_json_loads
from tests.pki import OEM_ID, SUPPLIER_ID, T0, VERIFIER_ID, make_pki

IAT = int(T0.timestamp())


def _forge(payload: dict, issued) -> str:
    """A correctly signed token whose payload sign_jws_json would refuse to make."""
    header = {"alg": "ES256", "typ": "x", "x5c": x5c_encode(issued.chain)}
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(payload))}"
    return f"{signing_input}.{b64url(_sign(issued.key, signing_input.encode()))}"


def test_sign_verify_with_role_and_typ() -> None:
    pki = make_pki()
    nb = pki.company(VERIFIER_ID, "verifier")
    token = sign_jws_json({"iss": VERIFIER_ID, "iat": IAT, "x": "1.5"}, nb.key, nb.chain, "cfp-certification+jwt")
    v = verify_jws(token, pki.trust(), at=T0, role="verifier", typ="cfp-certification+jwt")
    assert v.payload["x"] == "1.5" and v.issuer.company_id == VERIFIER_ID and v.signed_at == T0
    assert v.header["typ"] == "cfp-certification+jwt"
    with pytest.raises(TrustError):
        verify_jws(token, pki.trust(), at=T0, role="oem")
    with pytest.raises(InvalidSignature):
        verify_jws(token, pki.trust(), at=T0, typ="vc+jwt")


def test_typ_may_carry_application_prefix() -> None:
    pki = make_pki()
    oem = pki.company(OEM_ID, "oem")
    token = sign_jws_json({"iat": IAT}, oem.key, oem.chain, "application/vc+jwt")
    assert verify_jws(token, pki.trust(), at=T0, typ="vc+jwt").issuer.company_id == OEM_ID


def test_iat_required_exp_and_nbf_enforced() -> None:
    pki = make_pki()
    s = pki.company(SUPPLIER_ID, "supplier")
    with pytest.raises(ValueError):
        sign_jws_json({}, s.key, s.chain, "x")
    with pytest.raises(InvalidSignature) as err:
        verify_jws(_forge({}, s), pki.trust(), at=T0)
    assert "iat" in err.value.reason
    expiring = sign_jws_json({"iat": IAT, "exp": IAT + 60}, s.key, s.chain, "x")
    verify_jws(expiring, pki.trust(), at=T0 + timedelta(seconds=59))
    with pytest.raises(InvalidSignature):
        verify_jws(expiring, pki.trust(), at=T0 + timedelta(seconds=60))
    later = sign_jws_json({"iat": IAT, "nbf": IAT + 3600}, s.key, s.chain, "x")
    with pytest.raises(InvalidSignature):
        verify_jws(later, pki.trust(), at=T0)
    with pytest.raises(InvalidSignature):
        verify_jws(_forge({"iat": "soon"}, s), pki.trust(), at=T0)


def test_chain_checked_at_signing_time() -> None:
    pki = make_pki()
    s = pki.company(SUPPLIER_ID, "supplier", validity=timedelta(days=30))
    token = sign_jws_json({"iat": IAT}, s.key, s.chain, "x")
    # long after the certificate expired, a signature made while it was valid still verifies
    assert verify_jws(token, pki.trust(), at=T0 + timedelta(days=300)).issuer.company_id == SUPPLIER_ID


def test_ed25519_optional() -> None:
    pki = make_pki()
    key = ed25519.Ed25519PrivateKey.generate()
    issued = issue_company_certificate(pki.inter, company_id=SUPPLIER_ID, name="Ed", role="supplier", at=T0, key=key)
    token = sign_jws_json({"iat": IAT}, key, issued.chain, "x")
    v = verify_jws(token, pki.trust(), at=T0)
    assert v.header["alg"] == "Ed25519"


def test_extra_header_guarded() -> None:
    pki = make_pki()
    s = pki.company(SUPPLIER_ID, "supplier")
    token = sign_jws_json({"iat": IAT}, s.key, s.chain, "x", extra_header={"kid": "k1"})
    assert verify_jws(token, pki.trust(), at=T0).header["kid"] == "k1"
    for bad in ({"alg": "none"}, {"jku": "https://evil.example"}, {"crit": ["b64"]}):
        with pytest.raises(ValueError):
            sign_jws_json({"iat": IAT}, s.key, s.chain, "x", extra_header=bad)


def test_strict_json() -> None:
    with pytest.raises(ValueError):
        strict_json_loads('{"a": 1, "a": 2}')
    with pytest.raises(ValueError):
        strict_json_loads('{"a": NaN}')


def test_a_remembered_header_is_handed_out_as_a_copy() -> None:
    pki = make_pki()
    nb = pki.company(VERIFIER_ID, "verifier")
    token = sign_jws_json({"iss": VERIFIER_ID, "iat": IAT}, nb.key, nb.chain, "x+jwt")
    first = decode_compact(token).header
    first["typ"] = "changed"
    first["x5c"].clear()
    again = decode_compact(token).header
    assert again["typ"] == "x+jwt" and again["x5c"] == x5c_encode(nb.chain)
    assert verify_jws(token, pki.trust(), at=T0, typ="x+jwt").issuer.company_id == VERIFIER_ID
    verified = verify_jws(token, pki.trust(), at=T0, typ="x+jwt").header  # from the checked-header cache
    verified["alg"] = "none"
    verified["x5c"].clear()
    assert verify_jws(token, pki.trust(), at=T0, typ="x+jwt").header["x5c"] == x5c_encode(nb.chain)


def test_a_checked_header_still_meets_typ_signature_and_chain_checks() -> None:
    pki = make_pki()
    nb = pki.company(VERIFIER_ID, "verifier")
    token = sign_jws_json({"iss": VERIFIER_ID, "iat": IAT}, nb.key, nb.chain, "x+jwt")
    verify_jws(token, pki.trust(), at=T0, typ="x+jwt")  # the header is remembered now
    with pytest.raises(InvalidSignature) as refused:
        verify_jws(token, pki.trust(), at=T0, typ="vc+sd-jwt")
    assert "typ" in refused.value.reason
    header, payload, signature = token.split(".")
    forged = b64url(b'{"iss":"urn:pact:other.example:company:other","iat":%d}' % IAT)
    with pytest.raises(InvalidSignature) as refused:
        verify_jws(f"{header}.{forged}.{signature}", pki.trust(), at=T0)
    assert refused.value.reason == "signature does not verify"
    with pytest.raises(InvalidSignature) as refused:  # another dataspace's anchors: the chain is validated again
        verify_jws(token, make_pki().trust(), at=T0)
    assert "chain" in refused.value.reason
    no_alg = b64url(b'{"alg":"none"}')
    with pytest.raises(InvalidSignature) as refused:
        verify_jws(f"{no_alg}.{payload}.{signature}", pki.trust(), at=T0)
    assert "not allowed" in refused.value.reason


def test_header_checks_apply_to_remembered_headers_too() -> None:
    pki = make_pki()
    nb = pki.company(VERIFIER_ID, "verifier")
    token = sign_jws_json({"iss": VERIFIER_ID, "iat": IAT}, nb.key, nb.chain, "x+jwt")
    verify_jws(token, pki.trust(), at=T0)  # remembered now
    not_object = b64url(b"[1, 2]")
    with pytest.raises(InvalidSignature) as refused:
        decode_compact(f"{not_object}.{token.split('.', 1)[1]}")
    assert "not a JSON object" in refused.value.reason
    duplicated = b64url(b'{"alg": "ES256", "alg": "none"}')
    for _ in range(2):  # refused every time, never remembered
        with pytest.raises(InvalidSignature) as refused:
            decode_compact(f"{duplicated}.{token.split('.', 1)[1]}")
        assert "malformed" in refused.value.reason


@pytest.mark.parametrize("prefix", ["", "QUJD" * (SIMD_FROM // 4)], ids=["binascii", "simd"])
@pytest.mark.parametrize(
    "text", ["QUJD=", "QU+D", "QU/D", "QUJ\u00e9", "Q", "QUJD\n", "QU JD", "QUJD\r", "QUJ.", "QUJDQ", "\x00QUJ"]
)
def test_b64url_decode_refuses_what_is_not_unpadded_base64url(prefix: str, text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(prefix + text)


def test_b64url_round_trips_every_length_on_both_codecs() -> None:
    # below SIMD_FROM binascii, from it pybase64: both give the standard library's base64url, unpadded
    for n in [*range(0, 70), *range(SIMD_FROM - 100, SIMD_FROM + 100), 6_700, 100_001]:
        data = (bytes(range(256)) * (n // 256 + 1))[:n]
        text = b64url(data)
        assert text == base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
        assert b64url_decode(text) == data
