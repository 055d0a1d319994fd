"""Receiving a PACT event: one unit of work, and the outbox worker woken only once what it must send is committed."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from connector.protocols.pact import events
from connector.storage.tables import AuditEntry, InboxEvent, OutboxMessage

from .test_pact_conformance import CALLBACK, Pact, _event, node  # noqa: F401 - node is a fixture

pytestmark = pytest.mark.asyncio


class _Worker:
    """Stands in for the outbox worker: records, at each wake-up or hand-over, the messages a new transaction can see
    (and the ones handed over). ``running``: whether messages are leased to it (submit) or left to claim (wake)."""

    def __init__(self, engine, running: bool = False) -> None:
        self.engine = engine
        self.running = running
        self.seen: list[int] = []
        self.submitted: list[list[str]] = []

    def _committed(self) -> int:
        with Session(self.engine) as session:
            return len(session.exec(select(OutboxMessage.id).where(OutboxMessage.target_url == CALLBACK)).all())

    def wake(self) -> None:
        self.seen.append(self._committed())

    def submit(self, messages) -> None:
        self.seen.append(self._committed())
        self.submitted.append([m.target_url for m in messages])


async def test_the_worker_is_woken_after_the_commit_that_left_it_a_message(node: Pact) -> None:  # noqa: F811
    worker = node.api.app.state.worker = _Worker(node.api.engine)
    r = await node.event(_event(events.REQUEST_CREATED, {"productId": ["urn:pact:nothing-here"]}))
    assert r.status_code == 200
    assert worker.seen == [1]  # once, and the rejection was already committed when it woke


async def test_a_running_worker_is_handed_the_message_after_the_commit(node: Pact) -> None:  # noqa: F811
    worker = node.api.app.state.worker = _Worker(node.api.engine, running=True)
    r = await node.event(_event(events.REQUEST_CREATED, {"productId": ["urn:pact:nothing-here"]}))
    assert r.status_code == 200
    assert worker.seen == [1] and worker.submitted == [[CALLBACK]]  # once, committed, leased to it
    with Session(node.api.engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.target_url == CALLBACK)).one()
    assert row.attempts == 1 and row.state == "pending"  # leased: no claim will take it while it is in flight


async def test_an_event_that_leaves_nothing_to_send_does_not_wake_the_worker(node: Pact) -> None:  # noqa: F811
    worker = node.api.app.state.worker = _Worker(node.api.engine)
    event = _event(events.PUBLISHED, {"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]})  # not from a supplier
    assert (await node.event(event)).status_code == 200
    assert (await node.event(event)).status_code == 200  # a repeat changes nothing
    assert worker.seen == []
    with Session(node.api.engine) as session:
        assert len(session.exec(select(InboxEvent)).all()) == 1
        received = session.exec(select(AuditEntry).where(AuditEntry.action == "event.received")).all()
    assert [e.subject for e in received] == [event["id"]]
