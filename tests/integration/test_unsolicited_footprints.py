"""A footprint nobody asked for is taken only for a part we buy from its sender (decision 0019), checked in the
exchange core for every protocol: here PACT's PublishedEvent, across two real in-process nodes. A new version of a
part one of our BOM lines buys from the supplier is fetched and stored; one of a part none buys is fetched and
refused (nothing stored, our audit log and the supplier's request say why); from a supplier we buy nothing from it is
not even fetched."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.exchange import bought, outbox
from connector.storage.tables import OutboxMessage, UpstreamFootprint

from .network import Network, build_network
from .test_exchange_rules import CATHODE, LIOH, LITHIUM, _genuine_lioh_held

pytestmark = pytest.mark.asyncio

LI2CO3 = "urn:pact:andes-lithium.example:product:li2co3-bg"


@pytest_asyncio.fixture
async def manual_net(chain: dict, make_db: Callable[[], Engine]) -> AsyncIterator[Network]:
    """The chain with the lithium refiner answering only what its operator accepts."""
    net = await build_network(chain, make_db, manual=frozenset({LITHIUM}))
    async with net.stack:
        yield net


async def _new_lioh_version(net: Network) -> str:
    """The refiner's LiOH changes: a new version, announced to the cathode maker (a PublishedEvent); its id."""
    refiner = net[LITHIUM]
    product = (await refiner.api("GET", "/products")).json()["items"][0]
    more = {"stage": "raw_material_acquisition", "value": "1.5"}
    assert (await refiner.api("POST", f"/products/{product['id']}/emissions", json=more)).status_code == 201
    r = await refiner.api("POST", f"/products/{product['id']}/footprints")
    assert r.status_code == 201 and r.json()["changed"] is True, r.text
    return str(r.json()["footprint"]["id"])


async def _drop_the_lioh_line(net: Network, *, buy_instead: str | None = None) -> None:
    """The cathode maker stops buying LiOH from the refiner (and buys ``buy_instead`` from it, when given)."""
    cathode = net[CATHODE]
    product = (await cathode.api("GET", "/products")).json()["items"][0]
    lines = (await cathode.api("GET", f"/products/{product['id']}/bom")).json()
    (lioh,) = [x for x in lines if x.get("supplierProductId") == LIOH]
    if buy_instead is not None:
        line = {"kind": "supplier", "supplierCompanyId": LITHIUM, "supplierProductId": buy_instead, "quantity": "1",
                "unit": "kilogram"}  # fmt: skip
        assert (await cathode.api("POST", f"/products/{product['id']}/bom", json=line)).status_code == 201
    assert (await cathode.api("DELETE", f"/products/{product['id']}/bom/{lioh['id']}")).status_code == 204


def _held_now(node) -> list[UpstreamFootprint]:
    with Session(node.engine, expire_on_commit=False) as session:
        return list(session.exec(select(UpstreamFootprint)))


def _fetches(node) -> list[OutboxMessage]:
    with Session(node.engine, expire_on_commit=False) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == outbox.FETCH)))


async def _refused_at_cathode(net: Network) -> list[tuple[str, str]]:
    audit = (await net[CATHODE].api("GET", "/audit", params={"limit": 500})).json()["items"]
    return [(a["subject"], a["details"].get("reason")) for a in audit if a["action"] == "footprint.refused"]


async def _told_at_refiner(net: Network, why: str) -> list[dict]:
    """The refiner's requests from the cathode maker whose reason carries the cathode maker's refusal."""
    items = (await net[LITHIUM].api("GET", "/requests", params={"direction": "incoming"})).json()["items"]
    return [r for r in items if why in (r["reason"] or "")]


async def test_a_new_version_of_a_part_we_buy_is_fetched_and_stored(manual_net: Network) -> None:
    net = manual_net
    held = await _genuine_lioh_held(net)
    await _new_lioh_version(net)

    async def two() -> list[UpstreamFootprint]:
        got = await asyncio.to_thread(_held_now, net[CATHODE])
        return got if len(got) == 2 else []

    both = await net.wait_for(two, what="the new LiOH version at the cathode maker")
    assert {u.product_id for u in both} == {LIOH} and held.footprint_id in {u.footprint_id for u in both}
    assert await _refused_at_cathode(net) == []


async def test_a_new_version_of_a_part_we_do_not_buy_is_fetched_and_refused(manual_net: Network) -> None:
    """The gap: a PACT supplier could announce any footprint of its own, and we fetched it and stored it as an
    upstream value though no BOM line of ours buys that product from it (Catena-X's router alone checked)."""
    net = manual_net
    held = await _genuine_lioh_held(net)
    await _drop_the_lioh_line(net, buy_instead=LI2CO3)  # still a customer of the refiner, not of its LiOH
    newer = await _new_lioh_version(net)

    told = await net.wait_for(lambda: _told_at_refiner(net, bought.NOT_BOUGHT), what="the refusal at the refiner")
    assert told[0]["reason"].startswith(f"the customer refused footprint {newer} (version 2 of "), told
    assert [f.body["footprintId"] for f in await asyncio.to_thread(_fetches, net[CATHODE])] == [newer]  # fetched
    assert [u.footprint_id for u in await asyncio.to_thread(_held_now, net[CATHODE])] == [held.footprint_id]
    assert await _refused_at_cathode(net) == [(newer, bought.NOT_BOUGHT)]


async def test_an_announcement_from_a_supplier_we_buy_nothing_from_is_not_fetched(manual_net: Network) -> None:
    net = manual_net
    held = await _genuine_lioh_held(net)
    await _drop_the_lioh_line(net)
    newer = await _new_lioh_version(net)

    told = await net.wait_for(lambda: _told_at_refiner(net, bought.BUYS_NOTHING), what="the refusal at the refiner")
    assert told[0]["reason"].startswith(f"the customer refused footprint {newer} (version 2 of "), told
    assert await asyncio.to_thread(_fetches, net[CATHODE]) == []  # not even fetched
    assert [u.footprint_id for u in await asyncio.to_thread(_held_now, net[CATHODE])] == [held.footprint_id]
    assert await _refused_at_cathode(net) == [(newer, bought.BUYS_NOTHING)]
