"""Crash recovery and the outbox's end states: a restarted worker takes back its own leases at once; a request
that could not be delivered is closed as failed and can be asked again; a repeated or late answer never undoes a
fulfilled request."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlmodel import Session

from connector.config import Settings
from connector.exchange import outbox
from connector.exchange.worker import OutboxWorker
from connector.protocols.pact import events, inbound
from connector.storage.tables import utcnow

from .network import Network
from .test_exchange_rules import CATHODE, LITHIUM, _genuine_lioh_held, manual_net  # noqa: F401 - a fixture
from .test_operations import _FakePeer, _until

pytestmark = pytest.mark.asyncio


def _leased_to(engine, holder: str) -> str:
    """A message claimed by ``holder``, then never delivered: the worker was killed."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        message_id = outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, {"n": 1}, now)
        session.commit()
        taken, _ = outbox.claim(session, now, holder=holder)
    assert [m.id for m in taken] == [message_id] and taken[0].holder == holder
    return message_id


async def _worker_sends(engine, holder: str) -> list[dict]:
    peer = _FakePeer()
    worker = OutboxWorker(engine, Settings(), None, peer, poll_interval=30.0, holder=holder)  # type: ignore[arg-type]
    worker.start()
    try:
        await _until(lambda: peer.sent, timeout=3.0)
    finally:
        await worker.stop()
    return peer.sent


async def test_a_restarted_worker_sends_its_own_leased_messages_at_once(engine) -> None:
    _leased_to(engine, "node-a/0")
    # another process's worker leaves the lease alone (its holder may be alive and sending it)
    assert await _worker_sends(engine, "node-a/1") == []
    # the same holder after the "crash": at once, not when the 60 s lease runs out
    assert await _worker_sends(engine, "node-a/0") == [{"n": 1}]


async def test_a_repeated_or_late_answer_never_undoes_a_fulfilled_request(manual_net: Network) -> None:  # noqa: F811
    net = manual_net
    held = await _genuine_lioh_held(net)
    node = net[CATHODE]
    mine = (await node.api("GET", "/requests", params={"direction": "outgoing"})).json()["items"][0]
    await net.wait_for(lambda: _state(node, mine["id"]), what="the request fulfilled")
    assert (await node.api("GET", f"/requests/{mine['id']}")).json()["footprintIds"] == [held.footprint_id]

    def answer(pfs: list[dict]) -> None:
        event = events.cloud_event(
            events.REQUEST_FULFILLED, f"http://{net[LITHIUM].host}", {"requestEventId": mine["eventId"], "pfs": pfs}
        )
        with Session(node.engine, expire_on_commit=False) as session:
            inbound.handle_event(node.ctx(session), LITHIUM, event)
            session.commit()

    await asyncio.to_thread(answer, [held.pact])  # the same answer again (a new event id)
    unsigned = {"id": str(uuid.uuid4()), "productIds": [held.product_id], "companyIds": [LITHIUM]}
    await asyncio.to_thread(answer, [unsigned])  # a late answer that fails verification
    await asyncio.to_thread(answer, [])  # an empty one
    got = (await node.api("GET", f"/requests/{mine['id']}")).json()
    assert got["state"] == "fulfilled" and got["footprintIds"] == [held.footprint_id], got


async def _state(node, request_id: str) -> bool:
    return (await node.api("GET", f"/requests/{request_id}")).json()["state"] == "fulfilled"
