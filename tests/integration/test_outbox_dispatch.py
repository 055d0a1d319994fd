"""Messages handed to the running worker by the transaction that wrote them: leased in the INSERT, sent without a
claim, never when their transaction or savepoint rolled back, and claimed as usual when their lease runs out."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from connector.api.deps import write_session
from connector.config import Settings
from connector.exchange import outbox
from connector.exchange.worker import OutboxWorker
from connector.storage.tables import OutboxMessage, utcnow

from .test_operations import _count_claims, _FakePeer, _until


def _app(engine, worker: OutboxWorker | None) -> SimpleNamespace:
    return SimpleNamespace(state=SimpleNamespace(engine=engine, worker=worker))


def _enqueue(session: Session, n: int, peer: str = "https://a.test") -> None:
    outbox.enqueue(session, peer, "urn:x:a", outbox.SEND_EVENT, {"n": n}, utcnow())


@pytest.mark.asyncio
async def test_a_committed_request_hands_its_messages_to_the_worker_without_a_claim(engine, monkeypatch) -> None:
    claims = _count_claims(monkeypatch)
    peer = _FakePeer()
    worker = OutboxWorker(engine, Settings(), None, peer, poll_interval=30.0)  # type: ignore[arg-type]
    worker.start()
    try:
        await _until(lambda: len(claims) == 1)  # the start-up pass claims once (nothing is pending yet)
        app = _app(engine, worker)

        def request() -> None:  # as a request handler, on a thread of the pool
            with write_session(app) as session:
                _enqueue(session, 1)
                with session.begin_nested():  # released: its message is kept
                    _enqueue(session, 2)
                try:
                    with session.begin_nested():  # rolled back: its message was never written, never sent
                        _enqueue(session, 99)
                        raise RuntimeError("fails")
                except RuntimeError:
                    pass
                _enqueue(session, 3)

        await asyncio.to_thread(request)
        await _until(lambda: len(peer.sent) >= 3)
    finally:
        await worker.stop()
    assert peer.sent == [{"n": 1}, {"n": 2}, {"n": 3}]  # to one peer, in the order written
    assert len(claims) == 1  # sent without claiming (a poll would be 30 s away; a lease 60 s)
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert sorted(r.body["n"] for r in rows) == [1, 2, 3]
    assert all(r.state == "sent" and r.attempts == 1 for r in rows)


@pytest.mark.asyncio
async def test_a_rolled_back_request_hands_the_worker_nothing(engine) -> None:
    peer = _FakePeer()
    worker = OutboxWorker(engine, Settings(), None, peer, poll_interval=30.0)  # type: ignore[arg-type]
    worker.start()
    try:

        def request() -> None:
            with write_session(_app(engine, worker)) as session:
                _enqueue(session, 1)
                raise RuntimeError("the handler fails after writing a message")

        with pytest.raises(RuntimeError):
            await asyncio.to_thread(request)
        assert worker._submitted == []
        await _until(lambda: bool(peer.sent), timeout=0.5)
    finally:
        await worker.stop()
    assert peer.sent == []
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []


def test_a_leased_message_never_sent_is_claimed_when_its_lease_runs_out(engine) -> None:
    """A crash between the commit and the delivery: the message waits out its lease, then any claim takes it."""
    with Session(engine) as session:
        session.info[outbox.DISPATCH] = True
        _enqueue(session, 1)
        session.commit()
        leased = outbox.dispatched(session)  # ... and the process dies before the worker sends them
    assert [m.body for m in leased] == [{"n": 1}] and leased[0].attempts == 1
    now = utcnow()
    with Session(engine) as session:
        assert outbox.claim_due(session, now) == []  # leased: not due
    with Session(engine) as session:
        again = outbox.claim_due(session, leased[0].next_attempt_at + timedelta(seconds=1))
    assert [m.id for m in again] == [leased[0].id] and again[0].attempts == 2


def test_without_a_running_worker_messages_wait_for_a_claim(engine) -> None:
    with write_session(_app(engine, None)) as session:
        _enqueue(session, 1)
    with Session(engine) as session:  # due now, not leased: the first claim takes it
        taken = outbox.claim_due(session, utcnow())
    assert [m.body for m in taken] == [{"n": 1}] and taken[0].attempts == 1


def test_the_hand_over_hook_is_the_leasing_sessions_only(engine) -> None:
    """The hook that hands a transaction's leased messages over listens on that session, not on every session of
    the process (two apps in one process must not run each other's)."""
    assert not event.contains(OrmSession, "after_commit", outbox._committed)
    with Session(engine) as leasing:
        leasing.info[outbox.DISPATCH] = True
        _enqueue(leasing, 1)
        _enqueue(leasing, 2)
        assert event.contains(leasing, "after_commit", outbox._committed)
        leasing.commit()
        assert [m.body["n"] for m in outbox.dispatched(leasing)] == [1, 2]
    with Session(engine) as other:  # the worker claims what this one writes
        _enqueue(other, 3)
        assert not event.contains(other, "after_commit", outbox._committed)
        other.commit()
        assert outbox.dispatched(other) == []
