"""Partners that answer without our attestation, and refusals the supplier learns of (issue 17), across two real
in-process nodes: an unsigned footprint is held as an entered value; a bad attestation is still refused, and the
supplier's request shows the refusal with the customer's reason."""

from __future__ import annotations

import asyncio
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
from .test_exchange_rules import CATHODE, LIOH, LITHIUM, _ask_for_lioh, _incoming_in

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
