"""The whole fixture chain across nodes: request up, signed answers down, changes flow down by themselves."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .network import Network

pytestmark = pytest.mark.asyncio

OEM = "urn:pact:nippon-motors.example:company:nippon-motors"
PACK_CO = "urn:pact:kyushu-pack.example:company:kyushu-pack"
PACK = "urn:pact:kyushu-pack.example:product:pack-75kwh"
CELL_CO = "urn:pact:setouchi-cell.example:company:setouchi-cell"
CELL = "urn:pact:setouchi-cell.example:product:cell-p100ah"
LITHIUM = "urn:pact:andes-lithium.example:company:andes-lithium"
STAGES = ("raw_material_acquisition", "main_production", "distribution", "end_of_life")


async def _held(node, product_urn: str, status: str = "Active") -> list[dict]:
    r = await node.api("GET", "/upstream-footprints", params={"limit": 500})
    assert r.status_code == 200, r.text
    return [u for u in r.json()["items"] if u["productId"] == product_urn and u["status"] == status]


async def _request_pack(net: Network) -> dict:
    oem = net[OEM]
    products = (await oem.api("GET", "/products")).json()["items"]
    line = (await oem.api("GET", f"/products/{products[0]['id']}/bom")).json()[0]
    r = await oem.api(
        "POST",
        "/requests",
        json={"bomLineId": line["id"], "message": "Art. 7 declaration", "verifierCertificates": [net.verifier_pem]},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_request_ripples_up_and_the_pack_footprint_arrives_exact(network: Network, chain: dict) -> None:
    req = await _request_pack(network)
    held = await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint at the OEM")
    expected = chain["expected"]["footprints"][PACK]
    assert {s: Decimal(held[0]["stages"][s]) for s in STAGES} == {s: Decimal(expected[s]) for s in STAGES}
    assert Decimal(held[0]["total"]) == Decimal(expected["total"])
    assert held[0]["verified"] is True
    r = await network[OEM].api("GET", f"/requests/{req['id']}")
    assert r.json()["state"] == "fulfilled"
    # what went over PACT states the mass of one piece, from the chain file (the cell's and the pack's were missing,
    # so 0 was sent)
    masses = {p["productId"]: p.get("massPerDeclaredUnit") for c in chain["companies"] for p in c["products"]}
    for buyer, seller, product in ((OEM, PACK_CO, PACK), (PACK_CO, CELL_CO, CELL)):
        [bought] = await _held(network[buyer], product)
        peer = network[buyer].app.state.peer_client
        pf = await peer.get_footprint(f"http://{network[seller].host}", bought["footprintId"])
        assert pf["pcf"]["declaredUnitOfMeasurement"] == "piece"
        assert pf["pcf"]["productMassPerDeclaredUnit"] == masses[product] != "0", product
    [system] = (await network[OEM].api("GET", "/products")).json()["items"]
    assert system["massPerDeclaredUnit"] == masses[PACK]  # the automaker's battery system is one pack
    # every tier answered with a signed footprint and logged it in its audit chain
    for node in network.nodes.values():
        check = (await node.api("GET", "/audit/check")).json()
        assert check["valid"] is True


async def test_a_change_at_the_lithium_refiner_reaches_the_automaker(network: Network, chain: dict) -> None:
    await _request_pack(network)
    first = (await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="first pack footprint"))[0]

    refiner = network[LITHIUM]
    product = (await refiner.api("GET", "/products")).json()["items"][0]
    emissions = (await refiner.api("GET", f"/products/{product['id']}/emissions")).json()
    for e in emissions:
        assert (await refiner.api("DELETE", f"/products/{product['id']}/emissions/{e['id']}")).status_code == 204
    r = await refiner.api(
        "POST", f"/products/{product['id']}/emissions", json={"stage": "raw_material_acquisition", "value": "12.2"}
    )
    assert r.status_code == 201
    r = await refiner.api("POST", f"/products/{product['id']}/footprints")
    assert r.status_code == 201 and r.json()["changed"] is True

    async def new_version() -> list[dict]:
        active = await _held(network[OEM], PACK)
        return [u for u in active if u["footprintId"] != first["footprintId"]]

    second = (await network.wait_for(new_version, timeout=30, what="the new pack version at the OEM"))[0]
    # LiOH -3 kg CO2e/kg x 0.44 kg/kg CAM x 0.481 kg CAM/cell x 204 cells
    delta = Decimal("-3") * Decimal("0.44") * Decimal("0.481") * Decimal("204")
    assert (
        Decimal(second["stages"]["raw_material_acquisition"])
        == Decimal(first["stages"]["raw_material_acquisition"]) + delta
    )
    deprecated = await _held(network[OEM], PACK, status="Deprecated")
    assert [u["footprintId"] for u in deprecated] == [first["footprintId"]]
    # the pack maker's own footprint versions chain to each other
    pack_node = network[PACK_CO]
    pack_product = (await pack_node.api("GET", "/products")).json()["items"][0]
    versions = (await pack_node.api("GET", f"/products/{pack_product['id']}/footprints")).json()
    assert versions[0]["status"] == "Active" and versions[1]["status"] == "Deprecated"
    assert versions[0]["precedingPfIds"][0] == versions[1]["id"]
