"""Partners that answer without our attestation, and refusals the supplier learns of (issue 17), across two real
in-process nodes: an unsigned footprint is held as an entered value; a bad attestation is still refused, and the
supplier's request shows the refusal with the customer's reason."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.exchange import outbox
from connector.protocols import PeerError
from connector.protocols.pact import events, inbound, rendering
from connector.protocols.pact.adapter import ADAPTER
from connector.storage.tables import OutboxMessage, UpstreamFootprint
from connector.strict_json import canonical_json

from .network import Network, build_network
from .test_exchange_rules import CATHODE, LIOH, LITHIUM, _ask_for_lioh, _genuine_lioh_held, _incoming_in

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def manual_net(chain: dict, make_db: Callable[[], Engine]) -> AsyncIterator[Network]:
    """The chain with the lithium refiner answering only what its operator accepts."""
    net = await build_network(chain, make_db, manual=frozenset({LITHIUM}))
    async with net.stack:
        yield net


def _unsigned(total: str = "9.5", **extra: Any) -> dict[str, Any]:
    """A PACT v3 footprint as a PACT partner without our software sends it: no attestation, no stage extension."""
    return {
        "id": str(uuid.uuid4()),
        "specVersion": "3.0.0",
        "created": "2026-01-01T00:00:00Z",
        "status": "Active",
        "companyName": "Andes",
        "companyIds": [LITHIUM],
        "productDescription": "LiOH",
        "productIds": [LIOH],
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "2",
            "pcfExcludingBiogenicUptake": total,
        },
        **extra,
    }


def _answer(net: Network, request_event_id: str, pf: dict[str, Any]) -> None:
    node = net[CATHODE]
    with Session(node.engine, expire_on_commit=False) as session:
        event = events.cloud_event(
            events.REQUEST_FULFILLED,
            f"http://{net[LITHIUM].host}",
            {"requestEventId": request_event_id, "pfs": [pf]},
        )
        inbound.handle_event(node.ctx(session), LITHIUM, event)
        session.commit()


def _held(node) -> list[UpstreamFootprint]:
    with Session(node.engine, expire_on_commit=False) as session:
        return list(session.exec(select(UpstreamFootprint)))


async def test_an_unsigned_answer_is_held_as_an_entered_value_and_flows_on(manual_net: Network) -> None:
    net = manual_net
    asked = await _ask_for_lioh(net)
    pf = _unsigned()
    await asyncio.to_thread(_answer, net, asked["eventId"], pf)
    node = net[CATHODE]
    got = (await node.api("GET", f"/requests/{asked['id']}")).json()
    assert got["state"] == "fulfilled", got
    (held,) = await asyncio.to_thread(_held, node)
    assert (held.basis, held.source_kind, held.entered_by) == ("entered", "pact-partner", f"partner:{LITHIUM}")
    assert held.attestation is None and held.document == canonical_json(pf)
    assert held.stages["raw_material_acquisition"] == "4.75"  # 9.5 per 2 kg, booked as decision 0019 says
    product = (await node.api("GET", "/products")).json()["items"][0]
    view = (await node.api("GET", f"/products/{product['id']}/supplier-data")).json()
    lioh = next(v for v in view if v["supplierProductId"] == LIOH)
    assert (lioh["state"], lioh["sourceKind"], lioh["enteredBy"]) == ("entered", "pact-partner", f"partner:{LITHIUM}")
    assert lioh["request"]["state"] == "fulfilled"
    # it flows on: the product no longer misses it
    r = await node.api("POST", f"/products/{product['id']}/footprints")
    assert LIOH not in r.text, r.text


async def test_an_unsigned_footprint_naming_another_company_is_refused(manual_net: Network) -> None:
    net = manual_net
    asked = await _ask_for_lioh(net)
    await asyncio.to_thread(_answer, net, asked["eventId"], _unsigned(companyIds=["urn:pact:x.example:company:x"]))
    got = (await net[CATHODE].api("GET", f"/requests/{asked['id']}")).json()
    assert got["state"] == "refused" and "not the sender" in got["reason"]
    assert await asyncio.to_thread(_held, net[CATHODE]) == []


async def test_a_bad_attestation_is_still_refused_and_the_supplier_sees_why(manual_net: Network) -> None:
    net = manual_net
    asked = await _ask_for_lioh(net)
    pf = _unsigned(total="9.5")
    pf["pcf"]["declaredUnitAmount"] = "1"
    pf["extensions"] = [
        {
            "specVersion": "2.0.0",
            "dataSchema": rendering.EXTENSION_SCHEMA,
            "data": {
                "stages": {"raw_material_acquisition": "9.5"},
                "rounding": "half-up",
                "attestation": "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ.c2lnbmF0dXJl~",
            },
        }
    ]
    await asyncio.to_thread(_answer, net, asked["eventId"], pf)
    got = (await net[CATHODE].api("GET", f"/requests/{asked['id']}")).json()
    assert got["state"] == "refused" and got["reason"].startswith("answer refused: "), got
    assert await asyncio.to_thread(_held, net[CATHODE]) == []  # a bad signature is not "unsigned"
    seen = await net.wait_for(lambda: _incoming_in(net[LITHIUM], "refused"), what="the refusal at the refiner")
    assert [(r["eventId"], r["reason"]) for r in seen] == [(asked["eventId"], got["reason"])]


class _Client:
    def __init__(self, error: PeerError | None) -> None:
        self.error, self.sent = error, []

    async def send_event(self, url: str, event: dict[str, Any]) -> None:
        self.sent.append(event)
        if self.error is not None:
            raise self.error


def _message(kind: str, body: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(
        id="m", target_url="https://partner.test", company_id=LITHIUM, kind=kind, body=body, protocol="pact"
    )


async def test_a_pact_partner_refusing_our_event_type_ends_the_message() -> None:
    refused = {"id": str(uuid.uuid4()), "at": "2026-01-01T00:00:00Z", "requestId": "r-1", "reason": "bad unit"}
    message = _message(outbox.REFUSED, refused)
    event = ADAPTER.wire_message(message, "https://us.test")
    assert event is not None and event["type"] == events.ANSWER_REFUSED
    assert event["data"] == {"requestEventId": "r-1", "error": {"code": "AnswerRefused", "message": "bad unit"}}
    assert events.parse_event(event) == event  # our own nodes accept it

    foreign = _Client(PeerError("event answered 400: unknown type", permanent=True))
    assert await ADAPTER.deliver(foreign, message, source="https://us.test") is None  # let be, not failed
    assert len(foreign.sent) == 1
    with pytest.raises(PeerError):  # a partner down is retried as any message
        await ADAPTER.deliver(_Client(PeerError("timeout")), message, source="https://us.test")
    ask = {"id": "a", "at": "2026-01-01T00:00:00Z", "productIds": [LIOH], "companyIds": [LITHIUM]}
    with pytest.raises(PeerError):  # other intents refused by the partner still fail
        await ADAPTER.deliver(_Client(PeerError("400", permanent=True)), _message(outbox.ASK, ask), source="x")


async def test_a_refusal_naming_no_request_of_the_sender_is_refused(manual_net: Network) -> None:
    net = manual_net
    peer = net[CATHODE].app.state.peer_client
    data = {"requestEventId": str(uuid.uuid4()), "error": {"code": "AnswerRefused", "message": "x"}}
    event = events.cloud_event(events.ANSWER_REFUSED, f"http://{net[CATHODE].host}", data)
    with pytest.raises(PeerError, match="answered 422"):  # as an answer naming no request: PACT's BadRequest body
        await peer.send_event(f"http://{net[LITHIUM].host}", event)


def _answer_all(net: Network, request_event_id: str, pfs: list[dict[str, Any]]) -> None:
    node = net[CATHODE]
    with Session(node.engine, expire_on_commit=False) as session:
        event = events.cloud_event(
            events.REQUEST_FULFILLED,
            f"http://{net[LITHIUM].host}",
            {"requestEventId": request_event_id, "pfs": pfs},
        )
        inbound.handle_event(node.ctx(session), LITHIUM, event)
        session.commit()


async def _incoming_with_reason(node, text: str) -> list[dict]:
    return [
        r
        for r in (await node.api("GET", "/requests", params={"direction": "incoming"})).json()["items"]
        if text in (r["reason"] or "")
    ]


async def test_a_footprint_refused_in_an_answer_otherwise_accepted_is_told_to_the_supplier(manual_net: Network) -> None:
    """Gap (a) of decision 0019: one footprint of two refused used to leave the request ``fulfilled`` with no word of
    it at either end. Now the request is fulfilled by the accepted one, its reason names the refused one and why, and
    the supplier's request says the same (our FootprintRefusedEvent)."""
    net = manual_net
    asked = await _ask_for_lioh(net)
    good, bad = _unsigned(), _unsigned(companyIds=["urn:pact:x.example:company:x"])
    await asyncio.to_thread(_answer_all, net, asked["eventId"], [good, bad])
    got = (await net[CATHODE].api("GET", f"/requests/{asked['id']}")).json()
    assert got["state"] == "fulfilled" and got["footprintIds"] == [good["id"]], got
    assert got["reason"].startswith(f"refused 1 of 2 footprints: footprint {bad['id']}: "), got
    assert "not the sender" in got["reason"] and good["id"] not in got["reason"]
    seen = await net.wait_for(lambda: _incoming_with_reason(net[LITHIUM], bad["id"]), what="the refusal at the refiner")
    assert seen[0]["eventId"] == asked["eventId"] and seen[0]["state"] == "pending"  # its state is its own
    assert (
        seen[0]["reason"].startswith(f"the customer refused footprint {bad['id']}: ")
        and "not the sender" in seen[0]["reason"]
    )


async def test_a_new_version_refused_once_fetched_is_told_to_the_supplier(manual_net: Network) -> None:
    """Gap (b) of decision 0019: a version fetched after a PublishedEvent and refused was only a log line. Now the
    customer's answered request for the line names it (the supplier-data view shows it) and the supplier's request
    for that product names the version and why."""
    from connector.exchange import receipt

    net = manual_net
    held = await _genuine_lioh_held(net)
    tampered = json.loads(json.dumps(held.pact))
    tampered["pcf"]["pcfExcludingBiogenicUptake"] = "0.001"  # the attestation signs another total
    node = net[CATHODE]

    def fetched() -> None:
        with Session(node.engine, expire_on_commit=False) as session:
            assert receipt.receive_fetched(node.ctx(session), LITHIUM, tampered).row is None
            session.commit()

    await asyncio.to_thread(fetched)
    asked = (await node.api("GET", "/requests", params={"direction": "outgoing"})).json()["items"]
    (outgoing,) = [r for r in asked if r["companyId"] == LITHIUM]
    assert outgoing["state"] == "fulfilled", outgoing
    why = "footprint total differs from the attested total"
    assert outgoing["reason"] == f"a new version was refused: footprint {held.footprint_id}: {why}"
    product = (await node.api("GET", "/products")).json()["items"][0]
    view = (await node.api("GET", f"/products/{product['id']}/supplier-data")).json()
    assert next(v for v in view if v["supplierProductId"] == LIOH)["request"]["reason"] == outgoing["reason"]

    seen = await net.wait_for(
        lambda: _incoming_with_reason(net[LITHIUM], held.footprint_id), what="the refusal at the refiner"
    )
    assert seen[0]["state"] == "fulfilled"
    assert seen[0]["reason"].startswith(f"the customer refused footprint {held.footprint_id} (version 1 of ")
    assert seen[0]["reason"].endswith(f": {why}")
    audit = (await net[LITHIUM].api("GET", "/audit", params={"limit": 500})).json()["items"]
    assert [(a["actor"], a["subject"]) for a in audit if a["action"] == "footprint.refused-by-customer"] == [
        (CATHODE, held.footprint_id)
    ]


async def test_each_refusal_has_its_event_and_our_nodes_accept_them() -> None:
    """The ``refused`` intent as PACT events: the whole answer stays an AnswerRefusedEvent (``refusals`` added, which a
    node of ours that predates them ignores); part of an answer, or a fetched version, is a FootprintRefusedEvent,
    with ``requestEventId`` only when a request was answered."""
    one = [{"footprintId": "0d6d4b7c-2a6f-4c4e-9a40-8d1e7f0a1b2c", "reason": "bad unit"}]
    pf = {"pfId": one[0]["footprintId"], "error": {"code": "FootprintRefused", "message": "bad unit"}}
    at = "2026-01-01T00:00:00Z"
    cases = [
        (
            {"requestId": "r-1", "reason": "answer refused: x", "whole": True, "footprints": one},
            events.ANSWER_REFUSED,
            {
                "requestEventId": "r-1",
                "error": {"code": "AnswerRefused", "message": "answer refused: x"},
                "refusals": [pf],
            },
        ),
        (
            {"requestId": "r-1", "reason": "refused 1 of 2", "whole": False, "footprints": one},
            events.FOOTPRINT_REFUSED,
            {"requestEventId": "r-1", "refusals": [pf]},
        ),
        (
            {"requestId": None, "reason": "a new version", "whole": False, "footprints": one},
            events.FOOTPRINT_REFUSED,
            {"refusals": [pf]},
        ),
    ]
    for body, kind, data in cases:
        event = ADAPTER.wire_message(_message(outbox.REFUSED, {"id": str(uuid.uuid4()), "at": at, **body}), "https://x")
        assert event is not None and (event["type"], event["data"]) == (kind, data)
        assert events.parse_event(event) == event
    versioned = [{"footprintId": "cx-pcf-1", "version": "2", "reason": "unit"}]  # a PACT v2 footprint states one
    body = {
        "id": str(uuid.uuid4()),
        "at": at,
        "requestId": None,
        "reason": "r",
        "whole": False,
        "footprints": versioned,
    }
    event = ADAPTER.wire_message(_message(outbox.REFUSED, body), "https://x")
    assert event is not None and event["data"]["refusals"] == [
        {"pfId": "cx-pcf-1", "version": "2", "error": {"code": "FootprintRefused", "message": "unit"}}
    ]
    assert events.parse_event(event) == event
    with pytest.raises(events.InvalidEvent):  # a FootprintRefusedEvent names at least one footprint
        events.parse_event(events.cloud_event(events.FOOTPRINT_REFUSED, "https://x", {"refusals": []}))


async def test_a_footprint_refusal_naming_nothing_of_ours_is_refused(manual_net: Network) -> None:
    net = manual_net
    peer = net[CATHODE].app.state.peer_client
    data = {"refusals": [{"pfId": str(uuid.uuid4()), "error": {"code": "FootprintRefused", "message": "x"}}]}
    event = events.cloud_event(events.FOOTPRINT_REFUSED, f"http://{net[CATHODE].host}", data)
    with pytest.raises(PeerError, match="answered 422"):
        await peer.send_event(f"http://{net[LITHIUM].host}", event)
    data["requestEventId"] = str(uuid.uuid4())
    event = events.cloud_event(events.FOOTPRINT_REFUSED, f"http://{net[CATHODE].host}", data)
    with pytest.raises(PeerError, match="answered 422"):
        await peer.send_event(f"http://{net[LITHIUM].host}", event)


async def test_a_later_answer_refused_keeps_the_request_fulfilled_and_says_so(manual_net: Network) -> None:
    net = manual_net
    asked = await _ask_for_lioh(net)
    good, bad = _unsigned(), _unsigned(companyIds=["urn:pact:x.example:company:x"])
    await asyncio.to_thread(_answer_all, net, asked["eventId"], [good])
    await asyncio.to_thread(_answer_all, net, asked["eventId"], [bad])
    got = (await net[CATHODE].api("GET", f"/requests/{asked['id']}")).json()
    assert (got["state"], got["footprintIds"]) == ("fulfilled", [good["id"]]), got
    assert got["reason"].startswith(f"refused 1 of 1 footprints of a later answer: footprint {bad['id']}: "), got
    seen = await net.wait_for(lambda: _incoming_with_reason(net[LITHIUM], bad["id"]), what="the refusal at the refiner")
    assert seen[0]["eventId"] == asked["eventId"]


async def test_a_refusal_names_the_footprint_and_the_version_its_document_states() -> None:
    from connector.exchange.receipt import Refusal, _named

    assert Refusal(*_named({"id": "pcf-1", "version": 2}), "unit").line() == "footprint pcf-1 version 2: unit"
    assert Refusal(*_named({"id": "pf-1", "specVersion": "3.0.0"}), "x").line() == "footprint pf-1: x"  # PACT v3
    assert _named({"version": True}) == ("(no id)", None) and _named([1]) == ("(not a JSON object)", None)
