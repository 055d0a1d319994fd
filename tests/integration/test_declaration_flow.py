"""From the automaker's request to a verified Art. 7 declaration, with per-tier certification, across nodes."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import pytest
from sqlalchemy import MetaData, select
from sqlmodel import Session
from sqlmodel import select as select_model

from connector.demo.chains import DEFAULT_CHAIN
from connector.protocols.pact import rendering
from connector.protocols.pact.rendering import CfpExtensionData
from connector.storage.tables import UpstreamFootprint

from .network import Network
from .test_supply_chain import OEM, PACK, _held, _request_pack

pytestmark = pytest.mark.asyncio

CELL_CO = "urn:pact:setouchi-cell.example:company:setouchi-cell"
PACK_CO = "urn:pact:kyushu-pack.example:company:kyushu-pack"
VERIFIER = "urn:pact:nb.example:company:notified-body-0042"
STAGES = ("raw_material_acquisition", "main_production", "distribution", "end_of_life")


async def _declare(net: Network, chain: dict) -> dict:
    body = dict(chain["declaration"])
    r = await net[OEM].api("POST", "/declarations", json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def test_declaration_equals_the_fixture_and_the_verifier_finds_it_valid(network: Network, chain: dict) -> None:
    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint")
    declared = await _declare(network, chain)
    doc = declared["document"]
    want = chain["expected"]["declaration"]
    cf = doc["carbonFootprint"]
    assert Decimal(cf["value"]) == Decimal(want["total"])
    by_stage = {s["stage"]: Decimal(s["value"]) for s in doc["stages"]}
    assert by_stage == {s: Decimal(want[s]) for s in STAGES}
    assert Decimal(doc["absoluteCarbonFootprint"]["value"]) == Decimal(want["absoluteKgCo2e"])
    assert Decimal(doc["functionalUnit"]["totalEnergyKwh"]) == Decimal(want["totalEnergyKwh"])

    bundle = (await network[OEM].api("GET", f"/declarations/{declared['id']}/bundle")).json()
    report = (await network[VERIFIER].api("POST", "/verify", json=bundle)).json()
    assert report["valid"] is True, report["failures"]
    assert report["evidenceOpened"] is True and report["complete"] is True

    # the automaker checks what it can, and cannot open anything
    own = (await network[OEM].api("GET", f"/declarations/{declared['id']}/check")).json()
    assert own["valid"] is True and own["evidenceOpened"] is False
    html = (await network[OEM].api("GET", f"/declarations/{declared['id']}/html")).text
    assert "0.164679" in html
    for export in ("battery-pass", "catenax"):
        assert (await network[OEM].api("GET", f"/declarations/{declared['id']}/{export}")).status_code == 200
    # the Catena-X passport: the declaration's part (GET, naming what is left) or the whole aspect (POST the rest)
    path = f"/declarations/{declared['id']}/catenax"
    fragment = await network[OEM].api("GET", path)
    assert fragment.headers["catena-x-left-to-merge"].startswith("/identification, /operation")
    passport = json.loads(DEFAULT_CHAIN.with_name("nmc811-catenax-passport.json").read_text())
    whole = (await network[OEM].api("POST", path, json=passport)).json()
    assert set(whole) == {"specVersion", *passport}
    assert whole["sustainability"]["carbonFootprint"] == fragment.json()["sustainability"]["carbonFootprint"]
    r = await network[OEM].api("POST", path, json={k: v for k, v in passport.items() if k != "metadata"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"] == [{"field": "/metadata", "message": "required member missing"}]


async def test_the_automaker_holds_no_hidden_value(network: Network, chain: dict) -> None:
    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint")
    await _declare(network, chain)

    def dump_all() -> str:
        engine = network[OEM].engine
        meta = MetaData()
        meta.reflect(engine)
        rows = []
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                rows.extend(str(row) for row in conn.execute(select(table)))
        return "\n".join(rows)

    text = await asyncio.to_thread(dump_all)
    # the cell maker's own emission, the cathode quantity per cell, the LiOH refiner's value: all hidden upstream
    for secret in ("3.44", "0.481", "15.2", "kansai-precursor", "andes-lithium"):
        assert secret not in text, secret


async def test_a_certified_tier_shows_in_the_declaration(network: Network, chain: dict) -> None:
    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint")
    cell = network[CELL_CO]
    attestations = (await cell.api("GET", "/attestations")).json()["items"]
    to_pack = next(a for a in attestations if a["audience"] == PACK_CO and a["verifierCount"])
    r = await cell.api(
        "POST",
        f"/attestations/{to_pack['id']}/certify",
        json={"verifierUrl": f"http://{network[VERIFIER].host}", "scope": "CFP per EU 2023/1542"},
    )
    assert r.status_code == 200, r.text

    async def certified_at_oem() -> bool:
        held = await _held(network[OEM], PACK)
        return bool(held and held[0]["certifications"])

    await network.wait_for(certified_at_oem, timeout=30, what="the certification at the automaker")

    def cell_at_pack_now() -> UpstreamFootprint:
        with Session(network[PACK_CO].engine, expire_on_commit=False) as session:
            return session.exec(
                select_model(UpstreamFootprint).where(UpstreamFootprint.supplier_company_id == CELL_CO)
            ).one()

    cell_at_pack = await asyncio.to_thread(cell_at_pack_now)
    verification = cell_at_pack.pact["pcf"]["verification"]
    assert verification["coverage"] == "product level" and verification["providerName"]
    ext = CfpExtensionData.model_validate(rendering.find_extension(cell_at_pack.pact))
    assert [c.depth for c in ext.certifications] == [0]
    declared = await _declare(network, chain)
    certs = declared["document"]["certifications"]
    assert [(c["tier"], c["companyId"], c["status"]) for c in certs] == [(2, CELL_CO, "valid")]
    bundle = (await network[OEM].api("GET", f"/declarations/{declared['id']}/bundle")).json()
    report = (await network[VERIFIER].api("POST", "/verify", json=bundle)).json()
    assert report["valid"] is True, report["failures"]
    assert [c["status"] for c in report["certifications"]] == ["valid"]


async def test_a_bundle_stored_with_null_jwe_members_is_served_without_them(network: Network, chain: dict) -> None:
    """Bundles stored before the JWE fix carry ``"unprotected": null`` and ``"aad": null`` (RFC 7516 says omit them;
    jwcrypto refuses such packages): the automaker serves them written again, and they still verify."""
    from connector.storage.tables import DeclarationRecord as DeclarationRow

    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint")
    declared = await _declare(network, chain)
    with Session(network[OEM].engine) as session:
        row = session.get(DeclarationRow, declared["id"])
        assert row is not None and row.bundle["packages"]
        old = dict(row.bundle)
        old["packages"] = {pid: {**p, "unprotected": None, "aad": None} for pid, p in old["packages"].items()}
        row.bundle = old
        session.add(row)
        session.commit()
    bundle = (await network[OEM].api("GET", f"/declarations/{declared['id']}/bundle")).json()
    assert bundle["packages"] and all("unprotected" not in p and "aad" not in p for p in bundle["packages"].values())
    report = (await network[VERIFIER].api("POST", "/verify", json=bundle)).json()
    assert report["valid"] is True, report["failures"]
