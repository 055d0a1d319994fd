"""The outbox in few statements: a claim leases in one UPDATE, a pass marks its delivered events sent in one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from connector.exchange import outbox
from connector.storage.tables import OutboxMessage, utcnow

from .test_operations import _FakePeer, _run_worker


def test_a_claim_returns_the_messages_as_leased(engine) -> None:
    now = utcnow()
    with Session(engine) as session:
        for i in range(3):
            outbox.enqueue(session, f"https://n{i}.test/", "urn:x:a", outbox.SEND_EVENT, {"i": i, "x": [1]}, now)
        session.commit()
    with Session(engine) as session:
        taken = outbox.claim_due(session, now)
    assert sorted(m.body["i"] for m in taken) == [0, 1, 2]
    assert {m.target_url for m in taken} == {"https://n0.test", "https://n1.test", "https://n2.test"}
    assert all(m.attempts == 1 and m.next_attempt_at == now + outbox.LEASE for m in taken)
    with Session(engine) as session:
        stored = session.exec(select(OutboxMessage)).all()
    assert all(m.attempts == 1 and m.state == "pending" and m.next_attempt_at == now + outbox.LEASE for m in stored)
    with Session(engine) as session:  # a second claim after the lease counts a second attempt
        again = outbox.claim_due(session, now + outbox.LEASE + timedelta(seconds=1))
    assert len(again) == 3 and all(m.attempts == 2 for m in again)


def test_a_message_enqueued_in_a_rolled_back_transaction_is_never_sent(engine) -> None:
    now = utcnow()
    with Session(engine) as session:
        outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, {}, now)
        session.rollback()
        with session.begin_nested():
            outbox.enqueue(session, "https://b.test", "urn:x:b", outbox.SEND_EVENT, {}, now)
        try:
            with session.begin_nested():
                outbox.enqueue(session, "https://c.test", "urn:x:c", outbox.SEND_EVENT, {}, now)
                raise RuntimeError("fails")
        except RuntimeError:
            pass
        session.commit()
    with Session(engine) as session:
        assert [m.target_url for m in outbox.claim_due(session, now)] == ["https://b.test"]


@pytest.mark.asyncio
async def test_the_events_of_a_pass_are_marked_sent_together(engine, monkeypatch) -> None:
    now = utcnow()
    with Session(engine) as session:
        for i in range(4):
            at = now - timedelta(
                milliseconds=4 - i
            )  # all due already; due order is written order (equal times are not ordered)
            outbox.enqueue(session, f"https://n{i % 2}.test", "urn:x:a", outbox.SEND_EVENT, {"n": i}, at)
        session.commit()
    marks: list[list[str]] = []
    real = outbox.mark_sent

    def counting(session, ids, at):
        marks.append(list(ids))
        return real(session, ids, at)

    monkeypatch.setattr(outbox, "mark_sent", counting)
    peer = _FakePeer()
    await _run_worker(engine, peer, monkeypatch, lambda: len(peer.sent) == 4)
    assert sorted(b["n"] for b in peer.sent) == [0, 1, 2, 3]
    assert [b["n"] for b in peer.sent if b["n"] % 2 == 0] == [0, 2]  # to one peer: in the order written
    assert len(marks) == 1 and len(marks[0]) == 4
    with Session(engine) as session:
        assert {m.state for m in session.exec(select(OutboxMessage))} == {"sent"}
