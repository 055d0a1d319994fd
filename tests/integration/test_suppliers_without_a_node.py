"""Issue 17's done-when on the demo chain, in one process (both databases): two suppliers at different tiers run no
node; their customers enter their values from the files shipped beside the chain (a PACT v3 file in the shape of the
official PACT example, and a value typed from a document). The pack still reaches the automaker, the declaration's
attested coverage is exactly what the chain's bills of materials give by decision 0017 (computed here
independently), the verifier lists both entered inputs and refuses them when attested values are required.

``PACT_V3_EXAMPLE_FILE`` (the official example, spec/v3/examples/example-1.json of wbcsd/data-exchange-protocol):
the nickel refiner's value is then imported from that file itself, through the same API call, its ids overridden."""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from connector.demo.entered import EnteredSupplier, entered_suppliers
from tests.chain_coverage import STAGES, declared_coverage, expected_for
from tests.conftest import FIXTURE_FILE

from .network import Network, build_network
from .test_supply_chain import OEM, PACK, _held, _request_pack

pytestmark = pytest.mark.asyncio

NICKEL = "urn:pact:sulawesi-nickel.example:company:sulawesi-nickel"
NISO4 = "urn:pact:sulawesi-nickel.example:product:niso4-6h2o"
GRAPHITE = "urn:pact:inner-graphite.example:company:inner-graphite"
PRECURSOR = "urn:pact:kansai-precursor.example:company:kansai-precursor"
CELL = "urn:pact:setouchi-cell.example:company:setouchi-cell"
CATHODE = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"
VERIFIER = "urn:pact:nb.example:company:notified-body-0042"
OFFICIAL = os.environ.get("PACT_V3_EXAMPLE_FILE")


async def _post(net: Network, customer: str, path: str, body: bytes, params: dict | None = None) -> dict:
    node = net[customer]
    r = await node.client.post(
        f"/api/v1{path}",
        content=body,
        params=params,
        headers={"X-API-Key": node.key, "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    return r.json()


def _per_stage(**values: str) -> dict[str, Decimal]:
    return {s: Decimal(values.get(s, "0")) for s in STAGES}


@pytest.mark.parametrize(
    "nickel_file",
    [
        "ours",
        pytest.param(
            "official",
            marks=pytest.mark.skipif(not OFFICIAL, reason="PACT_V3_EXAMPLE_FILE (the official v3 example) not given"),
        ),
    ],
)
async def test_two_suppliers_without_a_node_end_in_an_exactly_covered_declaration(
    chain: dict, make_db, nickel_file: str
) -> None:
    suppliers = {s.company_id: s for s in entered_suppliers(FIXTURE_FILE, chain, ["sulawesi-nickel", GRAPHITE])}
    assert {(c, s.source_kind, s.customers) for c, s in suppliers.items()} == {
        (NICKEL, "pact-file", (PRECURSOR,)),
        (GRAPHITE, "document", (CELL,)),
    }
    net = await build_network(chain, make_db, without_node=frozenset(suppliers))
    async with net.stack:
        assert NICKEL not in net.nodes and GRAPHITE not in net.nodes

        # the nickel refiner's PACT file, imported by the precursor maker
        nickel: EnteredSupplier = suppliers[NICKEL]
        if nickel_file == "ours":
            raw = nickel.file.read_bytes()
            path, body = nickel.request()
            assert body == raw  # the file as shipped, byte for byte
            imported = await _post(net, PRECURSOR, path, body)
        else:
            raw = Path(OFFICIAL or "").read_bytes()
            imported = await _post(net, PRECURSOR, nickel.request()[0], raw, {"supplier": NICKEL, "product": NISO4})
        pcf = json.loads(raw)["pcf"]
        assert pcf["declaredUnitOfMeasurement"] == "kilogram"  # the line's unit: no conversion below
        nickel_values = _per_stage(
            raw_material_acquisition=str(
                Decimal(pcf["pcfExcludingBiogenicUptake"]) / Decimal(pcf["declaredUnitAmount"])
            )
        )
        assert [i["sourceKind"] for i in imported] == ["pact-file"]
        assert {s: Decimal(v) for s, v in imported[0]["stages"].items()} == nickel_values

        # the graphite maker's statement, typed by the cell maker with the document kept
        graphite = suppliers[GRAPHITE]
        assert graphite.document is not None
        recorded = await _post(net, CELL, *graphite.request())
        statement = graphite.document.read_bytes()
        assert recorded["sourceKind"] == "document" and recorded["enteredBy"] == "api-key:test admin"
        assert recorded["documentSha256"] == hashlib.sha256(statement).hexdigest()
        graphite_values = _per_stage(raw_material_acquisition="4.0", main_production="5.1")
        assert {s: Decimal(v) for s, v in recorded["stages"].items()} == graphite_values
        assert b"4.0" in statement and b"5.1" in statement  # the document states what was typed

        view = (await net[CELL].api("GET", "/supplier-data")).json()
        assert {(v["supplierCompanyId"], v["state"]) for v in view} >= {(GRAPHITE, "entered")}

        await _request_pack(net)
        held = await net.wait_for(lambda: _held(net[OEM], PACK), timeout=60, what="the pack footprint")
        want = expected_for(chain, PACK, {NICKEL: nickel_values, GRAPHITE: graphite_values})
        assert {s: Decimal(held[0]["stages"][s]) for s in STAGES} == want.values
        if nickel_file == "ours":  # the same values as the chain's own nodes would have computed
            fixture = chain["expected"]["footprints"][PACK]
            assert want.values == {s: Decimal(fixture[s]) for s in STAGES}
        # nobody asked the suppliers without a node: the cell maker asked only its cathode maker, the precursor
        # maker (whose only supplier runs no node) nobody
        for customer, asked in ((PRECURSOR, set()), (CELL, {CATHODE})):
            sent = (await net[customer].api("GET", "/requests", params={"direction": "outgoing"})).json()["items"]
            assert {r["companyId"] for r in sent} == asked

        r = await net[OEM].api("POST", "/declarations", json=dict(chain["declaration"]))
        assert r.status_code == 201, r.text
        declaration = r.json()["document"]
        stages, total = declared_coverage(declaration)
        assert (stages, total) == (want.coverage, want.total)
        assert want.entered == 2 and total < 100
        assert declaration["attestedCoverage"]["enteredDeeperTiers"] == 2
        assert declaration["attestedCoverage"]["enteredTier1"] == []

        bundle = (await net[OEM].api("GET", f"/declarations/{r.json()['id']}/bundle")).json()
        report = (await net[VERIFIER].api("POST", "/verify", json=bundle)).json()
        assert report["valid"] is True, report["failures"]
        assert report["enteredInputs"] == want.entered and report["fullyAttested"] is False
        assert Decimal(report["attestedCoverage"]["total"]) == want.total
        listed = {
            (node["company"], i["supplier"], i["sourceKind"], i["documentCheck"], i["documentDigest"])
            for node, i in _entered(report)
        }
        assert listed == {
            (PRECURSOR, NICKEL, "pact-file", "pass", hashlib.sha256(raw).hexdigest()),
            (CELL, GRAPHITE, "document", "pass", hashlib.sha256(statement).hexdigest()),
        }

        strict = (await net[VERIFIER].api("POST", "/verify", params={"requireAttested": "true"}, json=bundle)).json()
        assert strict["valid"] is False
        assert {(f["company"], f["check"]) for f in strict["failures"]} == {(PRECURSOR, "attested"), (CELL, "attested")}


def _entered(report: dict):
    stack = [report["root"]]
    while stack:
        node = stack.pop()
        stack.extend(node.get("children", []))
        for item in node.get("inputs") or []:
            if item.get("basis") == "entered":
                yield node, item
