"""One tier pair over Catena-X (the automaker asks the pack maker through its EDC; the pack maker answers through
its own), the rest of the chain over PACT: the pack footprint arrives verified and exact, and the data plane's
headers are what the pack maker's PCF API checks."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connector.demo.catenax_edc import Participant, SimulatedEdcs

from .network import Network, build_network
from .test_supply_chain import LITHIUM, OEM, PACK, PACK_CO, STAGES, _held, _request_pack

pytestmark = pytest.mark.asyncio

OEM_BPNL = "BPNL00000000OEM1"
PACK_BPNL = "BPNL0000000PACK1"


async def _partner_id(node, company_id: str) -> str:
    items = (await node.api("GET", "/partners", params={"limit": 500})).json()["items"]
    return next(p["id"] for p in items if p["companyId"] == company_id)


async def catenax_pair(net: Network) -> SimulatedEdcs:
    edcs = SimulatedEdcs(net.router)
    people = {
        OEM: Participant(OEM_BPNL, "oem", net[OEM].settings.public_url, "oem-proxy-secret"),
        PACK_CO: Participant(PACK_BPNL, "pack", net[PACK_CO].settings.public_url, "pack-proxy-secret"),
    }
    for p in people.values():
        edcs.add(p)
    net.edcs = edcs  # type: ignore[attr-defined]
    net.router.apps["edc.test"] = httpx.ASGITransport(app=edcs.app())
    for cid, me in people.items():
        cx = net[cid].settings.catenax
        cx.bpnl, cx.api_key = me.bpnl, SecretStr(me.api_key)
        cx.edc_management_url, cx.edc_api_key = me.management, SecretStr(me.management_key)
        other = PACK_CO if cid == OEM else OEM
        pid = await _partner_id(net[cid], other)
        r = await net[cid].api(
            "PATCH",
            f"/partners/{pid}",
            json={"protocol": "catenax", "bpnl": people[other].bpnl, "nodeUrl": people[other].dsp},
        )
        assert r.status_code == 200, r.text
        assert r.json()["bpnl"] == people[other].bpnl
    return edcs


async def test_the_pack_footprint_crosses_catena_x_verified_and_exact(network: Network, chain: dict) -> None:
    edcs = await catenax_pair(network)
    req = await _request_pack(network)
    held = await network.wait_for(lambda: _held(network[OEM], PACK), timeout=40, what="the pack footprint at the OEM")
    expected = chain["expected"]["footprints"][PACK]
    assert {s: Decimal(held[0]["stages"][s]) for s in STAGES} == {s: Decimal(expected[s]) for s in STAGES}
    assert held[0]["verified"] is True
    assert (await network[OEM].api("GET", f"/requests/{req['id']}")).json()["state"] == "fulfilled"
    # the request and the answer each went through the other side's data plane, over the footprintExchange paths
    assert ("pack", "GET", f"/footprintExchange/{req['eventId']}") in edcs.calls
    # the verifier the automaker named reached the pack maker (so its evidence is sealed to the notified body)
    incoming = (await network[PACK_CO].api("GET", "/requests", params={"limit": 500})).json()["items"]
    asked = next(r for r in incoming if r["eventId"] == req["eventId"])
    assert asked["verifierCount"] == 1 and asked["direction"] == "incoming"
    assert ("oem", "PUT", f"/footprintExchange/{req['eventId']}") in edcs.calls
    assert [c for c in edcs.calls if c[1] == "POST"] == [
        ("oem", "POST", "catalog"),
        ("oem", "POST", "edrs"),
        ("pack", "POST", "catalog"),
        ("pack", "POST", "edrs"),
    ]  # one negotiation each way: the EDR is reused


async def test_a_new_version_reaches_the_automaker_as_an_update_of_its_request(network: Network) -> None:
    edcs = await catenax_pair(network)
    req = await _request_pack(network)
    first = (await network.wait_for(lambda: _held(network[OEM], PACK), timeout=40, what="the first pack footprint"))[0]
    refiner = network[LITHIUM]
    product = (await refiner.api("GET", "/products")).json()["items"][0]
    for e in (await refiner.api("GET", f"/products/{product['id']}/emissions")).json():
        assert (await refiner.api("DELETE", f"/products/{product['id']}/emissions/{e['id']}")).status_code == 204
    r = await refiner.api(
        "POST", f"/products/{product['id']}/emissions", json={"stage": "raw_material_acquisition", "value": "12.2"}
    )
    assert r.status_code == 201
    assert (await refiner.api("POST", f"/products/{product['id']}/footprints")).json()["changed"] is True

    async def new_version() -> list[dict]:
        return [u for u in await _held(network[OEM], PACK) if u["footprintId"] != first["footprintId"]]

    second = (await network.wait_for(new_version, timeout=40, what="the new pack version at the automaker"))[0]
    assert second["verified"] is True and second["stages"] != first["stages"]
    # it came as an update of the automaker's request, through its data plane
    assert ("oem", "PUT-update", f"/footprintExchange/{req['eventId']}") in edcs.calls
    state = (await network[OEM].api("GET", f"/requests/{req['id']}")).json()
    assert state["state"] == "fulfilled" and second["footprintId"] in state["footprintIds"]


async def test_a_pcf_without_our_attestation_never_enters_as_attested(chain: dict, make_db: Any) -> None:
    net = await build_network(chain, make_db, manual=frozenset({PACK_CO}))
    async with net.stack:
        await catenax_pair(net)
        req = await _request_pack(net)
        oem = net[OEM]
        await net.wait_for(
            lambda: ("pack", "GET", f"/footprintExchange/{req['eventId']}") in net_calls(net),
            what="the request at the pack maker",
        )
        doc = json.loads(_script().sample_payload())
        del doc["attestationOfConformance"]
        doc["companyAndProductInformation"][0]["productInformation"][0]["productIds"] = [PACK]
        doc["companyAndProductInformation"][0]["productInformation"][0]["declaredUnitOfMeasurement"] = "piece"
        doc["companyAndProductInformation"][0]["companyInformation"][0]["companyIds"] = [f"urn:{PACK_BPNL}"]
        r = await oem.client.put(
            f"/catenax/footprintExchange/{req['eventId']}",
            content=json.dumps(doc),
            headers={"x-api-key": "oem-proxy-secret", "edc-bpn": PACK_BPNL, "content-type": "application/json"},
        )
        assert r.status_code == 200, r.text
        state = (await oem.api("GET", f"/requests/{req['id']}")).json()
        assert state["state"] == "fulfilled", state
        held = [u for u in (await _held(oem, PACK))]
        assert len(held) == 1 and held[0]["verified"] is False and held[0]["basis"] == "entered"
        assert held[0]["sourceKind"] == "catenax-partner" and held[0]["supplierCompanyId"] == PACK_CO
        # decision 0019: the cradle-to-gate value as raw material acquisition, the included distribution stage
        assert Decimal(held[0]["stages"]["raw_material_acquisition"]) == Decimal("73.623456789012")
        assert Decimal(held[0]["stages"]["distribution"]) == Decimal("0.75")
        # a PUT naming a request the OEM never sent to this partner is refused
        r = await oem.client.put(
            "/catenax/footprintExchange/not-ours",
            content=json.dumps(doc),
            headers={"x-api-key": "oem-proxy-secret", "edc-bpn": PACK_BPNL},
        )
        assert r.status_code == 404 and r.json()["code"] == "NotFound"
        r = await oem.client.put(
            f"/catenax/footprintExchange/{req['eventId']}",
            content=b'{"a":1,"a":2}',
            headers={"x-api-key": "oem-proxy-secret", "edc-bpn": PACK_BPNL},
        )
        assert r.status_code == 400


def net_calls(net: Network) -> list[tuple[str, str, str]]:
    return list(net.edcs.calls) if hasattr(net, "edcs") else []


def _script() -> Any:
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("validate_catenax_pcf", root / "scripts" / "validate-catenax-pcf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_the_pcf_api_refuses_calls_without_the_data_plane_headers(network: Network) -> None:
    await catenax_pair(network)
    pack = network[PACK_CO]
    path = "/catenax/submodel/urn:pact:kyushu-pack.example:product:pack-75kwh"
    r = await pack.client.get(path, headers={"edc-bpn": OEM_BPNL})
    assert r.status_code == 401 and r.json()["code"] == "AccessDenied"
    r = await pack.client.get(path, headers={"x-api-key": "wrong", "edc-bpn": OEM_BPNL})
    assert r.status_code == 401
    r = await pack.client.get(path, headers={"x-api-key": "pack-proxy-secret"})
    assert r.status_code == 400 and "Edc-Bpn" in r.json()["message"]
    r = await pack.client.get(path, headers={"x-api-key": "pack-proxy-secret", "edc-bpn": "not-a-bpn"})
    assert r.status_code == 400
    for method, bad in (
        ("GET", "/catenax/footprintExchange/bad%20id"),
        ("PUT", "/catenax/productIds/x?requestId=b%20d"),
    ):
        r = await pack.client.request(method, bad, headers={"edc-bpn": OEM_BPNL})
        assert r.status_code == 401  # the secret first: nothing else is said without it
    # a known partner without a grant: 404, exactly like an unknown product
    r = await pack.client.get(path, headers={"x-api-key": "pack-proxy-secret", "edc-bpn": OEM_BPNL})
    assert r.status_code == 404 and r.json()["code"] == "NotFound"
    r = await pack.client.get(
        "/catenax/submodel/urn:pact:nowhere.example:product:none",
        headers={"x-api-key": "pack-proxy-secret", "edc-bpn": OEM_BPNL},
    )
    assert r.status_code == 404
    r = await pack.client.get(
        "/catenax/footprintExchange/abc",
        params={"manufacturerPartId": PACK, "dataModelVersion": "10.0.0"},
        headers={"x-api-key": "pack-proxy-secret", "edc-bpn": OEM_BPNL},
    )
    assert r.status_code == 400 and "9.0.0" in r.json()["message"]
    r = await pack.client.get(
        "/catenax/footprintExchange/abc", headers={"x-api-key": "pack-proxy-secret", "edc-bpn": OEM_BPNL}
    )
    assert r.status_code == 400 and "manufacturerPartId" in r.json()["message"]
    r = await pack.client.get(
        "/catenax/footprintExchange/abc",
        params={"manufacturerPartId": PACK, "x-cfpconnector-verifiers": "bm90IGEgY2VydA"},
        headers={"x-api-key": "pack-proxy-secret", "edc-bpn": OEM_BPNL},
    )
    assert r.status_code == 400 and "x-cfpconnector-verifiers" in r.json()["message"]
    # a request for a product the pack maker does not make: 202, recorded as rejected, and nothing queued to send
    # (the PCF API has no rejection message)
    r = await pack.client.get(
        "/catenax/footprintExchange/req-unknown",
        params={"manufacturerPartId": "urn:pact:nowhere.example:product:none"},
        headers={"x-api-key": "pack-proxy-secret", "edc-bpn": OEM_BPNL},
    )
    assert r.status_code == 202
    incoming = (await pack.api("GET", "/requests", params={"limit": 500})).json()["items"]
    assert next(q for q in incoming if q["eventId"] == "req-unknown")["state"] == "rejected"
    queued = (await pack.api("GET", "/outbox", params={"limit": 500})).json()["items"]
    assert not [m for m in queued if m.get("protocol") == "catenax" or m.get("kind") == "reject"]


async def test_the_submodel_get_serves_the_granted_pcf(network: Network) -> None:
    await catenax_pair(network)
    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=40, what="the pack footprint at the OEM")
    pack = network[PACK_CO]
    headers = {"x-api-key": "pack-proxy-secret", "edc-bpn": OEM_BPNL}
    r = await pack.client.get(f"/catenax/submodel/{PACK}", headers=headers)
    assert r.status_code == 200, r.text
    doc = r.json()
    info = doc["companyAndProductInformation"][0]["productInformation"][0]
    assert info["productIds"] == [PACK]
    assert doc["attestationOfConformance"][0]["providerId"] == f"urn:{PACK_BPNL}"
    again = await pack.client.get(f"/catenax/submodel/{PACK}/$value", headers=headers)
    assert again.content == r.content
    third = await pack.client.get(f"/catenax/submodel/{PACK}", headers=headers)  # from the answer cache
    assert third.content == r.content
    entries = (await pack.api("GET", "/audit", params={"limit": 500})).json()["items"]
    reads = [e for e in entries if e["action"] == "catenax.get"]
    assert len(reads) == 3 and {e["actor"] for e in reads} == {OEM}  # every read audited, cached or not
    schema_path = os.environ.get("CATENAX_PCF_SCHEMA")
    if schema_path:  # the payload a real node sends, against the official schema
        result = _validator().validate(json.loads(Path(schema_path).read_text()), doc, fragment=False)
        assert result.errors == []


def _validator() -> Any:
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("validate_passports", root / "scripts" / "validate-passports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
