"""CFP attestations: issue -> verify, confidentiality towards the customer, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization

from connector.attestation import (
    HiddenClaims,
    InputClaim,
    attestation_digest,
    issue_attestation,
    verify_attestation,
)
from connector.attestation.jws import _sign
from connector.attestation.sdjwt import encode_disclosure, parse_disclosure
from connector.errors import InvalidSignature, TrustError, ValidationFailed
from connector.identity import generate_key, x5c_encode
from connector.identity.keys import b64url, b64url_decode
from connector.strict_json import canonical_json
from tests.pki import (
    CUSTOMER_ID,
    OEM_ID,
    SECRET_OWN,
    SECRET_QTY,
    SUPPLIER_ID,
    T0,
    VERIFIER_ID,
    make_claims,
    make_hidden,
    make_pki,
    stages,
)

UPSTREAM_DIGEST = "UpStReAmDiGeStUpStReAmDiGeStUpStReAmDiGeSt0"


@pytest.fixture
def pki():
    return make_pki()


@pytest.fixture
def supplier(pki):
    return pki.company(SUPPLIER_ID, "supplier", name="Andes Lithium Refining S.A.")


def _issue(supplier, **kw):
    return issue_attestation(make_claims(), make_hidden(UPSTREAM_DIGEST), supplier.key, supplier.chain, at=T0, **kw)


def _decode_part(part: str) -> dict:
    return json.loads(b64url_decode(part))


def _forge(header: dict, payload: dict, key) -> str:
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(payload))}"
    return f"{signing_input}.{b64url(_sign(key, signing_input.encode()))}"


# --- round trip ------------------------------------------------------------------------------------------------------


def test_issue_verify_roundtrip(pki, supplier) -> None:
    issued = _issue(supplier)
    assert issued.sd_jwt.endswith("~") and issued.sd_jwt.count("~") == 1
    v = verify_attestation(issued.sd_jwt, pki.trust(), at=T0 + timedelta(days=1), audience=CUSTOMER_ID)
    assert v.claims == make_claims()
    assert v.hidden is None
    assert v.issuer.company_id == SUPPLIER_ID and v.issuer.role == "supplier"
    assert v.issued_at == T0 and v.valid_until == T0 + timedelta(days=365)
    assert v.digest == issued.digest == attestation_digest(issued.sd_jwt)
    assert v.attestation_id == issued.attestation_id


def test_verifier_opens_hidden_claims(pki, supplier) -> None:
    issued = _issue(supplier)
    v = verify_attestation(issued.sd_jwt, pki.trust(), at=T0, audience=None, disclosures=issued.disclosures)
    assert v.hidden == make_hidden(UPSTREAM_DIGEST)
    # the same, with disclosures embedded in the SD-JWT (presentation form)
    presented = issued.sd_jwt + "~".join(issued.disclosures) + "~"
    v2 = verify_attestation(presented, pki.trust(), at=T0, audience=None)
    assert v2.hidden == v.hidden and v2.digest == issued.digest


def test_header_and_payload_shape(supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    header = _decode_part(head)
    assert header["alg"] == "ES256" and header["typ"] == "vc+sd-jwt"
    assert header["x5c"] == x5c_encode(supplier.chain)
    body = _decode_part(payload)
    assert body["@context"] == ["https://www.w3.org/ns/credentials/v2"]
    assert body["type"] == ["VerifiableCredential", "CfpAttestation"]
    assert body["issuer"] == body["iss"] == SUPPLIER_ID and body["aud"] == CUSTOMER_ID
    assert body["validFrom"] == "2026-03-01T12:00:00Z" and body["iat"] == int(T0.timestamp())
    assert body["_sd_alg"] == "sha-256"
    subject = body["credentialSubject"]
    assert subject["total"] == "18.7931" and subject["stages"]["end_of_life"] == "-0.05"
    assert subject["dataQuality"] == {"technological": "1.6", "geographical": "2", "temporal": "1.25"}
    assert len(subject["_sd"]) == 16 and subject["_sd"] == sorted(subject["_sd"])


def test_padding_grows_in_steps(supplier) -> None:
    many = HiddenClaims(
        own_emissions=stages("1"),
        inputs=[
            InputClaim(
                attestation_digest=UPSTREAM_DIGEST,
                quantity=Decimal(i + 1),
                unit="kilogram",
                upstream=stages("1"),
                declared_unit="kilogram",
            )
            for i in range(20)
        ],
    )
    issued = issue_attestation(make_claims(), many, supplier.key, supplier.chain, at=T0)
    body = _decode_part(issued.sd_jwt.split(".")[1])
    assert len(body["credentialSubject"]["_sd"]) == 32
    assert len(issued.disclosures) == 22


def test_customer_learns_nothing_hidden(pki, supplier) -> None:
    issued = _issue(supplier)
    held = issued.sd_jwt
    texts = [held]
    for part in held.rstrip("~").split(".")[:2]:
        texts.append(b64url_decode(part).decode("utf-8"))
    everything = "\n".join(texts)
    for secret in (*SECRET_OWN, SECRET_QTY, UPSTREAM_DIGEST, "7.777777", "ownEmissions", "input:", "inputCount"):
        assert secret not in everything
    # and the verifier's view does contain them, so the test above is meaningful
    opened = "\n".join(json.dumps(parse_disclosure(d).value) for d in issued.disclosures)
    assert SECRET_OWN[0] in opened and SECRET_QTY in opened and UPSTREAM_DIGEST in opened


def test_salts_are_fresh(supplier) -> None:
    a, b = _issue(supplier), _issue(supplier)
    assert set(a.disclosures).isdisjoint(b.disclosures)
    assert all(len(b64url_decode(parse_disclosure(d).salt)) == 16 for d in a.disclosures)


def test_oem_may_attest(pki) -> None:
    oem = pki.company(OEM_ID, "oem")
    issued = issue_attestation(make_claims(issuer=OEM_ID), make_hidden(), oem.key, oem.chain, at=T0)
    assert verify_attestation(issued.sd_jwt, pki.trust(), at=T0, audience=CUSTOMER_ID).issuer.role == "oem"


# --- issuing refusals ------------------------------------------------------------------------------------------------


def test_issue_refuses_total_not_sum(supplier) -> None:
    with pytest.raises(ValidationFailed):
        issue_attestation(make_claims(total=Decimal("18.8")), make_hidden(), supplier.key, supplier.chain, at=T0)


def test_issue_refuses_issuer_not_certificate(supplier) -> None:
    with pytest.raises(ValidationFailed):
        issue_attestation(make_claims(issuer=OEM_ID), make_hidden(), supplier.key, supplier.chain, at=T0)


def test_issue_refuses_key_not_matching_certificate(supplier) -> None:
    with pytest.raises(ValueError):
        issue_attestation(make_claims(), make_hidden(), generate_key(), supplier.chain, at=T0)


# --- verification refusals -------------------------------------------------------------------------------------------


def _refused(sd_jwt, trust, *, at=T0, audience=CUSTOMER_ID, **kw) -> InvalidSignature:
    with pytest.raises(InvalidSignature) as err:
        verify_attestation(sd_jwt, trust, at=at, audience=audience, **kw)
    # peers only ever see the opaque message
    assert str(err.value) == "signature, certificate or credential check failed"
    return err.value


def test_tampered_payload(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, sig = issued.sd_jwt.rstrip("~").split(".")
    body = _decode_part(payload)
    body["credentialSubject"]["total"] = "1.0"
    forged = f"{head}.{b64url(canonical_json(body))}.{sig}~"
    assert "signature" in _refused(forged, pki.trust()).reason


def test_tampered_disclosure(pki, supplier) -> None:
    issued = _issue(supplier)
    d = parse_disclosure(issued.disclosures[0])
    value = dict(d.value, raw_material_acquisition="0")
    tampered = encode_disclosure(d.salt, d.name, value)
    err = _refused(issued.sd_jwt, pki.trust(), audience=None, disclosures=[tampered, *issued.disclosures[1:]])
    assert "not committed" in err.reason


def test_extra_disclosure(pki, supplier) -> None:
    issued = _issue(supplier)
    extra = encode_disclosure("c2FsdHNhbHRzYWx0c2FsdA", "input:1", {"quantity": "1"})
    err = _refused(issued.sd_jwt, pki.trust(), audience=None, disclosures=[*issued.disclosures, extra])
    assert "not committed" in err.reason


def test_duplicate_disclosure(pki, supplier) -> None:
    issued = _issue(supplier)
    err = _refused(issued.sd_jwt, pki.trust(), audience=None, disclosures=[*issued.disclosures, issued.disclosures[0]])
    assert "duplicate" in err.reason


def test_incomplete_disclosures(pki, supplier) -> None:
    issued = _issue(supplier)
    err = _refused(issued.sd_jwt, pki.trust(), audience=None, disclosures=issued.disclosures[:2])
    assert "incomplete" in err.reason


def test_disclosure_from_another_attestation(pki, supplier) -> None:
    a, b = _issue(supplier), _issue(supplier)
    _refused(a.sd_jwt, pki.trust(), audience=None, disclosures=b.disclosures)


def test_wrong_key(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    forged = _forge(_decode_part(head), _decode_part(payload), generate_key())
    assert "signature" in _refused(forged + "~", pki.trust()).reason


def test_alg_none(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    header = dict(_decode_part(head), alg="none")
    forged = f"{b64url(canonical_json(header))}.{payload}.~"
    assert "alg" in _refused(forged, pki.trust()).reason


def test_hs256_with_public_key_as_secret(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    header = dict(_decode_part(head), alg="HS256")
    signing_input = f"{b64url(canonical_json(header))}.{payload}"
    secret = supplier.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    assert "alg" in _refused(f"{signing_input}.{b64url(mac)}~", pki.trust()).reason


def test_wrong_typ(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    forged = _forge(dict(_decode_part(head), typ="JWT"), _decode_part(payload), supplier.key)
    assert "typ" in _refused(forged + "~", pki.trust()).reason


def test_jwk_header_refused(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    forged = _forge(dict(_decode_part(head), jwk={"kty": "EC"}), _decode_part(payload), supplier.key)
    assert "jwk" in _refused(forged + "~", pki.trust()).reason


def test_expired_certificate(pki) -> None:
    short = pki.company(SUPPLIER_ID, "supplier", validity=timedelta(days=30))
    at = T0 + timedelta(days=40)
    issued = issue_attestation(make_claims(), make_hidden(), short.key, short.chain, at=at)
    err = _refused(issued.sd_jwt, pki.trust(), at=at)
    assert isinstance(err, TrustError) and "not valid at validation time" in err.reason


def test_expired_attestation(pki, supplier) -> None:
    issued = _issue(supplier, valid_for=timedelta(days=10))
    assert "expired" in _refused(issued.sd_jwt, pki.trust(), at=T0 + timedelta(days=10)).reason


def test_issued_in_the_future(pki, supplier) -> None:
    issued = _issue(supplier)
    assert "future" in _refused(issued.sd_jwt, pki.trust(), at=T0 - timedelta(minutes=6)).reason
    verify_attestation(issued.sd_jwt, pki.trust(), at=T0 - timedelta(minutes=4), audience=CUSTOMER_ID)


def test_revoked_before_signing(pki, supplier) -> None:
    crl = pki.crl((supplier, T0 - timedelta(hours=1)), at=T0 + timedelta(days=1))
    issued = _issue(supplier)
    err = _refused(issued.sd_jwt, pki.trust(crls=[crl]), at=T0 + timedelta(days=2))
    assert isinstance(err, TrustError) and "revoked" in err.reason


def test_revoked_after_signing_still_valid(pki, supplier) -> None:
    crl = pki.crl((supplier, T0 + timedelta(days=1)), at=T0 + timedelta(days=2))
    issued = _issue(supplier)
    verified = verify_attestation(issued.sd_jwt, pki.trust(crls=[crl]), at=T0 + timedelta(days=3), audience=CUSTOMER_ID)
    assert verified.digest == issued.digest


def test_certificate_from_another_ca(supplier) -> None:
    issued = _issue(supplier)
    err = _refused(issued.sd_jwt, make_pki("Other").trust())
    assert isinstance(err, TrustError)


def test_verifier_certificate_cannot_attest(pki) -> None:
    verifier = pki.company(VERIFIER_ID, "verifier")
    issued = issue_attestation(make_claims(issuer=VERIFIER_ID), make_hidden(), verifier.key, verifier.chain, at=T0)
    assert "role is verifier" in _refused(issued.sd_jwt, pki.trust()).reason


def test_wrong_audience(pki, supplier) -> None:
    issued = _issue(supplier)
    assert "audience" in _refused(issued.sd_jwt, pki.trust(), audience=OEM_ID).reason


def test_issuer_claim_must_match_certificate(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    body = dict(_decode_part(payload), iss=OEM_ID, issuer=OEM_ID)
    forged = _forge(_decode_part(head), body, supplier.key)
    assert "company id" in _refused(forged + "~", pki.trust()).reason


def test_key_binding_jwt_refused(pki, supplier) -> None:
    issued = _issue(supplier)
    assert "key binding" in _refused(issued.sd_jwt + "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", pki.trust()).reason


def test_garbage_refused(pki) -> None:
    for junk in ("", "~", "a.b.c~", "not a token", "a~b", base64.b64encode(b"{}").decode() + "~"):
        _refused(junk, pki.trust())


def test_signed_but_unknown_claim_refused(pki, supplier) -> None:
    issued = _issue(supplier)
    head, payload, _ = issued.sd_jwt.rstrip("~").split(".")
    body = _decode_part(payload)
    body["credentialSubject"]["note"] = "x"
    forged = _forge(_decode_part(head), body, supplier.key)
    assert "payload" in _refused(forged + "~", pki.trust()).reason
