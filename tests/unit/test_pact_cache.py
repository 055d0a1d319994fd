"""The pieces of the PACT read path (docs/decisions/0007): answer cache, audit group commit, token cache."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from connector.errors import Unauthenticated
from connector.protocols.pact import cache as read_cache
from connector.services import audit, tokens
from connector.storage.tables import AuditEntry, Grant, Product, utcnow

# answer cache ---------------------------------------------------------------------------------------------------------


def test_an_answer_read_before_a_relevant_commit_is_not_stored() -> None:
    cache = read_cache.ReadCache(ttl=60)
    before = read_cache.generation()
    read_cache.invalidate_all()  # a commit lands while the read is under way
    cache.put("k", b"old", before, 3)
    assert cache.get("k") is None
    cache.put("k", b"new", read_cache.generation(), 3)
    assert cache.get("k") == b"new"
    read_cache.invalidate_all()
    assert cache.get("k") is None


def test_entries_expire_after_the_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(read_cache, "_clock", lambda: now[0])
    cache = read_cache.ReadCache(ttl=2)
    cache.put("k", b"v", read_cache.generation(), 1)
    now[0] += 1.999
    assert cache.get("k") == b"v"
    now[0] += 0.001
    assert cache.get("k") is None


def test_ttl_zero_stores_nothing() -> None:
    cache = read_cache.ReadCache(ttl=0)
    cache.put("k", b"v", read_cache.generation(), 1)
    assert cache.get("k") is None and len(cache) == 0


def test_the_cache_is_bounded_in_entries_and_bytes() -> None:
    cache = read_cache.ReadCache(ttl=60, max_entries=3, max_bytes=100)
    gen = read_cache.generation()
    for i in range(5):
        cache.put(i, b"x", gen, 1)
    assert len(cache) == 3 and cache.get(0) is None and cache.get(4) == b"x"
    cache.put("big", b"y", gen, 20)
    cache.put("big2", b"y", gen, 20)
    cache.put("big3", b"y", gen, 20)
    cache.put("big4", b"y", gen, 20)
    assert cache._bytes <= 100
    cache.put("huge", b"z", gen, 26)  # more than a quarter of the budget: not kept
    assert cache.get("huge") is None


def test_commits_touching_pact_data_invalidate_and_audit_only_commits_do_not(engine) -> None:
    with Session(engine) as session:
        session.add(Product(product_ids=["urn:x:p"], name="p", declared_unit="kilogram"))
        before = read_cache.generation()
        session.commit()
        assert read_cache.generation() > before
        product = session.exec(select(Product)).one()

        before = read_cache.generation()
        audit.append(session, "me", "something", "")
        session.commit()
        assert read_cache.generation() == before  # the audit log changes no PACT answer

        session.add(Grant(product_id=product.id, company_id="urn:x:c", created_at=utcnow()))
        session.flush()
        assert read_cache.generation() == before  # not before the commit
        session.rollback()
        before = read_cache.generation()
        session.execute(text("UPDATE product SET name = 'q'"))  # raw SQL: assumed relevant
        session.commit()
        assert read_cache.generation() > before


# audit group commit ---------------------------------------------------------------------------------------------------


def _chain(engine) -> audit.ChainCheck:
    with Session(engine) as session:
        return audit.check_chain(session)


def test_group_commit_chains_concurrent_entries_in_order(engine) -> None:
    writer = audit.AuditWriter(engine)
    errors: list[BaseException] = []

    def client(k: int) -> None:
        try:
            for i in range(25):
                writer.append_blocking(f"actor{k}", "pact.get", f"s{i}", n=i)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    with Session(engine) as session:  # another appender, in its own transactions, meanwhile
        for t in threads:
            t.start()
        for i in range(10):
            audit.append(session, "operator", "grant.created", str(i))
            session.commit()
    for t in threads:
        t.join()
    writer.close()
    assert errors == []
    check = _chain(engine)
    assert check.valid and check.entries == 8 * 25 + 10, check
    with Session(engine) as session:
        mine = session.exec(select(AuditEntry).where(AuditEntry.actor == "actor3").order_by(AuditEntry.seq)).all()
    assert [e.details for e in mine] == [{"n": i} for i in range(25)]


def test_close_writes_everything_queued(engine) -> None:
    writer = audit.AuditWriter(engine)
    futures = [writer.submit("a", "pact.get", str(i)) for i in range(50)]
    writer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert _chain(engine).entries == 50
    writer.append_blocking("a", "pact.get", "after close")  # a later entry starts the flusher again
    writer.close()
    assert _chain(engine) == audit.ChainCheck(True, 51)


def _colliding_chain(real):
    """``audit._chain`` numbering its last row as its first: the batch's INSERT fails in the database, after the
    other rows went in (a real failure between the INSERT and the commit)."""

    def chain(tail, batch):
        rows = real(tail, batch)
        if len(rows) > 1:
            rows[-1] = (rows[0][0], *rows[-1][1:])
        return rows

    return chain


@pytest.mark.parametrize("remembered", [True, False], ids=["tail-remembered", "tail-read-under-lock"])
def test_a_failed_batch_fails_every_waiter_and_writes_nothing(engine, monkeypatch, remembered: bool) -> None:
    """On PostgreSQL, a batch after a batch of the same thread goes in one round trip with the tail it remembers; the
    other way reads the tail under the lock first. Either way a failing INSERT leaves nothing and fails every waiter."""
    writer = audit.AuditWriter(engine)
    started, release = threading.Event(), threading.Event()
    real_write = audit._write_batch

    def held(conn, batch, tail=None):  # the first batch waits, so that the failing one gathers all five entries
        started.set()
        release.wait(10)
        return real_write(conn, batch, tail if remembered else None)

    monkeypatch.setattr(audit, "_write_batch", held)
    monkeypatch.setattr(audit, "_chain", _colliding_chain(audit._chain))
    first = writer.submit("a", "pact.get", "first")  # alone in its batch: written
    assert started.wait(10)
    futures = [writer.submit("a", "pact.get", str(i)) for i in range(5)]
    release.set()
    first.result(timeout=30)
    for f in futures:
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            f.result(timeout=30)
    monkeypatch.undo()
    writer.append_blocking("a", "pact.get", "ok")  # on a fresh connection: the failed one was dropped
    writer.close()
    assert _chain(engine) == audit.ChainCheck(True, 2)


def test_async_waiters_and_a_waiter_that_gives_up(engine) -> None:
    writer = audit.AuditWriter(engine)

    async def main() -> None:
        await asyncio.gather(*(writer.append("a", "pact.get", str(i)) for i in range(20)))
        task = asyncio.ensure_future(writer.append("a", "pact.get", "abandoned"))
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await writer.append("a", "pact.get", "last")

    asyncio.run(main())
    writer.close()
    check = _chain(engine)
    assert check.valid and check.entries == 20 + 1 + 1  # the abandoned read is recorded all the same (it happened)


def test_entries_queued_while_a_batch_commits_go_together_in_the_next(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    started, release = threading.Event(), threading.Event()
    real = audit._write_batch

    def first_batch_held(conn, batch, tail=None):
        if not started.is_set():
            started.set()
            release.wait(10)
        return real(conn, batch, tail)

    monkeypatch.setattr(audit, "_write_batch", first_batch_held)
    writer = audit.AuditWriter(engine)
    first = writer.submit("a", "pact.get", "first")
    assert started.wait(10)
    queued = [writer.submit("a", "pact.get", f"s{i}") for i in range(50)]
    release.set()
    for future in (first, *queued):
        future.result(10)
    writer.close()
    assert writer.batches == 2  # the first alone, then the fifty that waited for it in one transaction
    check = _chain(engine)
    assert check.valid and check.entries == 51, check


def test_the_entry_time_is_one_reading_of_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # the old code read the clock twice: seconds from one reading, milliseconds from the next (could go back ~1 s)
    readings = iter(
        [datetime(2026, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 1, 100, tzinfo=UTC)]
    )
    monkeypatch.setattr(audit, "utcnow", lambda: next(readings))
    assert audit._now() == datetime(2026, 1, 1, 0, 0, 0, 999_000, tzinfo=UTC)


# access token cache ---------------------------------------------------------------------------------------------------

SECRET = b"k" * 32
ISSUER = "https://node.example"


def _token(at: datetime, ttl: timedelta = timedelta(minutes=10)) -> str:
    return tokens.issue_access_token(SECRET, tokens.Caller("urn:x:c", "client_secret_basic"), ISSUER, at, ttl)


def test_a_remembered_token_still_expires() -> None:
    now = datetime.now(UTC)
    cache = tokens.AccessTokenCache(SECRET, ISSUER)
    token = _token(now)
    assert cache.verify(token, now).company_id == "urn:x:c"
    assert cache.verify(token, now + timedelta(minutes=9)).company_id == "urn:x:c"
    with pytest.raises(tokens.TokenExpired):
        cache.verify(token, now + timedelta(minutes=10))


def test_the_token_cache_accepts_only_what_verification_accepts() -> None:
    now = datetime.now(UTC)
    cache = tokens.AccessTokenCache(SECRET, ISSUER)
    good = _token(now)
    cache.verify(good, now)
    header, body, sig = good.split(".")
    for bad in (f"{header}.{body}.{sig[:-2]}AA", f"{header}.{body}x.{sig}", "a.b", ""):
        with pytest.raises(Unauthenticated):
            cache.verify(bad, now)
    other = tokens.issue_access_token(b"z" * 32, tokens.Caller("urn:x:c", "m"), ISSUER, now, timedelta(minutes=5))
    with pytest.raises(Unauthenticated):
        cache.verify(other, now)
    with pytest.raises(Unauthenticated):
        tokens.AccessTokenCache(SECRET, "https://elsewhere.example").verify(good, now)


def test_the_token_cache_is_bounded() -> None:
    now = datetime.now(UTC)
    cache = tokens.AccessTokenCache(SECRET, ISSUER, max_entries=3)
    for _ in range(10):
        cache.verify(_token(now), now)
    assert len(cache._known) <= 3


def _pending(n: int, actor: str = "a") -> list[audit._Pending]:
    import concurrent.futures

    return [audit._Pending(actor, "pact.get", str(i), {"i": i}, concurrent.futures.Future()) for i in range(n)]


def test_a_large_batch_is_written_in_chain_order(engine) -> None:
    # SQLite: several multi-row INSERTs of 100 rows; PostgreSQL: one INSERT of unnested column arrays
    with engine.connect() as conn:
        audit._write_batch(conn, _pending(250))
        audit._write_batch(conn, _pending(3, "b"))
    check = _chain(engine)
    assert check.valid and check.entries == 253, check
    with Session(engine) as session:
        assert [
            e.details["i"]
            for e in session.exec(select(AuditEntry).where(AuditEntry.actor == "a").order_by(AuditEntry.seq))
        ] == list(range(250))


def test_a_remembered_tail_that_moved_is_read_again(engine) -> None:
    """Another appender (a service's transaction, another process) wrote after this connection's last batch: the
    guarded one-round-trip INSERT writes nothing and the batch is chained after the real tail."""
    with engine.connect() as conn:
        tail = audit._write_batch(conn, _pending(3))
        assert tail[0] == 3
        with Session(engine) as session:
            audit.append(session, "someone", "grant.created", "g")
            session.commit()
        moved = audit._write_batch(conn, _pending(2, "b"), tail)
        assert moved[0] == 6
        again = audit._write_batch(conn, _pending(1, "c"), moved)  # still right: one round trip on PostgreSQL
        assert again[0] == 7
        if conn.dialect.name == "postgresql":
            assert conn.connection.driver_connection.autocommit is False  # back as the pool lent it
    check = _chain(engine)
    assert check == audit.ChainCheck(True, 7), check
    with Session(engine) as session:
        assert [e.seq for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))] == list(range(1, 8))


def test_a_stale_tail_can_never_fork_the_chain(engine) -> None:
    """Even handed a tail that is not the last entry's, an append numbers after the real last entry."""
    with engine.connect() as conn:
        first = audit._write_batch(conn, _pending(2))
        audit._write_batch(conn, _pending(2, "b"), first)
        audit._write_batch(conn, _pending(2, "c"), first)  # stale: the log ends at 4, not 2
    assert _chain(engine) == audit.ChainCheck(True, 6)


def test_the_connection_goes_back_to_the_pool_as_lent(engine) -> None:
    with engine.connect() as conn:
        audit._write_batch(conn, _pending(3))
        if conn.dialect.name == "postgresql":
            assert conn.connection.driver_connection.autocommit is False
        with conn.begin():  # a real transaction still: rolled back, nothing stays
            audit._append_batch(conn, _pending(2))
            conn.rollback()
    assert _chain(engine) == audit.ChainCheck(True, 3)


# one read for concurrent misses ---------------------------------------------------------------------------------------


class _App:
    def __init__(self, ttl: float) -> None:
        from types import SimpleNamespace

        self.state = SimpleNamespace(settings=SimpleNamespace(pact_read_cache_ttl=ttl), engine=None)


def test_concurrent_misses_share_one_read_unless_a_commit_came_between() -> None:
    from connector.protocols.pact.reads import _Reads

    async def main() -> None:
        reads = _Reads(_App(60))
        started, release = asyncio.Event(), asyncio.Event()
        calls: list[int] = []

        async def read() -> tuple[bytes, int, bool]:
            calls.append(1)
            started.set()
            await release.wait()
            return b"answer", 6, False

        leader = asyncio.ensure_future(reads.answer("k", read))
        await started.wait()
        followers = [asyncio.ensure_future(reads.answer("k", read)) for _ in range(5)]
        await asyncio.sleep(0)
        read_cache.invalidate_all()  # a commit: whoever arrives now must not get the read already under way
        late = asyncio.ensure_future(reads.answer("k", read))
        await asyncio.sleep(0)
        release.set()
        results = await asyncio.gather(leader, *followers, late)
        assert [r[0] for r in results] == [b"answer"] * 7
        assert len(calls) == 2  # the leader's (shared by the 5 followers) and the late one's

        async def missing() -> tuple[bytes, int, bool]:
            await asyncio.sleep(0)
            raise LookupError("footprint not found")

        outcomes = await asyncio.gather(*(reads.answer("gone", missing) for _ in range(3)), return_exceptions=True)
        assert all(isinstance(o, LookupError) for o in outcomes)
        assert reads.cache.get("gone") is None

    asyncio.run(main())


def test_without_the_cache_every_request_reads() -> None:
    from connector.protocols.pact.reads import _Reads

    async def main() -> None:
        reads = _Reads(_App(0))
        calls: list[int] = []

        async def read() -> tuple[bytes, int, bool]:
            calls.append(1)
            await asyncio.sleep(0)
            return b"a", 1, False

        await asyncio.gather(*(reads.answer("k", read) for _ in range(4)))
        assert len(calls) == 4

    asyncio.run(main())


def test_audit_details_are_normalized_as_the_json_column_reads_them_back() -> None:
    import json
    from datetime import UTC, datetime
    from decimal import Decimal

    from connector.services.audit import _normalize

    cases = [
        {},
        {"returned": 10},
        {"a": "x", "b": True, "c": None, "d": -3},
        {"n": 1.5},
        {"v": Decimal("1.20")},
        {"at": datetime(2026, 1, 1, tzinfo=UTC)},
        {"ids": ["a", "b"]},
        {"nested": {"k": [1, {"x": None}]}},
    ]
    for details in cases:
        normalized = _normalize(details)
        assert normalized == json.loads(json.dumps(details, default=str)), details
        assert normalized is not details
    assert _normalize({"v": Decimal("1.20")}) == {"v": "1.20"} and _normalize({"t": (1, 2)}) == {"t": [1, 2]}


# the event loop's own writer (PostgreSQL) ------------------------------------------------------------------------------


def test_async_entries_interleave_with_the_thread_writer_and_transactions(engine) -> None:
    """On PostgreSQL an event loop's entries are written by a task of that loop on its own connection; the thread
    writer and a service's transaction append to the same log meanwhile: one valid chain, every entry once."""
    writer = audit.AuditWriter(engine)

    async def main() -> None:
        async def reads(n: int) -> None:
            for i in range(n):
                await writer.append("reader", "pact.get", f"r{i}")

        async def others() -> None:
            for i in range(10):
                await asyncio.to_thread(writer.append_blocking, "thread", "pact.get", f"t{i}")
                with Session(engine) as session:
                    audit.append(session, "operator", "grant.created", f"g{i}")
                    session.commit()

        await asyncio.gather(*(reads(25) for _ in range(8)), others())

    asyncio.run(main())
    writer.close()
    check = _chain(engine)
    assert check.valid and check.entries == 8 * 25 + 20, check
    assert writer.batches < 8 * 25 + 10  # grouped


def test_a_failed_async_batch_fails_its_waiters_and_the_next_one_is_written(engine, monkeypatch) -> None:
    writer = audit.AuditWriter(engine)
    real = audit._chain

    def colliding(tail, batch):  # every row numbered after the tail as the first: the INSERT fails in the database
        return [(rows[0][0], *row[1:]) for rows in [real(tail, batch)] for row in rows]

    async def main() -> None:
        await writer.append("a", "pact.get", "before")  # the writer knows the tail: one round trip next
        monkeypatch.setattr(audit, "_chain", colliding)
        results = await asyncio.gather(
            *(writer.append("a", "pact.get", str(i)) for i in range(5)), return_exceptions=True
        )
        assert any(isinstance(r, Exception) for r in results)  # a batch of one would not collide: at least one did
        monkeypatch.undo()
        await writer.append("a", "pact.get", "after")  # on a new connection

    asyncio.run(main())
    writer.close()
    check = _chain(engine)
    assert check.valid, check
    with Session(engine) as session:
        subjects = [e.subject for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq))]
    assert subjects[0] == "before" and subjects[-1] == "after"
