"""Grants, refusal of bad footprints, outbox retry and idempotent events, across real in-process nodes."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.exchange import receipt
from connector.protocols.pact import events, inbound, rendering
from connector.protocols.pact.client import PeerError
from connector.storage.tables import AuditEntry, UpstreamFootprint

from .network import Network, build_network

pytestmark = pytest.mark.asyncio

LITHIUM = "urn:pact:andes-lithium.example:company:andes-lithium"
LIOH = "urn:pact:andes-lithium.example:product:lioh-h2o-bg"
CATHODE = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"


@pytest_asyncio.fixture
async def manual_net(chain: dict, make_db: Callable[[], Engine]) -> AsyncIterator[Network]:
    """The chain with the lithium refiner answering only what its operator accepts."""
    net = await build_network(chain, make_db, manual=frozenset({LITHIUM}))
    async with net.stack:
        yield net


async def _lioh_footprint(net: Network) -> str:
    refiner = net[LITHIUM]
    product = (await refiner.api("GET", "/products")).json()["items"][0]
    r = await refiner.api("POST", f"/products/{product['id']}/footprints")
    assert r.status_code == 201
    return r.json()["footprint"]["id"]


async def _ask_for_lioh(net: Network) -> dict:
    cathode = net[CATHODE]
    product = (await cathode.api("GET", "/products")).json()["items"][0]
    line = next(
        x
        for x in (await cathode.api("GET", f"/products/{product['id']}/bom")).json()
        if x.get("supplierProductId") == LIOH
    )
    r = await cathode.api(
        "POST", "/requests", json={"bomLineId": line["id"], "verifierCertificates": [net.verifier_pem]}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def _incoming_in(node, state: str) -> list[dict]:
    return [r for r in await _incoming(node) if r["state"] == state]


async def _incoming(node) -> list[dict]:
    return (await node.api("GET", "/requests", params={"direction": "incoming"})).json()["items"]


def _held_now(node) -> list[UpstreamFootprint]:
    with Session(node.engine, expire_on_commit=False) as session:
        return list(session.exec(select(UpstreamFootprint)))


async def _held(node) -> list[UpstreamFootprint]:
    # database work off the event loop: the nodes' requests need the loop to finish their own transactions
    return await asyncio.to_thread(_held_now, node)


async def test_without_a_grant_the_product_is_invisible_and_the_request_waits(manual_net: Network) -> None:
    net = manual_net
    fp_id = await _lioh_footprint(net)
    peer = net[CATHODE].app.state.peer_client
    base = f"http://{net[LITHIUM].host}"
    with pytest.raises(PeerError, match="404"):
        await peer.get_footprint(base, fp_id)
    with pytest.raises(PeerError, match="404"):
        await peer.get_footprint(base, str(uuid.uuid4()))  # exactly like a footprint that does not exist
    listed = await peer._call("GET", base, "/3/footprints")
    assert listed.status_code == 200 and listed.json() == {"data": []}

    await _ask_for_lioh(net)
    incoming = await net.wait_for(lambda: _incoming(net[LITHIUM]), what="the request at the refiner")
    assert incoming[0]["state"] == "pending" and incoming[0]["companyId"] == CATHODE
    assert not await _held(net[CATHODE])

    r = await net[LITHIUM].api("POST", f"/requests/{incoming[0]['id']}/accept")
    assert r.status_code == 200 and r.json()["state"] == "fulfilled"
    held = await net.wait_for(lambda: _held(net[CATHODE]), what="the LiOH footprint at the cathode maker")
    assert held[0].footprint_id == fp_id and held[0].attestation
    assert (await peer.get_footprint(base, fp_id))["id"] == fp_id


async def test_a_rejected_request_is_reported_to_the_requester(manual_net: Network) -> None:
    net = manual_net
    await _lioh_footprint(net)
    mine = await _ask_for_lioh(net)
    incoming = await net.wait_for(lambda: _incoming(net[LITHIUM]), what="the request at the refiner")
    r = await net[LITHIUM].api("POST", f"/requests/{incoming[0]['id']}/reject", json={"reason": "no contract yet"})
    assert r.json()["state"] == "rejected"

    async def rejected() -> bool:
        got = (await net[CATHODE].api("GET", f"/requests/{mine['id']}")).json()
        return got["state"] == "rejected" and "no contract yet" in (got["reason"] or "")

    await net.wait_for(rejected, what="the rejection at the cathode maker")


async def _genuine_lioh_held(net: Network) -> UpstreamFootprint:
    """The refiner's LiOH footprint, requested by the cathode maker, accepted and held there."""
    await _lioh_footprint(net)
    await _ask_for_lioh(net)
    incoming = await net.wait_for(lambda: _incoming(net[LITHIUM]), what="the request at the refiner")
    await net[LITHIUM].api("POST", f"/requests/{incoming[0]['id']}/accept")
    return (await net.wait_for(lambda: _held(net[CATHODE]), what="the genuine footprint"))[0]


async def test_a_tampered_footprint_is_refused_and_recorded(manual_net: Network) -> None:
    net = manual_net
    held = await _genuine_lioh_held(net)

    genuine = held.pact
    ext = rendering.find_extension(genuine)
    header, payload, signature = ext["attestation"].rstrip("~").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["stages"]["raw_material_acquisition"] = "1.2"
    claims["credentialSubject"]["total"] = "1.2"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = json.loads(json.dumps(genuine))
    forged["id"] = str(uuid.uuid4())
    forged["pcf"]["pcfExcludingBiogenicUptake"] = "1.2"
    rendering.find_extension(forged)["attestation"] = f"{header}.{forged_payload}.{signature}~"

    node = net[CATHODE]

    def receive(sender: str, pf: dict):
        with Session(node.engine, expire_on_commit=False) as session:
            result = receipt.receive_footprint(node.ctx(session), sender, pf)
            session.commit()
            return result

    assert await asyncio.to_thread(receive, LITHIUM, forged) is None
    ids = {u.footprint_id for u in await _held(node)}
    assert forged["id"] not in ids and held.footprint_id in ids

    def refused() -> list[str]:
        with Session(node.engine) as session:
            return list(session.exec(select(AuditEntry.subject).where(AuditEntry.action == "footprint.refused")))

    assert await asyncio.to_thread(refused) == [forged["id"]]

    # the genuine footprint presented by someone else than its issuer is refused too
    other = json.loads(json.dumps(genuine))
    other["id"] = str(uuid.uuid4())
    assert await asyncio.to_thread(receive, "urn:pact:sulawesi-nickel.example:company:sulawesi-nickel", other) is None


async def test_a_supplier_down_when_asked_answers_once_it_is_back(chain: dict, make_db) -> None:
    net = await build_network(chain, make_db)
    async with net.stack:
        await _lioh_footprint(net)
        net.router.down.add(net[LITHIUM].host)
        await _ask_for_lioh(net)

        async def failed_once() -> bool:
            items = (await net[CATHODE].api("GET", "/outbox")).json()["items"]
            return any(m["attempts"] >= 1 and m["lastError"] and m["state"] == "pending" for m in items)

        await net.wait_for(failed_once, what="a failed delivery kept for retry")
        assert not await _held(net[CATHODE])
        net.router.down.discard(net[LITHIUM].host)
        held = await net.wait_for(lambda: _held(net[CATHODE]), what="the answer after the supplier came back")
        assert held[0].product_id == LIOH


async def test_a_duplicated_event_changes_nothing(manual_net: Network) -> None:
    net = manual_net
    await _lioh_footprint(net)
    peer = net[CATHODE].app.state.peer_client
    base = f"http://{net[LITHIUM].host}"
    event = events.cloud_event(events.REQUEST_CREATED, f"http://{net[CATHODE].host}", {"productId": [LIOH]})
    await peer.send_event(base, event)
    await peer.send_event(base, event)
    incoming = await _incoming(net[LITHIUM])
    assert len(incoming) == 1 and incoming[0]["eventId"] == event["id"]
    # a different event id is a new request
    await peer.send_event(
        base, events.cloud_event(events.REQUEST_CREATED, f"http://{net[CATHODE].host}", {"productId": [LIOH]})
    )
    assert len(await _incoming(net[LITHIUM])) == 2


async def test_a_held_footprint_sent_again_with_its_id_in_upper_case_is_a_repeat(manual_net: Network) -> None:
    """Footprint ids are UUIDs, compared without case: a peer re-sending one we hold in upper case (its attestation
    signed for that spelling) changes nothing, as the same footprint sent again does (it raised Conflict)."""
    from connector.attestation.jws import sign_jws_json
    from connector.attestation.models import SD_JWT_TYP

    net = manual_net
    held = await _genuine_lioh_held(net)

    genuine = held.pact
    token = rendering.find_extension(genuine)["attestation"]
    issuer_jwt = token.split("~", 1)[0]
    payload = issuer_jwt.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    upper = genuine["id"].upper()
    assert upper != genuine["id"]
    claims["credentialSubject"]["footprintId"] = upper
    lithium = net[LITHIUM].identity
    again = json.loads(json.dumps(genuine))
    again["id"] = upper
    rendering.find_extension(again)["attestation"] = (
        sign_jws_json(claims, lithium.key, lithium.chain, SD_JWT_TYP) + token[len(issuer_jwt) :]
    )
    node = net[CATHODE]

    def receive(pf: dict):
        with Session(node.engine, expire_on_commit=False) as session:
            refusals: list[str] = []
            result = receipt.receive_footprint(node.ctx(session), LITHIUM, pf, refusals)
            session.commit()
            return result, refusals

    assert await asyncio.to_thread(receive, again) == (None, [])
    assert [u.footprint_id for u in await _held(node)] == [held.footprint_id]


async def test_a_request_naming_a_non_verifier_for_the_evidence_is_rejected(manual_net: Network) -> None:
    net = manual_net
    await _lioh_footprint(net)
    cathode = net[CATHODE]
    product = (await cathode.api("GET", "/products")).json()["items"][0]
    line = next(
        x
        for x in (await cathode.api("GET", f"/products/{product['id']}/bom")).json()
        if x.get("supplierProductId") == LIOH
    )
    from connector.identity.keys import certificates_to_pem

    supplier_cert = certificates_to_pem(list(net.pki.company(CATHODE, "supplier").chain)).decode()
    r = await cathode.api("POST", "/requests", json={"bomLineId": line["id"], "verifierCertificates": [supplier_cert]})
    assert r.status_code == 201

    async def rejected() -> bool:
        got = (await cathode.api("GET", f"/requests/{r.json()['id']}")).json()
        return got["state"] == "rejected" and "verifier" in (got["reason"] or "")

    await net.wait_for(rejected, what="the refiner refusing to seal evidence to a supplier certificate")


async def test_a_retried_call_keeps_its_headers(manual_net: Network) -> None:
    """After a 401 (e.g. the peer restarted and forgot our token) the retry still says cloudevents+json."""
    net = manual_net
    seen: list[str] = []
    router = net.router
    original = router.handle_async_request

    async def spy(request):
        if request.url.path == "/3/events":
            seen.append(request.headers.get("content-type", ""))
            if len(seen) == 1:
                import httpx

                return httpx.Response(401, json={"code": "TokenExpired", "message": "expired"})
        return await original(request)

    router.handle_async_request = spy
    peer = net[CATHODE].app.state.peer_client
    await peer.send_event(
        f"http://{net[LITHIUM].host}",
        events.cloud_event(events.REQUEST_CREATED, f"http://{net[CATHODE].host}", {"productId": [LIOH]}),
    )
    assert seen == ["application/cloudevents+json", "application/cloudevents+json"]


async def test_a_refused_answer_closes_the_request_with_the_reason_and_it_can_be_asked_again(
    manual_net: Network,
) -> None:
    net = manual_net
    await _lioh_footprint(net)
    asked = await _ask_for_lioh(net)
    node = net[CATHODE]

    def answer_malformed() -> None:
        with Session(node.engine, expire_on_commit=False) as session:
            unsigned = {"id": str(uuid.uuid4()), "productIds": [LIOH], "companyIds": [LITHIUM]}  # no pcf
            event = events.cloud_event(
                events.REQUEST_FULFILLED,
                f"http://{net[LITHIUM].host}",
                {"requestEventId": asked["eventId"], "pfs": [unsigned]},
            )
            inbound.handle_event(node.ctx(session), LITHIUM, event)
            session.commit()

    await asyncio.to_thread(answer_malformed)
    got = (await node.api("GET", f"/requests/{asked['id']}")).json()
    assert got["state"] == "refused"
    assert "answer refused" in got["reason"] and "pcf" in got["reason"]
    # the supplier learns it: its request shows the same state and reason (issue 17: no silent refusals)
    seen = await net.wait_for(lambda: _incoming_in(net[LITHIUM], "refused"), what="the refusal at the refiner")
    assert [(r["eventId"], r["reason"]) for r in seen] == [(asked["eventId"], got["reason"])]
    assert not await _held(node)
    listed = (await node.api("GET", "/requests", params={"direction": "outgoing", "state": "refused"})).json()
    assert [r["id"] for r in listed["items"]] == [asked["id"]]

    again = await _ask_for_lioh(net)  # a new request, not the closed one handed back
    assert again["id"] != asked["id"] and again["state"] == "pending"
