"""Issue 17 against independent libraries: an attestation with an entered input and coverage claims verifies with
PyJWT and the SD-JWT reference implementation, and jwcrypto opens the source document sealed with it."""

from __future__ import annotations

import base64
import hashlib
import json

import jwt

from .conftest import ChainRun
from .test_jws_pyjwt import _leaf_and_header
from .test_sdjwt_reference import _contents, _issuance, _issuer_key

CATHODE = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"


def _cathode_content(run: ChainRun) -> dict:
    found = [c for c in _contents(run) if c.get("documents")]
    assert len(found) == 1, "one package (the cathode maker's) carries the source document"
    return found[0]


def test_the_reference_sd_jwt_verifier_reads_the_entered_input(run_entered: ChainRun) -> None:
    from sd_jwt.holder import SDJWTHolder
    from sd_jwt.verifier import SDJWTVerifier

    content = _cathode_content(run_entered)
    names = [json.loads(base64.urlsafe_b64decode(d + "==="))[1] for d in content["disclosures"]]
    holder = SDJWTHolder(_issuance(content))
    holder.create_presentation({"credentialSubject": dict.fromkeys(names, True)})
    subject = SDJWTVerifier(holder.sd_jwt_presentation, _issuer_key).get_verified_payload()["credentialSubject"]
    inputs = [subject[f"input:{i}"] for i in range(subject["inputCount"])]
    entered = [i for i in inputs if i.get("basis") == "entered"]
    assert len(entered) == 1 and "attestationDigest" not in entered[0]
    assert entered[0]["supplier"] == "urn:pact:andes-lithium.example:company:andes-lithium"
    assert entered[0]["sourceKind"] == "pact-file" and entered[0]["enteredBy"] == "api-key:test admin"
    assert subject["enteredInputs"] == 1 and float(subject["attestedCoverage"]["total"]) < 100
    # jwcrypto decrypted the package: its document hashes to the digest the signed disclosure commits
    document = content["documents"][entered[0]["documentDigest"]]
    assert hashlib.sha256(base64.b64decode(document["content"])).hexdigest() == entered[0]["documentDigest"]
    assert document["mediaType"] == "application/json"


def test_pyjwt_verifies_the_coverage_claims_down_the_chain(run_entered: ChainRun) -> None:
    seen = {}
    for sd_jwt in run_entered.attestations():
        token = sd_jwt.split("~", 1)[0]
        leaf, header = _leaf_and_header(token)
        payload = jwt.decode(
            token,
            leaf.public_key(),
            algorithms=["ES256"],
            options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
        seen[payload["iss"]] = payload["credentialSubject"]
    assert seen[CATHODE]["enteredInputs"] == 1
    pack = run_entered.bundle["pack"]["attestation"].split("~", 1)[0]
    leaf, _ = _leaf_and_header(pack)
    subject = jwt.decode(
        pack,
        leaf.public_key(),
        algorithms=["ES256"],
        options={"verify_aud": False, "verify_exp": False, "verify_iat": False},
    )["credentialSubject"]
    assert subject["enteredInputs"] == 1
    # the pack rests in part on the entered lithium value three tiers up: not fully attested
    assert float(subject["attestedCoverage"]["total"]) < 100
    assert run_entered.report["valid"] is True and run_entered.report["fullyAttested"] is False
