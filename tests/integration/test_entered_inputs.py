"""Issue 17 across nodes: a cathode maker whose lithium supplier runs no node enters the supplier's value by hand
with its source document; the chain still delivers, the declaration says how much is attested, and the verifier lists
the entered input, recomputes the coverage, refuses it under require-attested and catches tampering."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from connector.aggregation import format_percent
from connector.attestation import EvidenceDocument, open_evidence, seal_evidence
from connector.attestation.sdjwt import make_disclosure, parse_disclosure
from connector.cli.verify import verify_app
from connector.identity.files import save_issued, write_certificates
from connector.identity.trust import TrustStore
from connector.verification import verify_bundle

from .network import Network
from .test_supply_chain import OEM, PACK, _held, _request_pack

pytestmark = pytest.mark.asyncio

LITHIUM = "urn:pact:andes-lithium.example:company:andes-lithium"
LIOH = "urn:pact:andes-lithium.example:product:lioh-h2o-bg"
CATHODE = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"
PACK_CO = "urn:pact:kyushu-pack.example:company:kyushu-pack"
VERIFIER = "urn:pact:nb.example:company:notified-body-0042"
STAGES = ("raw_material_acquisition", "main_production", "distribution", "end_of_life")
# kg LiOH per kg cathode material, kg cathode material per cell, cells per pack (the fixture's bills of materials)
LIOH_PER_PACK = Decimal("0.44") * Decimal("0.481") * Decimal("204")


async def _lithium_values(net: Network) -> dict[str, str]:
    """What the lithium refiner would have attested: its footprint, computed on its node (never asked over PACT)."""
    refiner = net[LITHIUM]
    product = (await refiner.api("GET", "/products")).json()["items"][0]
    r = await refiner.api("POST", f"/products/{product['id']}/footprints")
    assert r.status_code in (200, 201), r.text
    return r.json()["footprint"]["stages"]


async def _enter_lithium(net: Network, stages: dict[str, str]) -> tuple[bytes, dict]:
    document = json.dumps({"specVersion": "3.0.0", "productIds": [LIOH], "pcf": stages}).encode()
    r = await net[CATHODE].api(
        "POST",
        "/upstream-footprints",
        json={
            "supplierCompanyId": LITHIUM,
            "productId": LIOH,
            "declaredUnit": "kilogram",
            "stages": stages,
            "sourceKind": "pact-file",
            "document": base64.b64encode(document).decode(),
            "mediaType": "application/json",
        },
    )
    assert r.status_code == 201, r.text
    return document, r.json()


def _trust(net: Network) -> TrustStore:
    return TrustStore([net.pki.root.certificate], intermediates=[net.pki.inter.certificate])


def _verify(net: Network, bundle: dict, **kw):
    return verify_bundle(
        bundle,
        _trust(net),
        at=datetime.now(UTC),
        verifier_key=net.verifier.key,
        verifier_cert=list(net.verifier.chain),
        workers=1,
        **kw,
    )


def _package_with_documents(net: Network, bundle: dict):
    for pid, package in bundle["packages"].items():
        content = open_evidence(package, net.verifier.key, net.verifier.chain[0])
        if content.documents:
            return pid, content
    raise AssertionError("no evidence package carries a source document")


def _reseal(net: Network, bundle: dict, pid: str, content) -> dict:
    sealed = seal_evidence(content, [list(net.verifier.chain)], _trust(net), datetime.now(UTC))
    return {**bundle, "packages": {**bundle["packages"], pid: sealed}}


async def test_an_entered_supplier_value_flows_down_with_its_provenance(network: Network, chain: dict) -> None:
    lithium = await _lithium_values(network)
    document, recorded = await _enter_lithium(network, lithium)
    assert recorded["basis"] == "entered" and recorded["verified"] is False
    assert recorded["sourceKind"] == "pact-file" and recorded["enteredBy"] == "api-key:test admin"
    assert recorded["documentSha256"] == hashlib.sha256(document).hexdigest()

    await _request_pack(network)
    held = await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint")
    want = chain["expected"]["footprints"][PACK]
    assert {s: Decimal(held[0]["stages"][s]) for s in STAGES} == {s: Decimal(want[s]) for s in STAGES}
    assert held[0]["verified"] is True  # the cathode maker attested with an entered input: the chain delivers

    r = await network[OEM].api("POST", "/declarations", json=dict(chain["declaration"]))
    assert r.status_code == 201, r.text
    declared = r.json()
    coverage = declared["document"]["attestedCoverage"]
    assert coverage["fullyAttested"] is False and coverage["enteredDeeperTiers"] == 1
    assert coverage["enteredTier1"] == []  # the pack maker is attested; the lithium value is 3 tiers down: a count
    signed = json.loads(base64.urlsafe_b64decode(declared["signed"].split(".")[1] + "==="))
    assert signed["credentialSubject"]["attestedCoverage"] == coverage  # the signed VC says the same
    html = (await network[OEM].api("GET", f"/declarations/{declared['id']}/html")).text
    assert f'data-attested-coverage="{coverage["total"]}"' in html and "1 entered value deeper" in html

    bundle = (await network[OEM].api("GET", f"/declarations/{declared['id']}/bundle")).json()
    report = (await network[VERIFIER].api("POST", "/verify", json=bundle)).json()
    assert report["valid"] is True, report["failures"]
    assert report["fullyAttested"] is False and report["enteredInputs"] == 1
    assert report["attestedCoverage"]["total"] == format_percent(Decimal(coverage["total"]))  # 2 places, as a string

    # the coverage, computed independently: the lithium refiner's raw material and production emissions reach the
    # pack through 0.44 kg/kg x 0.481 kg/cell x 204 cells, and every other contribution to these stages is positive
    # and attested; each of the three tiers above rounds down to 0.01 %
    for stage in ("raw_material_acquisition", "main_production"):
        entered = Decimal(lithium[stage]) * LIOH_PER_PACK
        exact = 100 * (1 - entered / Decimal(want[stage]))
        claimed = Decimal(report["attestedCoverage"][stage])
        assert exact - Decimal("0.03") <= claimed <= exact, (stage, claimed, exact)
        declared_stage = next(c for c in coverage["stages"] if c["stage"] == stage)
        assert Decimal(declared_stage["percent"]) == claimed

    # the entered input, as the verifier sees it at the cathode maker
    nodes = [n for n in _walk(report["root"]) if n.get("company") == CATHODE]
    assert len(nodes) == 1
    lines = [i for i in nodes[0]["inputs"] if i["basis"] == "entered"]
    assert len(lines) == 1
    line = lines[0]
    assert line["supplier"] == LITHIUM and line["sourceKind"] == "pact-file"
    assert line["enteredBy"] == "api-key:test admin" and line["enteredAt"]
    assert line["documentCheck"] == "pass" and line["documentDigest"] == recorded["documentSha256"]
    assert line["documentMediaType"] == "application/json" and line["documentSize"] == len(document)
    assert Decimal("0") < Decimal(line["sharePercent"]) < Decimal("100")
    assert {c["name"] for c in nodes[0]["checks"]} >= {"entered input", "document", "coverage"}

    # a verifier that demands attested values refuses it, naming the cathode maker
    strict = (await network[VERIFIER].api("POST", "/verify", params={"requireAttested": "true"}, json=bundle)).json()
    assert strict["valid"] is False and strict["requireAttested"] is True
    assert {(f["company"], f["check"]) for f in strict["failures"]} == {(CATHODE, "attested")}

    # tampering: the sealed document replaced
    pid, content = _package_with_documents(network, bundle)
    digest = next(iter(content.documents))
    forged = content.model_copy(update={"documents": {digest: EvidenceDocument.of(b"forged", "application/json")}})
    tampered = _verify(network, _reseal(network, bundle, pid, forged))
    assert not tampered.valid
    assert {(f.company, f.check) for f in tampered.failures} == {(CATHODE, "document")}

    # tampering: the document moved under another digest in the package
    moved = content.model_copy(update={"documents": {"b" * 64: content.documents[digest]}})
    tampered = _verify(network, _reseal(network, bundle, pid, moved))
    assert {(f.company, f.check) for f in tampered.failures} == {(CATHODE, "documents")}

    # tampering: the input's committed digest changed in its disclosure
    disclosures = []
    for text in content.disclosures:
        d = parse_disclosure(text)
        if d.name.startswith("input:") and d.value.get("basis") == "entered":
            text = make_disclosure(d.name, {**d.value, "documentDigest": "c" * 64}).text
        disclosures.append(text)
    changed = content.model_copy(update={"disclosures": disclosures})
    tampered = _verify(network, _reseal(network, bundle, pid, changed))
    assert (CATHODE, "disclosures") in {(f.company, f.check) for f in tampered.failures}

    # the honest bundle, offline, gives the same verdict as the verifier node
    offline = _verify(network, bundle)
    shown = format_percent(Decimal(coverage["total"]))  # the declaration's "20.4" is the report's "20.40"
    assert offline.valid and offline.summary() == f"valid, {shown} % attested (1 entered input)"
    strict_offline = _verify(network, bundle, require_attested=True)
    assert not strict_offline.valid and strict_offline.failures_of(CATHODE, "attested")


async def test_connector_verify_lists_the_entered_input_and_refuses_it_on_demand(
    network: Network, chain: dict, tmp_path
) -> None:
    await _enter_lithium(network, await _lithium_values(network))
    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint")
    declared = (await network[OEM].api("POST", "/declarations", json=dict(chain["declaration"]))).json()
    bundle = (await network[OEM].api("GET", f"/declarations/{declared['id']}/bundle")).json()
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    write_certificates(tmp_path / "root.pem", [network.pki.root.certificate, network.pki.inter.certificate])
    save_issued(tmp_path / "nb", "nb", network.verifier)
    args = ["verify", str(tmp_path / "bundle.json"), "--trust", str(tmp_path / "root.pem")]
    args += ["--key", str(tmp_path / "nb" / "nb.key"), "--json", str(tmp_path / "report.json")]
    args += ["--html", str(tmp_path / "report.html")]
    result = CliRunner(env={"COLUMNS": "300"}).invoke(verify_app, args)
    assert result.exit_code == 0, result.output
    coverage = format_percent(Decimal(declared["document"]["attestedCoverage"]["total"]))
    assert result.output.strip().splitlines()[-1] == f"valid, {coverage} % attested (1 entered input)"
    assert f"entered input 440 gram from {LITHIUM} (pact-file), entered by api-key:test admin" in result.output
    assert json.loads((tmp_path / "report.json").read_text())["enteredInputs"] == 1
    page = (tmp_path / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    assert f"valid, {coverage} % attested" in text and f"entered input 440 gram from {LITHIUM}" in text
    strict = CliRunner(env={"COLUMNS": "300"}).invoke(verify_app, [*args, "--require-attested"])
    assert strict.exit_code == 1, strict.output
    assert "attested: input 1 (440 gram) is an entered value" in strict.output
    assert strict.output.strip().splitlines()[-1] == "INVALID: 1 failure(s)"


def _walk(node: dict):
    yield node
    for child in node.get("children", []):
        yield from _walk(child)
