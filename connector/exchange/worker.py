"""The outbox worker: sends due messages with exponential backoff and jitter, gives up after the configured time.

Each message goes out through its protocol's adapter (``connector.protocols.adapter(message.protocol)``), which turns
the intent into its wire message and sends it with the peer client the worker holds."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from .. import protocols
from ..config import Settings
from ..protocols import PeerError
from ..services.context import NodeContext
from ..services.identity import NodeIdentity
from ..storage.tables import OutboxMessage
from . import outbox, receipt

log = logging.getLogger("connector.outbox")


class OutboxWorker:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        identity: NodeIdentity | None,
        client: Any,
        *,
        poll_interval: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        holder: str | None = None,
    ) -> None:
        self.engine, self.settings, self.identity, self.client = engine, settings, identity, client
        self.holder = holder or f"process-{uuid.uuid4()}"
        """Recorded on every lease this worker takes. A stable one (``runtime.lease_holder``: the data dir's node id
        and the process's worker slot) lets the worker started after a crash take its leases back at once."""
        self.reclaimed = 0
        self.poll_interval = poll_interval
        self.clock = clock or (lambda: datetime.now(UTC))
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._claim = True
        """Whether the next pass claims from the database: at start, after a poll or due time, on :meth:`wake`; not
        when the wake-up only brought submitted messages."""
        self._submitted: list[OutboxMessage] = []
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """Started and not stopping: messages leased to this worker (:meth:`submit`) will be sent by it."""
        return self._task is not None and not self._stopping

    def submit(self, messages: Iterable[OutboxMessage]) -> None:
        """Send these messages, already leased to this worker by the transaction that wrote them (committed), at
        the next pass, without claiming them; safe from any thread. Ones still unsent when the worker stops are
        sent by a later claim once their lease runs out."""
        with self._lock:
            self._submitted.extend(messages)
        self._set_wake()

    def wake(self) -> None:
        """Claim and send now instead of at the next poll; safe from any thread (request handlers run on the thread
        pool)."""
        with self._lock:
            self._claim = True
        self._set_wake()

    def _set_wake(self) -> None:
        loop = self._loop
        if loop is None:
            self._wake.set()
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name=f"outbox-{self.settings.node_name}")

    async def stop(self) -> None:
        """Cancel the loop and wait until it has ended. A cancellation that the loop does not see (Python 3.11's
        ``asyncio.wait_for`` drops one that lands with the wake-up it waits for) still ends it: the loop checks
        ``_stopping`` before each pass. A cancellation of ``stop`` itself is not swallowed."""
        self._stopping = True
        task = self._task
        if task is None:
            return
        task.cancel()
        await asyncio.wait({task})

    async def _run(self) -> None:
        """Send what is due; then sleep until the next message falls due, a wake-up, or ``poll_interval`` at most.

        Every commit that leaves a message hands it to the worker leased (:meth:`submit`) or wakes it to claim (see
        ``api.deps.write_session``), so the poll only catches messages written by another process (a second worker,
        the CLI) and leases that ran out.
        """
        try:
            self.reclaimed = await asyncio.to_thread(self._reclaim)
            if self.reclaimed:
                log.info("took back %d message(s) leased to %s before a restart", self.reclaimed, self.holder)
        except Exception:  # the leases still run out; never stop the worker for this
            log.exception("outbox reclaim failed")
        while not self._stopping:
            self._wake.clear()
            if self.identity is not None and self.identity.reload_crls():
                log.info("CRL files changed: revocations reloaded")
            with self._lock:
                claim, self._claim = self._claim, False
            try:
                await self.run_once(claim=claim)
            except Exception:  # the loop must survive anything; the message stays pending
                log.exception("outbox pass failed")
            # a pass that sent something knows the next due time as well as one that sent nothing: claiming again
            # straight away would only find the queue empty (a commit that leaves a message sets the wake event)
            if not self._wake.is_set():
                delay = self.poll_interval
                if self._next_at is not None:
                    delay = min(delay, max((self._next_at - self.clock()).total_seconds(), 0.0))
                try:
                    async with asyncio.timeout(delay):  # not wait_for: see stop()
                        await self._wake.wait()
                except TimeoutError:
                    with self._lock:
                        self._claim = True  # the poll, or the next due time: look in the database

    _next_at: datetime | None = None

    async def run_once(self, *, claim: bool = True) -> int:
        """Send every submitted message and, with ``claim``, every due one in the database; returns how many were
        handled.

        Messages to different peers go out concurrently; to one peer, in the order they were written. The events
        delivered are marked sent together, in one transaction after the pass (a crash before that sends them again
        once their lease runs out: receivers drop a repeated event id).
        """
        with self._lock:
            submitted, self._submitted = self._submitted, []
        due = (await asyncio.to_thread(self._claim_due) if claim else []) + submitted
        by_target: dict[str, list[OutboxMessage]] = {}
        for message in due:
            by_target.setdefault(message.target_url, []).append(message)
        sent: list[str] = []

        async def in_order(messages: list[OutboxMessage]) -> None:
            for message in messages:
                if await self._deliver(message):
                    sent.append(message.id)

        try:
            for result in await asyncio.gather(*(in_order(m) for m in by_target.values()), return_exceptions=True):
                if isinstance(result, BaseException):  # the message stays pending (leased) and is retried
                    log.error("outbox delivery failed", exc_info=result)
        finally:
            if sent:
                await asyncio.to_thread(self._sent, sent)
        return len(due)

    def _reclaim(self) -> int:
        with Session(self.engine) as session:
            count = outbox.reclaim(session, self.holder, self.clock())
            session.commit()
            return count

    def _claim_due(self) -> list[OutboxMessage]:
        with Session(self.engine, expire_on_commit=False) as session:
            rows, self._next_at = outbox.claim(session, self.clock(), holder=self.holder)
            return rows

    def _failed(self, message: OutboxMessage, exc: PeerError) -> None:
        with Session(self.engine) as session:
            retry_at = outbox.mark_failed(
                session, self.settings, message.id, str(exc), self.clock(), permanent=exc.permanent
            )
            session.commit()
        if retry_at is not None and (self._next_at is None or retry_at < self._next_at):
            self._next_at = retry_at  # the claim that leased the message saw its lease, not its retry time

    def _sent(self, message_ids: list[str]) -> None:
        with Session(self.engine) as session:
            outbox.mark_sent(session, message_ids, self.clock())
            session.commit()

    def _fetched(self, message: OutboxMessage, fetched: dict[str, Any]) -> None:
        """Store a fetched footprint and record the delivery in one transaction; the messages it left go to this
        worker (leased), as a request's do."""
        with Session(self.engine, expire_on_commit=False) as session:
            session.info[outbox.DISPATCH] = self.holder
            receipt.receive_fetched(
                NodeContext(session, self.settings, self.identity),
                message.company_id,
                fetched,
                protocol=message.protocol,
            )
            outbox.mark_sent(session, [message.id], self.clock())
            session.commit()
            outbox.hand_over(session, self)

    async def _deliver(self, message: OutboxMessage) -> bool:
        """Send one message; True when it was delivered (for the caller to mark sent), False when it failed or was a
        fetch (stored and marked sent here)."""
        try:
            try:
                adapter = protocols.adapter(message.protocol)
            except protocols.UnknownProtocol as exc:
                raise PeerError(str(exc), permanent=True) from None
            fetched = await adapter.deliver(self.client, message, source=self.settings.public_url.rstrip("/"))
        except PeerError as exc:
            log.info("outbox %s to %s failed (attempt %d): %s", message.kind, message.target_url, message.attempts, exc)
            await asyncio.to_thread(self._failed, message, exc)
            return False
        if fetched is None:
            return True
        # database work never runs on the event loop: a blocked SQLite lock would stall every node in the process
        await asyncio.to_thread(self._fetched, message, fetched)
        return False
