"""Outbox messages queued before intents (kind ``event`` with a PACT CloudEvent body, kind ``fetch-footprint``) are
still sent after the upgrade that added protocols (migration 0003): nothing queued is stranded. And each intent goes
out as the PACT event it stands for."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlmodel import Session, select

from connector import protocols
from connector.config import Settings
from connector.exchange import outbox
from connector.exchange.worker import OutboxWorker
from connector.protocols.pact import events
from connector.storage.migrate import alembic_config
from connector.storage.tables import CfpRequest, OutboxMessage, utcnow

from .test_operations import _until

pytestmark = pytest.mark.asyncio

SOURCE = "https://us.test"


class _Peer:
    """Stands in for the PACT PactClient: records what is sent and fetched."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.fetched: list[str] = []

    async def send_event(self, url: str, body: dict) -> None:
        self.sent.append(body)

    async def get_footprint(self, url: str, pf_id: str) -> dict:
        self.fetched.append(pf_id)
        return {"id": pf_id}  # no attestation: received, refused and recorded, and the message is done


def _legacy_rows(engine) -> tuple[dict, str]:
    """What a node before intents left queued: a RequestFulfilled event and a fetch."""
    now = utcnow()
    event = events.cloud_event(events.REQUEST_FULFILLED, SOURCE, {"requestEventId": "r-1", "pfs": []}, at=now)
    pf_id = str(uuid.uuid4())
    with Session(engine) as session:
        outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, event, now)
        outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.FETCH_FOOTPRINT, {"pfId": pf_id}, now)
        session.commit()
    return event, pf_id


async def _send_all(engine) -> _Peer:
    peer = _Peer()
    worker = OutboxWorker(engine, Settings(public_url=SOURCE), None, peer, poll_interval=30.0)  # type: ignore[arg-type]
    worker.start()
    try:
        await _until(lambda: len(peer.sent) == 1 and len(peer.fetched) == 1, timeout=5.0)
    finally:
        await worker.stop()
    return peer


async def test_messages_queued_before_the_upgrade_are_still_sent(engine) -> None:
    event, pf_id = _legacy_rows(engine)
    # the rows as a database before migration 0003 holds them (no protocol column), then the upgrade
    config = alembic_config(engine)
    command.downgrade(config, "0002")
    command.upgrade(config, "head")
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert {(m.kind, m.protocol) for m in rows} == {(outbox.SEND_EVENT, "pact"), (outbox.FETCH_FOOTPRINT, "pact")}

    peer = await _send_all(engine)
    assert peer.sent == [event]  # the event exactly as it was rendered before the upgrade
    assert peer.fetched == [pf_id]
    with Session(engine) as session:
        assert {m.state for m in session.exec(select(OutboxMessage))} == {"sent"}


async def test_a_request_queued_before_intents_fails_visibly_when_given_up(engine) -> None:
    now = utcnow()
    event_id = str(uuid.uuid4())
    ask = events.cloud_event(events.REQUEST_CREATED, SOURCE, {"productId": ["urn:x:p"]}, event_id=event_id, at=now)
    with Session(engine) as session:
        session.add(
            CfpRequest(direction="outgoing", event_id=event_id, company_id="urn:x:a", created_at=now, updated_at=now)
        )
        message_id = outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, ask, now)
        session.commit()
        outbox.mark_failed(session, Settings(), message_id, "403 Forbidden", now, permanent=True)
        session.commit()
        request = session.exec(select(CfpRequest)).one()
    assert request.state == "failed" and "403 Forbidden" in (request.reason or "")


async def test_each_intent_goes_out_as_its_pact_event() -> None:
    pact = protocols.adapter("pact")
    at = "2026-01-02T03:04:05Z"

    def wire(kind: str, body: dict) -> dict | None:
        return pact.wire_message(
            OutboxMessage(target_url="https://a.test", company_id="urn:x:a", kind=kind, body=body), SOURCE
        )

    ask = wire(
        outbox.ASK,
        {
            "id": "e-1",
            "at": at,
            "productIds": ["urn:x:p"],
            "companyIds": ["urn:x:a"],
            "message": "hi",
            "dueDate": "2026-02-01T00:00:00Z",
            "verifierCertificates": ["PEM"],
        },
    )
    assert ask == {
        "specversion": "1.0",
        "id": "e-1",
        "source": SOURCE,
        "time": at,
        "type": events.REQUEST_CREATED,
        "datacontenttype": "application/json",
        "data": {
            "productId": ["urn:x:p"],
            "companyId": ["urn:x:a"],
            "comment": "hi",
            events.X_MESSAGE: "hi",
            events.X_DUE: "2026-02-01T00:00:00Z",
            events.X_VERIFIERS: ["PEM"],
        },
    }
    answer = wire(outbox.ANSWER, {"id": "e-2", "at": at, "requestId": "e-1", "footprints": [{"id": "f"}]})
    assert answer and answer["type"] == events.REQUEST_FULFILLED
    assert answer["data"] == {"requestEventId": "e-1", "pfs": [{"id": "f"}]} and answer["id"] == "e-2"
    reject = wire(outbox.REJECT, {"id": "e-3", "at": at, "requestId": "e-1", "code": "NotFound", "reason": "no"})
    assert reject and reject["data"] == {"requestEventId": "e-1", "error": {"code": "NotFound", "message": "no"}}
    pf_id = "3a6c14a7-4deb-498a-b5ea-16ce2535b576"
    news = wire(outbox.PUBLISH, {"id": "e-4", "at": at, "footprintIds": [pf_id]})
    assert news and news["type"] == events.PUBLISHED and news["data"] == {"pfIds": [pf_id]}
    assert wire(outbox.FETCH, {"footprintId": "f"}) is None  # a GET, not an event
    assert outbox.CANCEL not in pact.intents  # PACT v3 has no event for it: the core enqueues none
    for event in (ask, reject, news):  # (the answer's footprint above is no real one)
        assert events.parse_event(event) == event  # each one a PACT event this node itself accepts
