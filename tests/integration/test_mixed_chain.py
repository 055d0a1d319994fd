"""The whole 8-company chain with one tier pair over Ouranos: the pack maker reaches the cell maker through an Ouranos
platform (a node of ours hosting the pack maker's tenant), every other pair over PACT. The cell maker links its part
to the trade; the pack maker reads the cell's CFP with its certification file, so the attested, exact values and
the sealed evidence come through, and the automaker's declaration is the fixture's, valid at the notified body."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from connector.exchange import requests
from connector.services import catalog
from connector.services import models as m
from connector.storage import repositories as repo
from connector.storage.ouranos_links import OuranosLink
from connector.storage.tables import CfpRequest, Partner, UpstreamFootprint

from .network import Network
from .ouranos_nodes import login_for, start_node
from .test_declaration_flow import CELL_CO, PACK_CO, STAGES, VERIFIER, _declare
from .test_supply_chain import OEM, PACK, _held, _request_pack

pytestmark = pytest.mark.asyncio

CELL = "urn:pact:setouchi-cell.example:product:cell-p100ah"
CORPORATE = {PACK_CO: "1111111111111", CELL_CO: "2222222222222"}


async def connect_over_ouranos(net: Network, make_db) -> None:  # type: ignore[no-untyped-def]
    """The pack maker's supplier, the cell maker, moves to an Ouranos platform: the pack maker holds a login there,
    the platform reaches the cell maker (over PACT), and the cell maker answers the platform."""
    platform = await start_node(
        net.stack,
        net.router,
        net.pki,
        make_db,
        PACK_CO,
        "platform.test",
        corporate_number=CORPORATE[PACK_CO],
        partner_corporate_numbers={CELL_CO: CORPORATE[CELL_CO]},
    )
    with Session(platform.engine) as session:
        ctx = platform.ctx(session)
        catalog.create_partner(
            ctx,
            m.PartnerCreate.model_validate(
                {
                    "companyId": CELL_CO,
                    "name": "Setouchi Cell",
                    "nodeUrl": f"http://{net[CELL_CO].host}",
                    "isSupplier": True,
                }
            ),
        )
        session.commit()
    pack = net[PACK_CO]
    pack.settings.ouranos_platforms = login_for(platform)
    pack.settings.partner_corporate_numbers = {CELL_CO: CORPORATE[CELL_CO]}
    with Session(pack.engine) as session:
        row = repo.partner_row(session, CELL_CO)
        assert row is not None
        partner = session.get(Partner, row.id)
        assert partner is not None
        partner.protocol, partner.node_url = "ouranos", platform.url
        session.add(partner)
        session.commit()
    cell = net[CELL_CO]
    cell.settings.hold_unmatched_requests = True  # the trade names the pack maker's part: the cell maker links its own
    with Session(cell.engine) as session:
        row = repo.partner_row(session, PACK_CO)
        assert row is not None
        partner = session.get(Partner, row.id)
        assert partner is not None
        partner.node_url = platform.url
        session.add(partner)
        session.commit()


def link_cell(net: Network) -> bool:
    """The cell maker's operator links its cell to the trade waiting for it (PUT tradeResponse on its side) and
    accepts it."""
    cell = net[CELL_CO]
    with Session(cell.engine, expire_on_commit=False) as session:
        held = session.exec(
            select(CfpRequest).where(
                CfpRequest.direction == "incoming", CfpRequest.state == "pending", CfpRequest.company_id == PACK_CO
            )
        ).first()
        if held is None or held.product_id is not None:
            return False
        product = repo.product_by_urn(session, CELL)
        assert product is not None
        requests.link_product(cell.ctx(session), held.id, product.id)
        # DTS carries no verifier certificates: the cell maker seals its evidence to the notified body it knows
        held.verifier_certs = [net.verifier_pem]
        session.add(held)
        requests.accept_request(cell.ctx(session), held.id)  # and answers it: its own suppliers are asked first
        session.commit()
        return True


async def test_one_pair_over_ouranos_ends_in_the_exact_valid_declaration(
    network: Network, chain: dict, make_db
) -> None:  # type: ignore[no-untyped-def]
    await connect_over_ouranos(network, make_db)
    await _request_pack(network)
    await network.wait_for(
        lambda: asyncio.to_thread(link_cell, network), timeout=30, what="the trade at the cell maker"
    )
    held = await network.wait_for(lambda: _held(network[OEM], PACK), timeout=60, what="the pack footprint")
    expected = chain["expected"]["footprints"][PACK]
    assert {s: Decimal(held[0]["stages"][s]) for s in STAGES} == {s: Decimal(expected[s]) for s in STAGES}
    # the hop was Ouranos: a trade on the platform, and the cell's attested footprint at the pack maker
    with Session(network[PACK_CO].engine) as session:
        assert session.exec(select(OuranosLink).where(OuranosLink.kind == "trade")).first() is not None
        cell_fp = session.exec(select(UpstreamFootprint).where(UpstreamFootprint.product_id == CELL)).one()
        assert cell_fp.basis == "attested"
    want = chain["expected"]["declaration"]
    declared = await _declare(network, chain)
    doc = declared["document"]
    assert Decimal(doc["carbonFootprint"]["value"]) == Decimal(want["total"])
    assert {s["stage"]: Decimal(s["value"]) for s in doc["stages"]} == {s: Decimal(want[s]) for s in STAGES}
    bundle = (await network[OEM].api("GET", f"/declarations/{declared['id']}/bundle")).json()
    report = (await network[VERIFIER].api("POST", "/verify", json=bundle)).json()
    assert report["valid"] is True, report["failures"]
    assert report["evidenceOpened"] is True and report["complete"] is True
