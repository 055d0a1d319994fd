# ruff: noqa: F811  (pytest fixtures imported from test_bundle)
"""Certification credentials: certify only what verifies, bind to the digest, only verifiers sign, marks tiers."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from connector.attestation import EvidenceContent, issue_attestation
from connector.certification import (
    CERTIFICATION_TYP,
    CertificationRefused,
    certification_payload,
    certify,
    decode_certification,
    sign_certification,
    to_pact_verification,
    verify_certification,
)
from connector.errors import InvalidSignature, ValidationFailed
from connector.identity.keys import b64url_decode
from connector.verification import EvidenceStatus, verify_bundle
from tests.pki import T0, VERIFIER_ID
from tests.unit.test_bundle import (  # noqa: F401  (fixtures)
    AT,
    CAM,
    CELL,
    HOKURIKU,
    PACK,
    SETOUCHI,
    edit_evidence,
    fixture_chain,
    issuer_of,
    make_world,
    parties,
    with_pack_evidence,
    world,
)


def _certify_cam(w, **kwargs) -> str:
    nb = w.parties.nb
    cam = w.tiers[CAM]
    return certify(cam.issued.sd_jwt, cam.evidence, nb.key, nb.chain, w.trust, at=T0 + timedelta(hours=1), **kwargs)


def _payload(token: str) -> dict:
    return json.loads(b64url_decode(token.split(".")[1]))


def test_certify_and_verify(world) -> None:
    token = _certify_cam(world, scope="CFP of NMC811 CAM per EU 2023/1542 Art. 7")
    header = json.loads(b64url_decode(token.split(".")[0]))
    assert header["typ"] == CERTIFICATION_TYP and header["alg"] == "ES256"
    payload = _payload(token)
    cam = world.tiers[CAM]
    assert payload["iss"] == VERIFIER_ID and payload["sub"] == cam.issued.digest
    assert payload["certifiedCompany"] == HOKURIKU and payload["footprintId"] == cam.claims.footprint_id
    assert payload["result"] == "valid" and payload["exp"] - payload["iat"] == 365 * 86400
    assert payload["attestationId"] == cam.issued.attestation_id
    assert payload["scope"] == "CFP of NMC811 CAM per EU 2023/1542 Art. 7"
    assert "ownEmissions" not in json.dumps(payload)

    check = verify_certification(token, cam.issued.sd_jwt, world.trust, AT)
    assert check.verifier.company_id == VERIFIER_ID and check.digest == cam.issued.digest
    assert check.certified_company == HOKURIKU


def test_pact_verification_fields(world) -> None:
    token = _certify_cam(world)
    pact = to_pact_verification(_payload(token))
    assert pact == {
        "coverage": "product level",
        "providerName": "Example Notified Body 0042",
        "completedAt": "2026-03-01T13:00:00Z",
        "standardName": "EU-2023/1542-Art7 2025",
        "comments": pact["comments"],
    }
    assert world.tiers[CAM].issued.digest in pact["comments"]
    check = decode_certification(token, world.trust, at=AT)
    assert to_pact_verification(check.payload) == pact


def test_certify_refuses_an_invalid_subtree(world) -> None:
    """Hokuriku's evidence with a tampered LiOH disclosure below it: nothing is signed, the report says why."""
    from connector.attestation.sdjwt import make_disclosure, parse_disclosure

    def tamper(content: EvidenceContent) -> EvidenceContent:
        out = []
        for text in content.disclosures:
            d = parse_disclosure(text)
            out.append(make_disclosure(d.name, d.value).text if d.name == "ownEmissions" else text)
        return content.model_copy(update={"disclosures": out})

    cam = world.tiers[CAM]
    evidence = edit_evidence(world, cam.evidence, ["urn:pact:andes-lithium.example:company:andes-lithium"], tamper)
    nb = world.parties.nb
    with pytest.raises(CertificationRefused) as info:
        certify(cam.issued.sd_jwt, evidence, nb.key, nb.chain, world.trust, at=T0)
    assert not info.value.report.valid
    assert info.value.report.failures[0].check == "disclosures"
    assert info.value.errors[0]["field"] == "disclosures"


def test_certify_refuses_other_attestations_evidence_and_non_verifiers(world, parties) -> None:
    nb = parties.nb
    cam, cell = world.tiers[CAM], world.tiers[CELL]
    with pytest.raises(ValidationFailed, match="another attestation"):
        certify(cam.issued.sd_jwt, cell.evidence, nb.key, nb.chain, world.trust, at=T0)
    supplier = parties.companies[SETOUCHI]
    with pytest.raises(ValidationFailed, match="verifier"):
        certify(cam.issued.sd_jwt, cam.evidence, supplier.key, supplier.chain, world.trust, at=T0)
    with pytest.raises(ValidationFailed, match="does not belong"):
        certify(cam.issued.sd_jwt, cam.evidence, supplier.key, nb.chain, world.trust, at=T0)
    nb2 = parties.nb2
    with pytest.raises(ValidationFailed, match="cannot open"):
        certify(cam.issued.sd_jwt, cam.evidence, nb2.key, nb2.chain, world.trust, at=T0)


def test_verify_certification_refuses_digest_mismatch(world) -> None:
    token = _certify_cam(world)
    with pytest.raises(InvalidSignature) as info:
        verify_certification(token, world.tiers[CELL].issued.sd_jwt, world.trust, AT)
    assert "digest" in info.value.reason


def test_verify_certification_refuses_non_verifier_signer(world, parties) -> None:
    cam = world.tiers[CAM]
    supplier = parties.companies[SETOUCHI]
    payload = certification_payload(
        _payload(cam.issued.sd_jwt.split("~")[0]), cam.issued.sd_jwt, supplier.chain, scope="self-certified", at=T0
    )
    token = sign_certification(payload, supplier.key, supplier.chain)
    with pytest.raises(InvalidSignature) as info:
        verify_certification(token, cam.issued.sd_jwt, world.trust, AT)
    assert "role" in info.value.reason


def test_expired_certification(world) -> None:
    token = _certify_cam(world, valid_for=timedelta(hours=2))
    with pytest.raises(InvalidSignature, match="signature|certificate|credential") as info:
        verify_certification(token, world.tiers[CAM].issued.sd_jwt, world.trust, AT)
    assert "expired" in info.value.reason


# --- certifications inside the bundle -------------------------------------------------------------------------------


def test_valid_certification_marks_tier_certified(parties, fixture_chain, world) -> None:
    token = _certify_cam(world)
    bundle = world.bundle.model_copy(update={"certifications": [token]})
    nb = parties.nb
    report = verify_bundle(bundle, world.trust, at=AT, verifier_key=nb.key, verifier_cert=nb.certificate)
    assert report.valid, [f.line() for f in report.failures]
    cam = report.find(company=HOKURIKU)[0]
    assert cam.certified and cam.certified_by == [VERIFIER_ID]
    assert cam.evidence is EvidenceStatus.OPENED  # evidence there: still checked
    assert [c.status for c in report.certifications] == ["valid"]
    assert report.certifications[0].certified_company == HOKURIKU
    assert not report.find(company=SETOUCHI)[0].certified


def test_certified_tier_may_stay_unopened(world, parties) -> None:
    token = _certify_cam(world)

    def drop(content: EvidenceContent) -> EvidenceContent:
        items = [
            i.model_copy(update={"package": None}) if issuer_of(i.attestation) == HOKURIKU else i
            for i in content.upstream
        ]
        return content.model_copy(update={"upstream": items})

    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI], drop)
    # and Hokuriku's subtree (its package and Andes') left out of the bundle
    gone = set(world.tiers[CAM].evidence["packages"])
    evidence = {**evidence, "packages": {k: v for k, v in evidence["packages"].items() if k not in gone}}
    bundle = with_pack_evidence(world, evidence).model_copy(update={"certifications": [token]})
    nb = parties.nb
    report = verify_bundle(bundle, world.trust, at=AT, verifier_key=nb.key, verifier_cert=nb.certificate)
    assert report.valid, [f.line() for f in report.failures]
    cam = report.find(company=HOKURIKU)[0]
    assert cam.evidence is EvidenceStatus.CERTIFIED_NOT_OPENED and cam.children == []
    assert report.complete
    # without the certification the same bundle fails on missing evidence
    bare = verify_bundle(
        with_pack_evidence(world, evidence), world.trust, at=AT, verifier_key=nb.key, verifier_cert=nb.certificate
    )
    assert [(f.company, f.check) for f in bare.failures] == [(HOKURIKU, "evidence")]


def test_certification_with_wrong_digest_is_invalid(world, parties) -> None:
    """Signed by the notified body, but for an attestation that is not in this bundle."""
    cam = world.tiers[CAM]
    hok = parties.companies[HOKURIKU]
    other = issue_attestation(
        cam.claims.model_copy(update={"footprint_id": "urn:uuid:00000000-0000-4000-8000-0000000000bb"}),
        cam.hidden,
        hok.key,
        hok.chain,
        at=T0,
    )
    nb = parties.nb
    payload = certification_payload(_payload(other.sd_jwt.split("~")[0]), other.sd_jwt, nb.chain, scope="x", at=T0)
    token = sign_certification(payload, nb.key, nb.chain)
    bundle = world.bundle.model_copy(update={"certifications": [token]})
    report = verify_bundle(bundle, world.trust, at=AT, verifier_key=nb.key, verifier_cert=nb.certificate)
    assert not report.valid
    assert [(f.company, f.kind, f.check) for f in report.failures] == [(VERIFIER_ID, "certification", "binding")]
    assert "matches no attestation" in report.failures[0].detail
    assert report.certifications[0].status == "invalid"
    assert not report.find(company=HOKURIKU)[0].certified
    # the OEM, without the key, cannot see that tier: the certification is unbound, not a failure
    oem_view = verify_bundle(bundle, world.trust, at=AT)
    assert oem_view.valid and oem_view.certifications[0].status == "unbound"


def test_certification_by_non_verifier_is_invalid(world, parties) -> None:
    cam = world.tiers[CAM]
    supplier = parties.companies[SETOUCHI]
    payload = certification_payload(
        _payload(cam.issued.sd_jwt.split("~")[0]), cam.issued.sd_jwt, supplier.chain, scope="self-certified", at=T0
    )
    token = sign_certification(payload, supplier.key, supplier.chain)
    bundle = world.bundle.model_copy(update={"certifications": [token]})
    nb = parties.nb
    report = verify_bundle(bundle, world.trust, at=AT, verifier_key=nb.key, verifier_cert=nb.certificate)
    assert [(f.company, f.kind, f.check) for f in report.failures] == [(SETOUCHI, "certification", "role")]
    assert report.certifications[0].status == "invalid"
    assert not report.find(company=HOKURIKU)[0].certified


def test_declared_certification_must_be_backed(parties, fixture_chain, world) -> None:
    from datetime import date

    from connector.declaration import CertificationInput, DeclarationInput, compute_declaration
    from connector.declaration.signing import build_bundle, sign_declaration

    listed = CertificationInput(
        tier=3,
        company_name="Hokuriku Cathode Co., Ltd.",
        company_id=HOKURIKU,
        verifier="Example Notified Body 0042",
        verifier_id=VERIFIER_ID,
        date=date(2026, 3, 1),
        status="valid",
    )
    decl = compute_declaration(
        DeclarationInput.model_validate(fixture_chain["declaration"]),
        world.tiers[PACK].claims.stages.as_dict(),
        certifications=[listed],
        at=T0,
    )
    token = sign_declaration(decl, world.tiers[PACK].issued.sd_jwt, parties.oem.key, parties.oem.chain, at=T0)
    nb = parties.nb
    unbacked = build_bundle(token, world.tiers[PACK].issued.sd_jwt, world.tiers[PACK].evidence)
    report = verify_bundle(unbacked, world.trust, at=AT, verifier_key=nb.key, verifier_cert=nb.certificate)
    assert [f.check for f in report.failures] == ["declared certifications"]
    backed = build_bundle(
        token, world.tiers[PACK].issued.sd_jwt, world.tiers[PACK].evidence, certifications=[_certify_cam(world)]
    )
    assert verify_bundle(backed, world.trust, at=AT, verifier_key=nb.key, verifier_cert=nb.certificate).valid
