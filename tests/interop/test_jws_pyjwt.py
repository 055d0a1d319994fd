"""Every attestation of the chain and the declaration, verified by PyJWT (which the connector never uses): ES256
with the public key of the ``x5c`` leaf certificate, headers exactly as RFC 7515 and VC-JOSE-COSE have them."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography import x509

from .conftest import ChainRun

B64URL = re.compile(r"^[A-Za-z0-9_-]+$")


def _leaf_and_header(token: str) -> tuple[x509.Certificate, dict[str, Any]]:
    """The JOSE header and the ``x5c`` leaf certificate, read as RFC 7515 section 4.1.6 says: standard base64 (not
    base64url) DER, leaf first."""
    header = jwt.get_unverified_header(token)
    assert isinstance(header["x5c"], list) and header["x5c"]
    for value in header["x5c"]:
        assert "-" not in value and "_" not in value and len(value) % 4 == 0, "x5c must be padded standard base64"
        assert base64.b64encode(base64.b64decode(value, validate=True)).decode() == value
    return x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0])), header


def _company_of(cert: x509.Certificate) -> str:
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    (urn,) = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith("urn:")]
    return urn


def _digest(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest()).rstrip(b"=").decode()


def _segments_are_unpadded_base64url(token: str) -> None:
    parts = token.split(".")
    assert len(parts) == 3 and all(B64URL.match(p) for p in parts), "compact JWS: three unpadded base64url parts"


def test_every_attestation_verifies_with_pyjwt_and_the_x5c_leaf_key(run: ChainRun) -> None:
    attestations = run.attestations()
    suppliers = [c for c in run.chain["companies"] if c["role"] == "supplier"]
    assert len(attestations) == len(suppliers) == len(run.bundle["packages"]) == 7
    issuers = set()
    for sd_jwt in attestations:
        assert sd_jwt.endswith("~") and sd_jwt.count("~") == 1, "the customer's form: issuer JWT and one ~"
        token = sd_jwt[:-1]
        _segments_are_unpadded_base64url(token)
        leaf, header = _leaf_and_header(token)
        assert set(header) == {"alg", "typ", "x5c"}
        assert header["alg"] == "ES256" and header["typ"] == "vc+sd-jwt"
        claims = jwt.decode(
            token,
            leaf.public_key(),
            algorithms=["ES256"],
            audience=jwt.decode(token, options={"verify_signature": False})["aud"],
            options={"require": ["iss", "aud", "iat", "exp", "jti"]},
        )
        assert claims["iss"] == claims["issuer"] == _company_of(leaf)
        assert claims["jti"] == claims["id"] and claims["_sd_alg"] == "sha-256"
        assert datetime.fromtimestamp(claims["iat"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ") == claims["validFrom"]
        issuers.add(claims["iss"])
    assert issuers == {c["companyId"] for c in suppliers}


def test_the_declaration_verifies_with_pyjwt_and_binds_the_pack_attestation(run: ChainRun) -> None:
    token = run.bundle["declaration"]
    _segments_are_unpadded_base64url(token)
    leaf, header = _leaf_and_header(token)
    assert set(header) == {"alg", "typ", "x5c"}
    assert header["alg"] == "ES256" and header["typ"] == "vc+jwt"
    claims = jwt.decode(token, leaf.public_key(), algorithms=["ES256"], options={"require": ["iss", "iat", "jti"]})
    oem = [c["companyId"] for c in run.chain["companies"] if c["role"] == "oem"]
    assert [claims["iss"]] == [claims["issuer"]] == [_company_of(leaf)] == oem
    assert claims["credentialSubject"]["packAttestationDigest"] == _digest(run.bundle["pack"]["attestation"])


@pytest.mark.parametrize("what", ["attestation", "declaration"])
def test_pyjwt_refuses_a_changed_payload_or_another_key(run: ChainRun, what: str) -> None:
    """The checks above can fail: a byte changed in the payload, or the key of another certificate."""
    token = run.bundle["declaration"] if what == "declaration" else run.bundle["pack"]["attestation"][:-1]
    leaf, _ = _leaf_and_header(token)
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["iss"] = "urn:pact:someone-else.example:company:someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    opts: dict[str, Any] = {"verify_aud": False}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{forged}.{sig}", leaf.public_key(), algorithms=["ES256"], options=opts)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, run.verifier.certificate.public_key(), algorithms=["ES256"], options=opts)


def test_a_certification_credential_verifies_with_pyjwt(run: ChainRun) -> None:
    """The notified body certifies the pack attestation (from the bundle's evidence); PyJWT checks the credential."""
    from connector.certification import certify
    from connector.identity import TrustStore

    pack = run.bundle["pack"]
    evidence = {"package": pack["package"], "packages": run.bundle["packages"]}
    trust = TrustStore([run.pki.root.certificate], intermediates=[run.pki.inter.certificate])
    token = certify(pack["attestation"], evidence, run.verifier.key, run.verifier.chain, trust, at=datetime.now(UTC))
    _segments_are_unpadded_base64url(token)
    leaf, header = _leaf_and_header(token)
    assert set(header) == {"alg", "typ", "x5c"}
    assert header["alg"] == "ES256" and header["typ"] == "cfp-certification+jwt"
    claims = jwt.decode(
        token, leaf.public_key(), algorithms=["ES256"], options={"require": ["iss", "iat", "exp", "sub"]}
    )
    assert claims["iss"] == _company_of(leaf) == run.chain["verifier"]["companyId"]
    assert claims["sub"] == _digest(pack["attestation"])
