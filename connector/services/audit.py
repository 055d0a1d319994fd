"""Append-only, hash-chained audit log: every peer access and every attestation issued."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import json
import logging
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from ..storage import audit_log
from ..storage.session_events import listen_once
from ..storage.tables import utcnow
from ..storage.transaction_items import TransactionItems

GENESIS = "0" * 64
PG_LOCK = audit_log.PG_LOCK  # pg_advisory_xact_lock key serialising every append on PostgreSQL

log = logging.getLogger("connector.audit")


def _now() -> datetime:
    """Now, to the millisecond (one reading of the clock)."""
    now = utcnow()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _normalize(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` as they will read back from the JSON column (so the hash is computed on what is stored)."""
    if not details:
        return {}
    if all(type(v) in _JSON_SCALARS for v in details.values()):  # reads back as it is (keys are str: keywords)
        return dict(details)
    return json.loads(json.dumps(details, default=str))


_JSON_SCALARS = frozenset({str, int, bool, type(None)})
"""Types whose values a JSON column gives back equal and of the same type (not float: 1e16 reads back as 1e+16)."""


def _digest(prev: str, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]) -> str:
    body = json.dumps(
        {"prev": prev, "at": at.isoformat(), "actor": actor, "action": action, "subject": subject, "details": details},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


class _Entry(NamedTuple):
    """An entry of a transaction, written at its commit."""

    actor: str
    action: str
    subject: str
    details: dict[str, Any]


_PENDING = TransactionItems("connector.audit.pending")
"""The entries of the session's transaction, written at its commit."""


def append(session: Session, actor: str, action: str, subject: str = "", **details: Any) -> None:
    """Add an entry to the caller's transaction.

    The entries of a transaction are chained after the last entry and written together when it commits (one read of
    the last entry and one INSERT for all of them, under the write lock: see :func:`_write_pending`); if it rolls
    back they are gone, and so are the ones added inside a savepoint that rolls back.
    """
    if not session.in_transaction():
        session.begin()  # so that a rollback before anything else touched the database still ends it (and the entry)
    _PENDING.add(session, _Entry(actor, action, subject, _normalize(details)))
    listen_once(session, _LISTENING, _LISTENERS)  # this session's hooks, not every session's of the process


def _write_pending(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its entries stay pending, for the enclosing transaction's commit
    pending = _PENDING.take(session)
    if pending:
        # core SQL on the session's connection: no unit of work; the write generation sees it and skips it (audit log)
        _append_batch(session.connection(), pending)


def _committed(session: OrmSession) -> None:
    if not session.in_nested_transaction() and _PENDING.pending(session):
        # only if a root transaction was committed with a savepoint still open
        log.error("%d audit entries added after the commit began were not written", len(_PENDING.pending(session)))


_LISTENING = "connector.audit.listening"
_LISTENERS = (("before_commit", _write_pending), ("after_commit", _committed))


@dataclass
class ChainCheck:
    valid: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None


def check_chain(session: Session) -> ChainCheck:
    """Recompute every hash; report the first entry that does not chain or whose content changed."""
    prev = GENESIS
    count = 0
    for entry in audit_log.entries(session):
        count += 1
        if entry.prev_hash != prev:
            return ChainCheck(False, count, entry.seq, "previous hash does not match (entry removed or reordered)")
        if _digest(prev, entry.at, entry.actor, entry.action, entry.subject, entry.details) != entry.hash:
            return ChainCheck(False, count, entry.seq, "entry content changed")
        prev = entry.hash
    return ChainCheck(True, count)


# group commit -------------------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    actor: str
    action: str
    subject: str
    details: dict[str, Any]
    future: concurrent.futures.Future[None] | asyncio.Future[None]
    loop: asyncio.AbstractEventLoop | None = None  # set for an asyncio future (completed on its loop)


def _settle_on_loop(futures: list[asyncio.Future[None]], exc: BaseException | None) -> None:
    for future in futures:
        if future.done():  # its caller gave up waiting
            continue
        if exc is None:
            future.set_result(None)
        else:
            future.set_exception(exc)


class AuditWriter:
    """Group commit of audit entries for one engine (docs/decisions/0007-pact-read-path.md).

    Callers submit an entry and wait for it; one flusher thread appends every entry waiting at that moment in one
    write transaction (the SQLite write lock or the PostgreSQL advisory lock, as :func:`append`), chaining them in
    submission order, commits, and only then completes their futures. So an entry is durable before its caller
    goes on, exactly as with :func:`append`, but N concurrent callers pay for one transaction, not N queued ones.
    If the transaction fails, every caller of that batch gets the exception and nothing of the batch is written.

    The thread starts on the first submission and exits when idle for ``idle_exit`` seconds (it is started again on
    the next one); :meth:`close` writes what is queued and stops it. Entries written by :func:`append` in other
    transactions (or other processes) interleave safely: each batch is chained after the last entry as read under
    the lock (on PostgreSQL, the INSERT checks there that the tail the thread remembers is still the last entry).
    """

    def __init__(self, engine: Engine, *, max_batch: int = 1000, idle_exit: float = 2.0) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.idle_exit = idle_exit
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._loop_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopWriter] = (
            weakref.WeakKeyDictionary()
        )
        self.batches = 0  # transactions committed (for tests and diagnostics)

    def submit(self, actor: str, action: str, subject: str = "", **details: Any) -> concurrent.futures.Future[None]:
        """Queue an entry; the future completes once it is committed (or fails with the commit's error)."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._enqueue(_Pending(actor, action, subject, _normalize(details), future))
        return future

    def _enqueue(self, pending: _Pending) -> None:
        with self._cond:
            self._queue.append(pending)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-group-commit", daemon=True)
                self._thread.start()
            else:
                self._cond.notify()

    async def append(self, actor: str, action: str, subject: str = "", **details: Any) -> None:
        """Queue an entry and wait, without blocking the event loop, until it is committed. On PostgreSQL the
        entries of an event loop are written by a task of that loop (:class:`_LoopWriter`), not the thread."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        pending = _Pending(actor, action, subject, _normalize(details), future, loop)
        if self.engine.dialect.name == "postgresql":
            writer = self._loop_writers.get(loop)
            if writer is None:
                writer = self._loop_writers[loop] = _LoopWriter(self, loop)
            writer.enqueue(pending)
        else:
            self._enqueue(pending)
        await future

    def append_blocking(self, actor: str, action: str, subject: str = "", **details: Any) -> None:
        """Queue an entry and wait in this thread until it is committed."""
        self.submit(actor, action, subject, **details).result()

    def close(self, timeout: float | None = 30.0) -> None:
        """Write everything queued, then stop the flusher (a later submission starts it again)."""
        with self._cond:
            thread = self._thread
            self._stopping = True
            self._cond.notify_all()
        try:
            if thread is not None:
                thread.join(timeout)
        finally:
            with self._cond:
                self._stopping = False

    def _take(self) -> list[_Pending] | None:
        with self._cond:
            while not self._queue:
                if self._stopping or not self._cond.wait(self.idle_exit) and not self._queue:
                    self._thread = None
                    return None
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        for pending in batch:
            # running: a caller that gives up waiting can no longer cancel it; an entry whose caller gave up
            # before is written all the same (the read it records happened)
            if isinstance(pending.future, concurrent.futures.Future):
                pending.future.set_running_or_notify_cancel()
        return batch

    @staticmethod
    def _settle(batch: list[_Pending], exc: BaseException | None) -> None:
        """Complete the batch's futures: thread waiters here, each event loop's in one call on that loop."""
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for pending in batch:
            if pending.loop is not None:
                by_loop.setdefault(pending.loop, []).append(pending.future)  # type: ignore[arg-type]
            elif not pending.future.cancelled():
                if exc is None:
                    pending.future.set_result(None)
                else:
                    pending.future.set_exception(exc)
        for loop, futures in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle_on_loop, futures, exc)
            except RuntimeError:  # that loop is closed: nobody waits there any more
                pass

    def _run(self) -> None:
        conn: Connection | None = None  # one connection while the thread lives: no pool checkout (or ping) per batch
        tail: audit_log.Tail | None = None  # the log's last entry as this thread's last batch left it
        try:
            while (batch := self._take()) is not None:
                try:
                    conn = conn if conn is not None else self._connect()
                    tail = _write_batch(conn, batch, tail)
                except BaseException as exc:  # noqa: BLE001 - every waiting caller must hear of it
                    log.error("audit batch of %d entries not written: %s", len(batch), exc)
                    tail = None
                    if conn is not None:
                        conn.invalidate()  # it may be broken (or mid-transaction): closed, never back to the pool
                        conn.close()
                        conn = None
                    self._settle(batch, exc)
                    if not isinstance(exc, Exception):
                        with self._cond:
                            self._thread = None
                        raise
                else:
                    self.batches += 1
                    self._settle(batch, None)
        finally:
            if conn is not None:
                conn.close()

    def _connect(self) -> Connection:
        conn = self.engine.connect()
        if conn.dialect.name == "postgresql":
            # nothing prepared behind our back (BEGIN and COMMIT cannot be); the batch INSERT asks for it itself
            conn.connection.driver_connection.prepare_threshold = None  # type: ignore[union-attr]
        return conn


def _connection_parameters(engine: Engine) -> tuple[str, str | None]:
    """What a connection of the engine's pool was opened with (its URL and connect_args, such as a search_path
    option): the DSN and password psycopg reports, for a connection opened outside the pool."""
    raw = engine.raw_connection()
    try:
        info = raw.driver_connection.info  # type: ignore[union-attr]
        return info.dsn, info.password
    finally:
        raw.close()


LOOP_IDLE_EXIT = 30.0
"""Seconds an event loop's writer keeps its connection without entries (a reconnect costs a batch ~10 ms)."""


class _LoopWriter:
    """The group commit of one event loop's entries on PostgreSQL, as a task of that loop on a psycopg
    ``AsyncConnection``: the round trip is awaited like any other socket of the loop, where the thread had to win the
    GIL back from the busy loop after each one (up to the 5 ms switch interval, paid by every waiting request). The
    entries queued while a batch is written go together in the next; the task ends, closing its connection, once
    nothing came for :data:`LOOP_IDLE_EXIT` seconds (or the loop is closed)."""

    def __init__(self, owner: AuditWriter, loop: asyncio.AbstractEventLoop) -> None:
        self.owner, self.loop = owner, loop
        self.queue: list[_Pending] = []
        self.task: asyncio.Task[None] | None = None
        self.wake = asyncio.Event()

    def enqueue(self, pending: _Pending) -> None:
        self.queue.append(pending)
        self.wake.set()
        if self.task is None:
            self.task = self.loop.create_task(self._run())

    async def _connect(self) -> Any:
        from psycopg import AsyncConnection

        dsn, password = await asyncio.to_thread(_connection_parameters, self.owner.engine)
        return await AsyncConnection.connect(dsn, password=password, autocommit=True, prepare_threshold=None)

    async def _run(self) -> None:
        conn: Any = None
        tail: audit_log.Tail | None = None
        dialect = self.owner.engine.dialect
        try:
            while True:
                if not self.queue:
                    self.wake.clear()
                    try:
                        await asyncio.wait_for(self.wake.wait(), max(self.owner.idle_exit, LOOP_IDLE_EXIT))
                    except TimeoutError:
                        return  # idle: the connection is closed below
                    continue
                batch = self.queue[: self.owner.max_batch]
                del self.queue[: len(batch)]
                try:
                    conn = conn if conn is not None else await self._connect()
                    tail = await audit_log.append_in_own_transaction_pg_async(
                        conn, dialect, functools.partial(_chain, batch=batch), tail
                    )
                except Exception as exc:  # noqa: BLE001 - every waiting caller must hear of it
                    log.error("audit batch of %d entries not written: %s", len(batch), exc)
                    tail = None
                    if conn is not None:
                        await conn.close()
                        conn = None
                    _settle_on_loop([p.future for p in batch], exc)  # type: ignore[misc]
                else:
                    self.owner.batches += 1
                    _settle_on_loop([p.future for p in batch], None)  # type: ignore[misc]
        finally:
            self.task = None
            if conn is not None:
                await conn.close()


def _write_batch(
    conn: Connection, batch: Sequence[_Entry | _Pending], tail: audit_log.Tail | None = None
) -> audit_log.Tail:
    """Append ``batch`` in its own transaction; the log's new tail. ``tail``, the tail this connection's last batch
    left, lets PostgreSQL do it in one round trip when nobody else appended since."""
    if conn.dialect.name == "postgresql":
        return audit_log.append_in_own_transaction_pg(conn, lambda last: _chain(last, batch), tail)
    with conn.begin():
        return _append_batch(conn, batch)


def _chain(tail: audit_log.Tail | None, batch: Sequence[_Entry | _Pending]) -> list[tuple[Any, ...]]:
    """The rows of ``batch`` numbered and chained after ``tail`` (the log's last entry; None: it is empty)."""
    seq, prev = tail if tail is not None else (0, GENESIS)
    at = _now()
    rows = []
    for p in batch:
        seq += 1
        digest = _digest(prev, at, p.actor, p.action, p.subject, p.details)
        rows.append((seq, at, p.actor, p.action, p.subject, p.details, prev, digest))
        prev = digest
    return rows


def _append_batch(conn: Connection, batch: Sequence[_Entry | _Pending]) -> audit_log.Tail:
    """Chain ``batch`` after the last entry, in order, in the connection's (write) transaction: a transaction's own
    entries at its commit, or a batch of the group-commit writer on SQLite."""
    rows = _chain(audit_log.lock_and_read_tail(conn), batch)
    audit_log.insert_rows(conn, rows)
    return rows[-1][0], rows[-1][-1]
