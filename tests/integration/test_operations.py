"""Operating a node: manual confirmation of upstream changes, outbox give-up and claiming, the audit chain."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from connector.exchange import outbox
from connector.services import audit
from connector.storage.tables import AuditEntry, OutboxMessage, utcnow

from .network import Network
from .test_supply_chain import LITHIUM, OEM, PACK, _held, _request_pack

CAM_CO = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"


@pytest.mark.asyncio
async def test_manual_confirmation_holds_a_change_until_the_operator_computes(network: Network) -> None:
    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the first pack footprint")
    cam = network[CAM_CO]
    product = (await cam.api("GET", "/products")).json()["items"][0]
    assert (await cam.api("PATCH", f"/products/{product['id']}", json={"manualConfirmation": True})).status_code == 200
    before = (await cam.api("GET", f"/products/{product['id']}/footprints")).json()

    refiner = network[LITHIUM]
    lioh = (await refiner.api("GET", "/products")).json()["items"][0]
    await refiner.api("POST", f"/products/{lioh['id']}/emissions", json={"stage": "main_production", "value": "1"})
    assert (await refiner.api("POST", f"/products/{lioh['id']}/footprints")).status_code == 201

    async def held_back() -> bool:
        entries = (await cam.api("GET", "/audit", params={"limit": 500})).json()["items"]
        return any(e["action"] == "footprint.awaiting-confirmation" for e in entries)

    await network.wait_for(held_back, what="the CAM maker holding the change for confirmation")
    assert (await cam.api("GET", f"/products/{product['id']}/footprints")).json() == before
    r = await cam.api("POST", f"/products/{product['id']}/footprints")
    assert r.status_code == 201 and r.json()["changed"] is True
    assert r.json()["footprint"]["precedingPfIds"] == [before[0]["id"]]


@pytest.mark.asyncio
async def test_the_audit_chain_detects_an_edited_entry(network: Network) -> None:
    await _request_pack(network)
    await network.wait_for(lambda: _held(network[OEM], PACK), timeout=30, what="the pack footprint")
    node = network[OEM]
    assert (await node.api("GET", "/audit/check")).json()["valid"] is True

    def tamper() -> int:
        with Session(node.engine) as session:
            seq = session.exec(select(AuditEntry.seq).order_by(AuditEntry.seq).offset(1).limit(1)).one()
            session.execute(text("UPDATE auditentry SET actor = 'someone else' WHERE seq = :seq"), {"seq": seq})
            session.commit()
            return seq

    seq = await asyncio.to_thread(tamper)
    check = (await node.api("GET", "/audit/check")).json()
    assert check["valid"] is False and check["firstBadSeq"] == seq


def test_the_outbox_gives_up_after_the_configured_time(engine) -> None:
    from connector.config import Settings

    settings = Settings(outbox_give_up_after=timedelta(hours=72))
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        young = outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, {}, now - timedelta(hours=1))
        old = outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, {}, now - timedelta(hours=73))
        session.commit()
        outbox.mark_failed(session, settings, young, "refused", now)
        outbox.mark_failed(session, settings, old, "refused", now)
        session.commit()
        states = {m.id: m for m in session.exec(select(OutboxMessage))}
    assert states[young].state == "pending" and states[young].next_attempt_at > now
    assert states[old].state == "failed" and states[old].last_error == "refused"


def test_two_workers_never_claim_the_same_message(engine) -> None:
    now = utcnow()
    with Session(engine) as session:
        for i in range(10):
            outbox.enqueue(session, f"https://n{i}.test", "urn:x:a", outbox.SEND_EVENT, {"i": i}, now)
        session.commit()
    first, second = Session(engine, expire_on_commit=False), Session(engine, expire_on_commit=False)
    try:
        a = outbox.claim_due(first, now, limit=6)
        b = outbox.claim_due(second, now, limit=6)
    finally:
        first.close()
        second.close()
    assert len(a) == 6 and len(b) == 4
    assert not {m.id for m in a} & {m.id for m in b}
    # leased: nothing is due again until the lease runs out
    with Session(engine) as session:
        assert outbox.claim_due(session, now) == []
        assert len(outbox.claim_due(session, now + outbox.LEASE + timedelta(seconds=1))) == 10


def test_a_worker_skips_rows_another_worker_holds(engine, backend) -> None:
    """On PostgreSQL a claim in progress locks its rows; a second worker takes the others (FOR UPDATE SKIP LOCKED)."""
    if backend != "postgresql":
        pytest.skip("row locks: PostgreSQL only (SQLite serialises writers)")
    now = utcnow()
    with Session(engine) as session:
        for i in range(4):
            outbox.enqueue(session, f"https://n{i}.test", "urn:x:a", outbox.SEND_EVENT, {"i": i}, now)
        session.commit()
    holder = Session(engine)
    try:
        held = holder.exec(select(OutboxMessage).limit(3).with_for_update()).all()
        with Session(engine, expire_on_commit=False) as other:
            taken = outbox.claim_due(other, now)
        assert len(held) == 3 and len(taken) == 1
        assert taken[0].id not in {m.id for m in held}
    finally:
        holder.rollback()
        holder.close()


def test_audit_entries_chain_to_each_other(engine) -> None:
    with Session(engine) as session:
        for i in range(3):
            audit.append(session, "urn:x:a", "test", str(i), n=i)
        session.commit()
        result = audit.check_chain(session)
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert result.valid and result.entries == 3
    assert entries[0].prev_hash == audit.GENESIS and entries[1].prev_hash == entries[0].hash


class _FakePeer:
    """Stands in for PactClient: records events, refuses the first ``fail`` of them."""

    def __init__(self, fail: int = 0) -> None:
        self.sent: list[dict] = []
        self.fail = fail

    async def send_event(self, url: str, body: dict) -> None:
        from connector.protocols.pact.client import PeerError

        if self.fail:
            self.fail -= 1
            raise PeerError("peer down")
        self.sent.append(body)


def _count_claims(monkeypatch) -> list[None]:
    """Count the claims outbox.claim makes from now on: one item in the returned list per claim."""
    claims: list[None] = []
    real_claim = outbox.claim

    def counting_claim(*args, **kw):
        claims.append(None)
        return real_claim(*args, **kw)

    monkeypatch.setattr(outbox, "claim", counting_claim)
    return claims


async def _run_worker(engine, peer: _FakePeer, monkeypatch, until, timeout: float = 5.0) -> int:
    """Run an outbox worker (poll interval 30 s) until ``until()`` holds; returns how many claims it made."""
    from connector.config import Settings
    from connector.exchange.worker import OutboxWorker

    claims = _count_claims(monkeypatch)
    worker = OutboxWorker(
        engine, Settings(outbox_base_delay=0.05, outbox_max_delay=0.1), None, peer, poll_interval=30.0
    )  # type: ignore[arg-type]
    worker.start()
    try:
        await _until(until, timeout)
    finally:
        await worker.stop()
    return len(claims)


async def _until(condition, timeout: float = 5.0) -> None:
    """Wait until ``condition()`` holds (at most ``timeout`` s), then 0.2 s more for anything that would follow."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition() and loop.time() < deadline:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)


@pytest.mark.asyncio
async def test_the_outbox_worker_does_not_claim_again_after_a_pass_with_nothing_new(engine, monkeypatch) -> None:
    with Session(engine) as session:
        outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, {"n": 1}, utcnow())
        session.commit()
    peer = _FakePeer()
    claims = await _run_worker(engine, peer, monkeypatch, lambda: peer.sent)
    assert peer.sent == [{"n": 1}]
    assert claims == 1  # one claim took the message; the next due time was known, so the worker slept


@pytest.mark.asyncio
async def test_the_outbox_worker_retries_after_the_backoff_not_the_poll_interval(engine, monkeypatch) -> None:
    with Session(engine) as session:
        outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, {"n": 2}, utcnow())
        session.commit()
    peer = _FakePeer(fail=2)
    claims = await _run_worker(engine, peer, monkeypatch, lambda: peer.sent)
    assert peer.sent == [{"n": 2}]  # two refusals, retried after ~0.1 s each although the poll interval is 30 s
    # one claim per attempt; a wake-up a hair before the retry time (two clocks) may cost one empty claim each
    assert 3 <= claims <= 5
    with Session(engine) as session:
        row = session.exec(select(OutboxMessage)).one()
    assert row.state == "sent" and row.attempts == 3


def test_a_claim_says_when_to_look_again(engine) -> None:
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        assert outbox.claim(session, now) == ([], None)  # nothing pending: sleep until woken or polled
        due = outbox.enqueue(session, "https://a.test", "urn:x:a", outbox.SEND_EVENT, {}, now - timedelta(seconds=1))
        later = now + timedelta(seconds=30)
        outbox.enqueue(session, "https://b.test", "urn:x:b", outbox.SEND_EVENT, {}, later)
        session.commit()
        rows, next_at = outbox.claim(session, now)
        assert [r.id for r in rows] == [due] and next_at == later
        rows, next_at = outbox.claim(session, now)  # the due one is leased now; the later one is next
        assert rows == [] and next_at == later
        for i in range(3):
            outbox.enqueue(session, f"https://c{i}.test", "urn:x:c", outbox.SEND_EVENT, {}, now)
        session.commit()
        rows, next_at = outbox.claim(session, now, limit=2)  # more due than the limit: look again at once
        assert len(rows) == 2 and next_at is not None and next_at <= now
        rows, next_at = outbox.claim(session, now, limit=2)
        assert len(rows) == 1 and next_at == later
        rows, next_at = outbox.claim(session, later)  # the leases (60 s) still run: only the later one is due
        assert len(rows) == 1 and next_at == now + outbox.LEASE
