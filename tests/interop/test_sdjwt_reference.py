"""The SD-JWT of every attestation, checked by the OpenWallet Foundation reference implementation (``sd_jwt``, which
the connector never uses) and by our own recomputation of each digest from RFC 9901 alone.

The disclosures are the ones inside the evidence packages, decrypted here by jwcrypto (not by our code).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from jwcrypto import jwk
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier

from connector.attestation import verify_attestation
from connector.identity import TrustStore

from .conftest import ChainRun


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _issuer_key(_issuer: str, header: dict[str, Any]) -> jwk.JWK:
    """The reference verifier's key callback: the public key of the ``x5c`` leaf (standard base64 DER)."""
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    return jwk.JWK.from_pem(
        leaf.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def _contents(run: ChainRun) -> list[dict[str, Any]]:
    return [json.loads(o["plaintext"]) for o in run.opened_by_jwcrypto().values()]


def _issuance(content: dict[str, Any]) -> str:
    """``<issuer-jwt>~<d1>~...~<dn>~`` (RFC 9901 section 4): the attestation with all its disclosures."""
    return content["attestation"] + "".join(f"{d}~" for d in content["disclosures"])


def _issued_at(payload: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(payload["iat"], UTC)


def _disclosed_names(content: dict[str, Any]) -> list[str]:
    return [json.loads(_b64url_decode(d))[1] for d in content["disclosures"]]


def test_the_reference_holder_and_verifier_accept_every_attestation_with_all_its_disclosures(run: ChainRun) -> None:
    contents = _contents(run)
    assert len(contents) == 7
    trust = TrustStore([run.pki.root.certificate], intermediates=[run.pki.inter.certificate])
    for content in contents:
        names = _disclosed_names(content)
        holder = SDJWTHolder(_issuance(content))
        holder.create_presentation({"credentialSubject": dict.fromkeys(names, True)})
        assert sorted(holder.hs_disclosures) == sorted(content["disclosures"]), "the holder finds every disclosure"
        payload = SDJWTVerifier(holder.sd_jwt_presentation, _issuer_key).get_verified_payload()
        subject = payload["credentialSubject"]
        assert "_sd" not in subject and "_sd_alg" not in payload
        # the same hidden claims our own verifier reads from the same disclosures
        ours = verify_attestation(
            content["attestation"],
            trust,
            at=_issued_at(payload),
            audience=payload["aud"],
            disclosures=content["disclosures"],
        )
        assert ours.hidden is not None
        assert subject["ownEmissions"] == ours.hidden.own_emissions.model_dump(mode="json")
        assert subject["inputCount"] == len(ours.hidden.inputs)
        assert [subject[f"input:{i}"] for i in range(subject["inputCount"])] == [
            i.to_json_dict() for i in ours.hidden.inputs
        ]
        assert subject["total"] == ours.claims.model_dump(mode="json")["total"]


def test_a_partial_presentation_reveals_only_what_the_holder_chose(run: ChainRun) -> None:
    content = max(_contents(run), key=lambda c: len(c["disclosures"]))
    holder = SDJWTHolder(_issuance(content))
    holder.create_presentation({"credentialSubject": {"ownEmissions": True}})
    assert len(holder.hs_disclosures) == 1
    subject = SDJWTVerifier(holder.sd_jwt_presentation, _issuer_key).get_verified_payload()["credentialSubject"]
    assert "ownEmissions" in subject and "inputCount" not in subject and "input:0" not in subject


def test_every_disclosure_digest_recomputed_is_in_the_sd_array(run: ChainRun) -> None:
    """RFC 9901 sections 4.2 and 4.2.3, by hand: digest = base64url(SHA-256(ASCII of the disclosure as sent)),
    each in ``credentialSubject._sd`` exactly once; ``_sd_alg`` is ``sha-256``; decoys pad ``_sd``."""
    for content in _contents(run):
        jws = content["attestation"][:-1]
        payload = json.loads(_b64url_decode(jws.split(".")[1]))
        assert payload["_sd_alg"] == "sha-256"
        sd = payload["credentialSubject"]["_sd"]
        assert len(sd) == len(set(sd)) and len(sd) % 16 == 0 and sd == sorted(sd)
        for disclosure in content["disclosures"]:
            digest = base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode("ascii")).digest()).rstrip(b"=")
            assert digest.decode() in sd
            salt, name, _value = json.loads(_b64url_decode(disclosure).decode("utf-8"))
            assert len(_b64url_decode(salt)) >= 16, "128-bit salt (RFC 9901 section 9.3)"
            assert name not in ("_sd", "...", "_sd_alg")
        assert len(sd) >= len(content["disclosures"])
        # each upstream attestation is bound by its digest: base64url(SHA-256("<issuer-jwt>~"))
        inputs = [
            json.loads(_b64url_decode(d))[2]
            for d in content["disclosures"]
            if json.loads(_b64url_decode(d))[1].startswith("input:")
        ]
        bound = sorted(i["attestationDigest"] for i in inputs)
        upstream = sorted(
            base64.urlsafe_b64encode(hashlib.sha256(u["attestation"].encode("ascii")).digest()).rstrip(b"=").decode()
            for u in content["upstream"]
        )
        assert bound == upstream
