# ruff: noqa: F811  (pytest fixtures imported from test_bundle)
"""verify_bundle on the 4-tier chain (LiOH refiner -> CAM -> cell -> pack -> OEM): the honest bundle verifies, and
each kind of tampering is reported against the right company, attestation and check."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from rich.console import Console

from connector.attestation import (
    EvidenceContent,
    UpstreamPackage,
    issue_attestation,
    sign_jws_json,
)
from connector.attestation.sdjwt import make_disclosure, parse_disclosure
from connector.declaration.signing import DECLARATION_TYP, build_bundle, declaration_payload, sign_declaration
from connector.identity import Revocation, build_crl
from connector.identity.keys import b64url, b64url_decode
from connector.stages import Stage
from connector.verification import EvidenceStatus, VerificationReport, render_tree, verify_bundle
from tests.pki import T0, VERIFIER_ID
from tests.unit.test_bundle import (  # noqa: F401  (fixtures)
    ANDES,
    AT,
    CAM,
    CELL,
    HOKURIKU,
    KYUSHU,
    LIOH,
    OEM,
    PACK,
    SETOUCHI,
    World,
    edit_evidence,
    fixture_chain,
    issuer_of,
    make_world,
    package_at,
    parties,
    with_pack_evidence,
    world,
)


def verify(w: World, bundle=None, *, key=True, **kwargs) -> VerificationReport:
    nb = w.parties.nb
    extra = {"verifier_key": nb.key, "verifier_cert": nb.certificate} if key else {}
    return verify_bundle(bundle if bundle is not None else w.bundle, w.trust, at=AT, **extra, **kwargs)


def only_failures(report: VerificationReport) -> list[tuple[str | None, str]]:
    return sorted({(f.company, f.check) for f in report.failures}, key=str)


def rendered(report: VerificationReport) -> str:
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_tree(report))
    console.file.close()
    return console.export_text()


# --- the honest chain ---------------------------------------------------------------------------------------------


def test_honest_bundle_verifies(world) -> None:
    report = verify(world)
    assert report.valid, [f.line() for f in report.failures]
    assert report.summary() == "valid, fully attested"
    assert report.evidence_opened and report.complete
    assert report.verifier == VERIFIER_ID
    companies = [n.company for n in report.nodes() if n.kind == "attestation"]
    assert companies == [KYUSHU, SETOUCHI, HOKURIKU, ANDES]
    assert all(n.evidence is EvidenceStatus.OPENED for n in report.nodes() if n.kind == "attestation")
    pack = report.root.children[0]
    assert pack.total == "5928.4337818" and pack.own_emissions["main_production"] == "278"
    assert pack.inputs[0].quantity == "204" and pack.inputs[0].company == SETOUCHI
    names = {c.name for n in report.nodes() for c in n.checks}
    assert {
        "alg/typ",
        "certificate chain",
        "role",
        "revocation",
        "signature",
        "validity",
        "audience",
        "evidence",
        "disclosures",
        "input binding",
        "upstream values",
        "arithmetic",
        "pack binding",
        "absolute stages",
        "per-kWh recompute",
    } <= names
    text = rendered(report)
    assert "Hokuriku Cathode" in text and "evidence: opened" in text and text.startswith("valid")


def test_report_json(world, tmp_path) -> None:
    report = verify(world)
    data = json.loads(report.to_json())
    assert data["valid"] is True and data["failures"] == []
    assert data["root"]["kind"] == "declaration" and data["root"]["company"] == OEM
    pack = data["root"]["children"][0]
    assert (
        pack["company"] == KYUSHU
        and pack["evidence"] == "opened"
        and pack["checks"][0].keys() == {"name", "ok", "detail", "code", "params"}
    )
    signature = next(c for c in pack["checks"] if c["name"] == "signature")  # decision 0033: detail kept, code added
    assert signature["code"] == "verify.signature.ok" and signature["detail"].startswith("by the x5c leaf (")
    assert VerificationReport.model_validate(data) == report


def test_bundle_accepted_as_text_and_dict(world) -> None:
    assert verify(world, world.bundle.to_json()).valid
    assert verify(world, json.loads(world.bundle.to_json())).valid


def test_unreadable_bundle_is_a_report_not_an_exception(world) -> None:
    report = verify(world, "{not json")
    assert not report.valid and report.root.kind == "bundle" and report.failures[0].check == "format"
    assert report.summary() == "INVALID: 1 failure(s)"


# --- the OEM without the verifier key -------------------------------------------------------------------------------


def _decoded_leaves(obj, out: list[str]) -> list[str]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            out.append(str(k))
            _decoded_leaves(v, out)
    elif isinstance(obj, list):
        for v in obj:
            _decoded_leaves(v, out)
    else:
        out.append(str(obj))
    return out


def test_oem_without_key_sees_no_hidden_claim(world) -> None:
    report = verify(world, key=False)
    assert report.valid and not report.evidence_opened and not report.complete
    pack = report.root.children[0]
    assert pack.evidence is EvidenceStatus.NOT_OPENED and pack.children == []
    assert pack.own_emissions is None and pack.inputs is None
    assert "evidence not opened" in rendered(report)

    # everything the OEM can decode: the declaration, the pack attestation (no disclosures), the report, the bundle
    decodable = [
        json.loads(b64url_decode(token.split("~")[0].split(".")[1]))
        for token in (world.token, world.bundle.pack.attestation)
    ]
    bundle = json.loads(world.bundle.to_json())
    decodable.append({k: v for k, v in bundle.items() if k != "pack"})
    assert world.bundle.pack.attestation.endswith("~") and world.bundle.pack.attestation.count("~") == 1
    leaves = set(_decoded_leaves(decodable, []))
    # the report has the keys (with null values) but no hidden value
    leaves |= {v for v in _decoded_leaves(json.loads(report.to_json()), []) if v not in ("ownEmissions", "inputs")}
    assert all(n.own_emissions is None and n.inputs is None for n in report.nodes())
    pack_own = world.tiers[PACK].hidden.own_emissions
    secrets = {
        "ownEmissions",
        "inputCount",
        "attestationDigest",
        "204",
        "0.481",
        "440",
        str(pack_own.main_production),
        str(pack_own.raw_material_acquisition),
        world.tiers[CELL].issued.digest,
        world.tiers[CAM].issued.digest,
    }
    assert not leaves & secrets, leaves & secrets
    assert not any(s in leaf for leaf in leaves for s in ("ownEmissions", "attestationDigest"))
    # and the OEM's key opens nothing
    from connector.attestation import NotARecipient, open_evidence

    with pytest.raises(NotARecipient):
        open_evidence(
            world.bundle.packages[world.bundle.pack.package], world.parties.oem.key, world.parties.oem.certificate
        )


# --- tampering ----------------------------------------------------------------------------------------------------


def test_changed_own_emission_in_tier3_disclosure(world) -> None:
    """Hokuriku's (tier 3) ownEmissions disclosure swapped inside the evidence, nothing re-signed."""

    def tamper(content: EvidenceContent) -> EvidenceContent:
        out = []
        for text in content.disclosures:
            d = parse_disclosure(text)
            if d.name == "ownEmissions":
                text = make_disclosure("ownEmissions", {**d.value, "main_production": "1.0"}).text
            out.append(text)
        return content.model_copy(update={"disclosures": out})

    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU], tamper)
    report = verify(world, with_pack_evidence(world, evidence))
    assert not report.valid
    assert only_failures(report) == [(HOKURIKU, "disclosures")]
    failure = report.failures[0]
    assert failure.attestation_id == world.tiers[CAM].issued.attestation_id
    assert failure.digest == world.tiers[CAM].issued.digest
    assert "ownEmissions" in failure.detail and "not committed" in failure.detail
    assert "Hokuriku Cathode" in failure.line()


def test_changed_quantity(parties, fixture_chain) -> None:
    """Hokuriku signs stages computed with 440 g of LiOH but discloses 400 g."""

    def hook(claims, hidden):
        inputs = [i.model_copy(update={"quantity": Decimal("400")}) if i.unit == "gram" else i for i in hidden.inputs]
        return claims, hidden.model_copy(update={"inputs": inputs})

    w = make_world(parties, fixture_chain, hooks={CAM: hook})
    report = verify(w)
    assert only_failures(report) == [(HOKURIKU, "arithmetic")]
    assert "raw_material_acquisition: stated 25.51795" in report.failures[0].detail


def test_modified_total(parties, fixture_chain) -> None:
    """Setouchi states a main-production figure (and total) 1 kg lower than its inputs give."""

    def hook(claims, hidden):
        stages = claims.stages.model_copy(update={"main_production": claims.stages.main_production - 1})
        return claims.model_copy(update={"stages": stages, "total": claims.total - 1}), hidden

    w = make_world(parties, fixture_chain, hooks={CELL: hook})
    report = verify(w)
    assert only_failures(report) == [(SETOUCHI, "arithmetic")]
    assert report.failures[0].digest == w.tiers[CELL].issued.digest


def test_total_edited_in_signed_payload(world) -> None:
    """The pack attestation's total changed in the JWT without re-signing: signature and bindings fail."""
    header, payload, sig = world.tiers[PACK].issued.sd_jwt.rstrip("~").split(".")
    data = json.loads(b64url_decode(payload))
    data["credentialSubject"]["total"] = "5000"
    forged = f"{header}.{b64url(json.dumps(data).encode())}.{sig}~"
    bundle = world.bundle.model_copy(update={"pack": world.bundle.pack.model_copy(update={"attestation": forged})})
    report = verify(world, bundle)
    checks = only_failures(report)
    assert (KYUSHU, "signature") in checks and (KYUSHU, "total") in checks
    assert (OEM, "pack binding") in checks and (OEM, "absolute stages") in checks


def test_upstream_attestation_swapped(world, parties) -> None:
    """Inside Setouchi's evidence, Hokuriku's attestation replaced by another (valid) Hokuriku attestation."""
    cam = world.tiers[CAM]
    other = issue_attestation(
        cam.claims.model_copy(update={"footprint_id": "urn:uuid:00000000-0000-4000-8000-0000000000aa"}),
        cam.hidden,
        parties.companies[HOKURIKU].key,
        parties.companies[HOKURIKU].chain,
        at=T0,
    )

    def swap(content: EvidenceContent) -> EvidenceContent:
        items = [
            UpstreamPackage(attestation=other.sd_jwt, package=i.package) if issuer_of(i.attestation) == HOKURIKU else i
            for i in content.upstream
        ]
        return content.model_copy(update={"upstream": items})

    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI], swap)
    report = verify(world, with_pack_evidence(world, evidence))
    assert (SETOUCHI, "input binding") in only_failures(report)
    assert (SETOUCHI, "upstream binding") in only_failures(report)
    binding = report.failures_of(SETOUCHI, "input binding")[0]
    assert cam.issued.digest in binding.detail and binding.digest == world.tiers[CELL].issued.digest


def test_attestation_used_by_company_it_was_not_issued_to(parties, fixture_chain) -> None:
    other_cell = "urn:pact:other-cell.example:company:other-cell"
    w = make_world(parties, fixture_chain, audiences={CAM: other_cell})
    report = verify(w)
    assert only_failures(report) == [(HOKURIKU, "audience")]
    detail = report.failures[0].detail
    assert other_cell in detail and "Setouchi" in detail and SETOUCHI in detail


def test_pack_attestation_issued_to_another_oem(parties, fixture_chain) -> None:
    w = make_world(parties, fixture_chain, audiences={PACK: "urn:pact:other-oem.example:company:other"})
    assert only_failures(verify(w)) == [(KYUSHU, "audience")]


def test_revoked_supplier_certificate(parties, fixture_chain) -> None:
    """Andes' certificate was revoked an hour before it signed; the CRL travels in the bundle."""
    revoked = parties.pki.company(ANDES, "supplier", name="Andes Lithium Refining S.A.")
    crl = build_crl(
        parties.pki.inter,
        [Revocation(revoked.certificate.serial_number, T0 - timedelta(hours=1))],
        at=T0 + timedelta(hours=2),
    )
    w = make_world(parties, fixture_chain, signers={LIOH: revoked}, crls=[crl])
    report = verify(w)
    assert only_failures(report) == [(ANDES, "revocation")]
    assert "revoked" in report.failures[0].detail
    # the same CRL given on the command line instead of in the bundle
    w2 = make_world(parties, fixture_chain, signers={LIOH: revoked})
    assert verify(w2).valid
    assert only_failures(verify(w2, crls=[crl])) == [(ANDES, "revocation")]


def test_revocation_after_signing_keeps_signature_valid(parties, fixture_chain) -> None:
    later = parties.pki.company(ANDES, "supplier", name="Andes Lithium Refining S.A.")
    crl = build_crl(
        parties.pki.inter,
        [Revocation(later.certificate.serial_number, T0 + timedelta(hours=1))],
        at=T0 + timedelta(hours=2),
    )
    w = make_world(parties, fixture_chain, signers={LIOH: later}, crls=[crl])
    assert verify(w).valid


def test_expired_certificate(parties, fixture_chain) -> None:
    expired = parties.pki.company(ANDES, "supplier", at=T0 - timedelta(days=29), validity=timedelta(days=10))
    w = make_world(parties, fixture_chain, signers={LIOH: expired})
    report = verify(w)
    assert only_failures(report) == [(ANDES, "certificate chain")]
    assert "signing time" in report.failures[0].detail


def test_expired_attestation(world) -> None:
    report = verify_bundle(
        world.bundle,
        world.trust,
        at=T0 + timedelta(days=400),
        verifier_key=world.parties.nb.key,
        verifier_cert=world.parties.nb.certificate,
    )
    assert {c for _, c in only_failures(report)} >= {"validity"}
    assert {n for n, c in only_failures(report) if c == "validity"} == {KYUSHU, SETOUCHI, HOKURIKU, ANDES}


def test_missing_evidence(world) -> None:
    def drop(content: EvidenceContent) -> EvidenceContent:
        items = [
            i.model_copy(update={"package": None}) if issuer_of(i.attestation) == HOKURIKU else i
            for i in content.upstream
        ]
        return content.model_copy(update={"upstream": items})

    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI], drop)
    report = verify(world, with_pack_evidence(world, evidence))
    # Hokuriku's and Andes' packages are still bundled but nothing references them any more
    assert only_failures(report) == [(HOKURIKU, "evidence"), (OEM, "packages")]
    missing = report.failures_of(HOKURIKU, "evidence")[0]
    assert "evidence missing" in missing.detail and HOKURIKU in missing.detail
    assert "2 of 4 package(s) referenced by no attestation" in report.failures_of(OEM, "packages")[0].detail
    cam = report.find(company=HOKURIKU)[0]
    assert cam.evidence is EvidenceStatus.MISSING and cam.children == []
    assert not report.complete


def test_missing_pack_evidence(world) -> None:
    report = verify(world, with_pack_evidence(world, None))
    assert only_failures(report) == [(KYUSHU, "evidence")]


def test_evidence_sealed_for_another_verifier(world) -> None:
    nb2 = world.parties.nb2
    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU], lambda c: c, recipients=[nb2])
    report = verify(world, with_pack_evidence(world, evidence))
    # Hokuriku's package names LiOH's, which is then not known to be referenced: not checked rather than failed
    assert only_failures(report) == [(HOKURIKU, "evidence")]
    assert "not checked" in next(c.detail for c in report.root.checks if c.name == "packages")
    assert "sealed for another verifier" in report.failures[0].detail
    assert report.find(company=HOKURIKU)[0].evidence is EvidenceStatus.SEALED_FOR_ANOTHER_VERIFIER
    # the other notified body opens that tier but not the rest
    other = verify_bundle(world.bundle, world.trust, at=AT, verifier_key=nb2.key, verifier_cert=nb2.certificate)
    assert (KYUSHU, "evidence") in only_failures(other)


def test_declaration_signed_by_non_oem_certificate(world, parties) -> None:
    fake = parties.pki.company(OEM, "supplier", name="Nippon Motors (supplier certificate)")
    payload = declaration_payload(world.declaration, world.tiers[PACK].issued.sd_jwt, OEM, at=T0)
    token = sign_jws_json(payload, fake.key, fake.chain, DECLARATION_TYP)
    report = verify(world, world.bundle.model_copy(update={"declaration": token}))
    assert only_failures(report) == [(OEM, "role")]
    assert report.failures[0].kind == "declaration" and "expected oem" in report.failures[0].detail


def test_declaration_figures_must_match_pack(world, parties) -> None:
    stage = world.declaration.stages[1].model_copy(update={"absolute_kg_co2e": Decimal("1")})
    decl = world.declaration.model_copy(
        update={"stages": (world.declaration.stages[0], stage, *world.declaration.stages[2:])}
    )
    token = sign_declaration(decl, world.tiers[PACK].issued.sd_jwt, parties.oem.key, parties.oem.chain, at=T0)
    report = verify(world, world.bundle.model_copy(update={"declaration": token}))
    assert only_failures(report) == [(OEM, "absolute stages")]

    fig = world.declaration.carbon_footprint.model_copy(update={"value": Decimal("0.1")})
    token = sign_declaration(
        world.declaration.model_copy(update={"carbon_footprint": fig}),
        world.tiers[PACK].issued.sd_jwt,
        parties.oem.key,
        parties.oem.chain,
        at=T0,
    )
    report = verify(world, world.bundle.model_copy(update={"declaration": token}))
    assert only_failures(report) == [(OEM, "per-kWh recompute")]
    assert "carbonFootprint 0.1, recomputed 0.164679" in report.failures[0].detail


def test_declaration_for_another_pack_attestation(world, parties) -> None:
    token = sign_declaration(
        world.declaration, world.tiers[CELL].issued.sd_jwt, parties.oem.key, parties.oem.chain, at=T0
    )
    report = verify(world, world.bundle.model_copy(update={"declaration": token}))
    assert only_failures(report) == [(OEM, "pack binding")]


def test_cycle_is_detected(world) -> None:
    """Hokuriku's evidence made to list Setouchi's attestation (its own user) as an upstream."""
    cell = world.tiers[CELL]

    def loop(content: EvidenceContent) -> EvidenceContent:
        extra = UpstreamPackage(attestation=cell.issued.sd_jwt, package=cell.evidence["package"])
        return content.model_copy(update={"upstream": [*content.upstream, extra]})

    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU], loop)
    report = verify(world, with_pack_evidence(world, evidence))
    assert (SETOUCHI, "cycle") in only_failures(report)
    assert (HOKURIKU, "upstream binding") in only_failures(report)


def test_bad_crl_in_bundle(world) -> None:
    bundle = world.bundle.model_copy(update={"crls": ["-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"]})
    assert only_failures(verify(world, bundle)) == [(OEM, "crls")]


def test_requires_key_and_cert_together(world) -> None:
    with pytest.raises(ValueError, match="both"):
        verify_bundle(world.bundle, world.trust, at=AT, verifier_key=world.parties.nb.key)


def test_failures_name_company_attestation_and_check(parties, fixture_chain) -> None:
    def hook(claims, hidden):
        return claims, hidden.model_copy(
            update={
                "own_emissions": hidden.own_emissions.model_copy(
                    update={Stage.RAW_MATERIAL_ACQUISITION.value: Decimal("15.3")}
                )
            }
        )

    w = make_world(parties, fixture_chain, hooks={LIOH: hook})
    report = verify(w)
    (failure,) = report.failures
    assert (failure.company, failure.company_name, failure.check) == (
        ANDES,
        "Andes Lithium Refining S.A.",
        "arithmetic",
    )
    assert failure.attestation_id == w.tiers[LIOH].issued.attestation_id
    line = failure.line()
    assert ANDES in line and "arithmetic" in line and w.tiers[LIOH].issued.attestation_id in line
    assert "✘ arithmetic" in rendered(report)


def test_bundle_helper_rejects_mismatched_pack(world) -> None:
    with pytest.raises(Exception, match="packAttestationDigest"):
        build_bundle(world.token, world.tiers[CAM].issued.sd_jwt)


def test_full_six_tier_chain_verifies(parties, fixture_chain) -> None:
    """All seven supplier products attested (nickel -> pCAM -> CAM, LiOH, graphite -> cell -> pack)."""
    w = make_world(parties, fixture_chain, attested=None)
    report = verify(w)
    assert report.valid, [f.line() for f in report.failures]
    assert len([n for n in report.nodes() if n.kind == "attestation"]) == 7
    assert report.root.children[0].total == fixture_chain["expected"]["footprints"][PACK]["total"]


# --- flat evidence (bundle v2): the package map ---------------------------------------------------------------------


def _packages(world: World, **changes) -> dict:
    evidence = world.tiers[PACK].evidence
    return {"package": evidence["package"], "packages": {**evidence["packages"], **changes}}


def test_honest_bundle_references_every_package(world) -> None:
    report = verify(world)
    (check,) = [c for c in report.root.checks if c.name == "packages"]
    assert check.ok and check.detail == "4 package(s), each referenced by the tree"
    assert {n.package for n in report.nodes() if n.kind == "attestation"} == set(world.bundle.packages)


def test_unreferenced_package_fails_when_everything_was_opened(world, parties, fixture_chain) -> None:
    """A package no attestation of the tree references (bundled unused) is a failure once every package was opened,
    and only noted when some package stays closed."""
    stray = make_world(parties, fixture_chain).tiers[CAM].evidence  # another world's packages, other ids
    extra = {pid: p for pid, p in stray["packages"].items() if pid == stray["package"]}
    bundle = with_pack_evidence(world, _packages(world, **extra))
    report = verify(world, bundle)
    assert only_failures(report) == [(OEM, "packages")]
    detail = report.failures[0].detail
    assert "1 of 5 package(s) referenced by no attestation" in detail and stray["package"] in detail
    # the OEM (no key) cannot tell: not checked, not failed
    blind = verify(world, bundle, key=False)
    assert blind.valid and "not checked" in next(c.detail for c in blind.root.checks if c.name == "packages")


def test_package_id_referenced_twice_on_a_path_is_a_cycle(world) -> None:
    """Hokuriku's package made to name its own package id for its LiOH input: the walk would loop."""
    own = package_at(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU])

    def loop(content: EvidenceContent) -> EvidenceContent:
        return content.model_copy(
            update={"upstream": [i.model_copy(update={"package": own}) for i in content.upstream]}
        )

    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU], loop)
    report = verify(world, with_pack_evidence(world, evidence))
    assert (ANDES, "cycle") in only_failures(report)
    cycle = report.failures_of(ANDES, "cycle")[0]
    assert own in cycle.detail and "referenced twice on one path" in cycle.detail
    assert (OEM, "packages") in only_failures(report)  # Andes' own package is now referenced by nobody


def test_referenced_package_missing_from_the_bundle(world) -> None:
    cam = package_at(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU])
    evidence = world.tiers[PACK].evidence
    bundle = with_pack_evidence(
        world, {"package": evidence["package"], "packages": {k: v for k, v in evidence["packages"].items() if k != cam}}
    )
    report = verify(world, bundle)
    assert only_failures(report) == [(HOKURIKU, "evidence"), (OEM, "packages")]  # LiOH's is then unreferenced
    assert f"its evidence package {cam} is not in the bundle" in report.failures_of(HOKURIKU, "evidence")[0].detail
    assert report.find(company=HOKURIKU)[0].evidence is EvidenceStatus.MISSING


def test_tampered_package(world) -> None:
    """One byte of Hokuriku's ciphertext flipped: that package cannot be decrypted, the others are still checked."""
    cam = package_at(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU])
    package = dict(world.tiers[PACK].evidence["packages"][cam])
    text = package["ciphertext"]
    package["ciphertext"] = text[:10] + ("A" if text[10] != "A" else "B") + text[11:]
    report = verify(world, with_pack_evidence(world, _packages(world, **{cam: package})))
    assert only_failures(report) == [(HOKURIKU, "evidence")]  # Andes' package: unknown, so "packages" not checked
    assert "cannot be decrypted" in report.failures[0].detail
    assert report.find(company=HOKURIKU)[0].evidence is EvidenceStatus.FAILED
    assert report.find(company=SETOUCHI)[0].evidence is EvidenceStatus.OPENED


def test_package_swapped_for_another_tiers(world) -> None:
    """Setouchi's package names Andes' package for its Hokuriku input: bound to the wrong attestation."""
    lioh = package_at(world, world.tiers[PACK].evidence, [SETOUCHI, HOKURIKU, ANDES])

    def swap(content: EvidenceContent) -> EvidenceContent:
        return content.model_copy(
            update={
                "upstream": [
                    i.model_copy(update={"package": lioh}) if issuer_of(i.attestation) == HOKURIKU else i
                    for i in content.upstream
                ]
            }
        )

    evidence = edit_evidence(world, world.tiers[PACK].evidence, [SETOUCHI], swap)
    report = verify(world, with_pack_evidence(world, evidence))
    assert (HOKURIKU, "evidence binding") in only_failures(report)


def test_report_nodes_survive_the_compact_transfer(world) -> None:
    from connector.verification.report import pack_node, unpack_node

    report = verify(world)
    node = report.root.children[0]
    again = unpack_node(pack_node(node))
    assert again == node and again.model_dump(mode="json") == node.model_dump(mode="json")


def test_visits_are_bounded_per_package(world, monkeypatch) -> None:
    """Flat evidence is a graph: a package named from many paths is verified once per path, so the walk is bounded
    (VISITS_PER_PACKAGE per bundled package); an honest bundle is far below it."""
    from connector.verification import tree_walk

    assert verify(world).valid
    monkeypatch.setattr(tree_walk, "VISITS_SLACK", 3)
    monkeypatch.setattr(tree_walk, "VISITS_PER_PACKAGE", 0)  # budget 3: Andes (4th) not verified
    report = verify(world)
    assert only_failures(report) == [(ANDES, "visits"), (HOKURIKU, "upstream values")]
    assert "not verified further" in report.failures_of(ANDES, "visits")[0].detail


def test_shared_packages_are_verified_per_path_within_the_budget(monkeypatch) -> None:
    """A graph: 4 products of one company each use the same 4 supplier attestations (their packages bundled once,
    named 4 times). Verified once per path (21 visits, 9 packages); a crafted wider fan is cut off by the budget."""
    from decimal import Decimal

    from bench.synth import AT as SYNTH_AT
    from bench.synth import _bundle, attest, company_id, dataspace, leaf_values, stages
    from connector.verification import tree_walk

    ds = dataspace()
    maker, pack_co = company_id(7), company_id(0)
    leaves = [
        attest(ds, company_id(8), maker, f"urn:pact:x.example:product:l{i}", leaf_values(i), []) for i in range(4)
    ]
    middles = [
        attest(
            ds,
            maker,
            pack_co,
            f"urn:pact:x.example:product:m{j}",
            stages("1"),
            [(Decimal("0.25"), leaf) for leaf in leaves],
        )
        for j in range(4)
    ]
    pack = attest(
        ds,
        pack_co,
        "urn:pact:oem.example:company:oem",
        "urn:pact:pack.example:product:pack",
        stages("0", "12.5"),
        [(Decimal("1"), m) for m in middles],
    )
    bundle = _bundle(ds, pack)
    assert len(bundle.packages) == 9

    def check():
        return verify_bundle(
            bundle, ds.trust, at=SYNTH_AT, verifier_key=ds.nb.key, verifier_cert=ds.nb.certificate, workers=1
        )

    report = check()
    assert report.valid, [f.line() for f in report.failures]
    assert len([n for n in report.nodes() if n.kind == "attestation"]) == 21
    monkeypatch.setattr(tree_walk, "VISITS_SLACK", 0)
    monkeypatch.setattr(tree_walk, "VISITS_PER_PACKAGE", 1)  # budget 9 visits
    report = check()
    # pack, m0 and its 4 leaves, m1 and 2 of its leaves: then its 2 other leaves, m2 and m3 are cut off
    assert not report.valid and len(report.failures_of(check="visits")) == 4


def test_a_package_named_many_times_is_opened_once(monkeypatch) -> None:
    """A crafted bundle: the pack's package lists many junk upstream entries that all name one large package. Each
    package is decrypted once per walk, whatever the number of mentions (it used to be once per mention: a 10 MB
    bundle cost 250 decryptions of an 8 MB package)."""
    from bench.synth import AT as SYNTH_AT
    from bench.synth import OEM_ID, PACK_PRODUCT, _bundle, attest, company_id, dataspace, leaf_values, stages
    from connector.attestation.evidence import EvidenceContent, UpstreamPackage, open_evidence, seal_evidence
    from connector.verification import walk_context

    ds = dataspace()
    pack_co = company_id(0)
    leaf = attest(ds, company_id(1), pack_co, "urn:pact:x.example:product:l", leaf_values(1), [])
    pack = attest(ds, pack_co, OEM_ID, PACK_PRODUCT, stages("0", "12.5"), [(Decimal("1"), leaf)])
    bundle = _bundle(ds, pack).model_dump(mode="json", by_alias=True)
    big_id, pack_id = "A" * 22, pack.evidence["package"]
    big = seal_evidence(
        EvidenceContent(attestation=leaf.issued.sd_jwt, disclosures=["x" * 100_000] * 4),
        [ds.nb.chain],
        ds.trust,
        SYNTH_AT,
    )
    content = open_evidence(pack.evidence["packages"][pack_id], ds.nb.key, ds.nb.certificate)
    junk = [UpstreamPackage(attestation=f"junk{i}.e30.c2ln~", package=big_id) for i in range(40)]
    bundle["packages"] = {
        **bundle["packages"],
        big_id: big,
        pack_id: seal_evidence(
            content.model_copy(update={"upstream": [*content.upstream, *junk]}), [ds.nb.chain], ds.trust, SYNTH_AT
        ),
    }
    opened: list[int] = []
    real_open = walk_context.open_evidence

    def counting(package, *args, **kwargs):
        opened.append(1)
        return real_open(package, *args, **kwargs)

    monkeypatch.setattr(walk_context, "open_evidence", counting)
    report = verify_bundle(
        bundle, ds.trust, at=SYNTH_AT, verifier_key=ds.nb.key, verifier_cert=ds.nb.certificate, workers=1
    )
    assert not report.valid and report.failures_of(check="upstream binding")
    assert len(opened) == 3  # the pack's, the leaf's and the big one: once each
