"""Durable outgoing messages: written in the caller's transaction, sent later by the worker.

A message is a neutral intent (:data:`INTENTS`) with a neutral body, and the protocol that carries it: the protocol's
adapter renders its wire message when the worker sends it. Rows written before intents (kind ``event`` with a PACT
CloudEvent as body, kind ``fetch-footprint``) have protocol ``pact`` (migration 0003) and its adapter still sends them.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from .. import protocols
from ..config import Settings
from ..services import audit
from ..storage import outbox_store
from ..storage import requests as request_rows
from ..storage.session_events import listen_once
from ..storage.tables import OutboxMessage, new_id
from ..storage.transaction_items import TransactionItems

ASK = "ask"
"""Ask a supplier for a footprint. Body: ``id`` (the request's event id), ``at``, ``productIds``, ``companyIds``, and
optional ``message``, ``dueDate``, ``verifierCertificates``."""
ANSWER = "answer"
"""Answer a customer's request. Body: ``id``, ``at``, ``requestId``, ``footprints`` (each a document of the protocol,
attested to the customer: rendered in the transaction that issued the attestation)."""
REJECT = "reject"
"""Refuse a customer's request. Body: ``id``, ``at``, ``requestId``, ``code``, ``reason``."""
CANCEL = "cancel"
"""Withdraw a request sent to a supplier, for a protocol that can say so. Body: ``id``, ``at``, ``requestId``."""
PUBLISH = "publish"
"""Tell a customer of new footprint versions. Body: ``id``, ``at``, ``footprintIds``."""
FETCH = "fetch"
"""Fetch a footprint a supplier announced, and receive it. Body: ``footprintId``."""
REFUSED = "refused"
"""Tell a supplier that footprints it sent were refused (issue 17: no silent refusals; decision 0019). Body: ``id``,
``at``, ``requestId`` (null for a version fetched after its announcement), ``reason``, ``whole`` (the whole answer was
refused; absent in messages queued before partial refusals, which were all whole) and ``footprints`` (each
``footprintId``, ``version`` or null, ``reason``). A courtesy: a partner whose protocol cannot take it refuses it, and
nothing else depends on it."""
INTENTS = (ASK, ANSWER, REJECT, CANCEL, PUBLISH, FETCH, REFUSED)

SEND_EVENT = "event"
"""A kind written before intents: a PACT CloudEvent to send as it is (still sent; written now only by tests)."""
FETCH_FOOTPRINT = "fetch-footprint"
"""A kind written before intents: body ``pfId`` (still sent)."""
LEASE = timedelta(seconds=60)
ENQUEUED = "outbox.enqueued"
"""``session.info`` key set by :func:`enqueue`: the transaction left a message for the worker to claim."""
DISPATCH = "outbox.dispatch"
"""``session.info`` key the session's owner sets when it will hand the committed messages to a running worker itself
(:func:`dispatched`): :func:`enqueue` then leases each message to that worker in the INSERT, and the worker sends it
without claiming it first. A crash before the delivery leaves it leased, so another claim takes it when the lease
runs out, as with a claimed message, or the worker's holder takes it back at once when it starts again
(:func:`reclaim`). Its value: the worker's lease holder id (``True``: none)."""
_LEASED = TransactionItems("outbox.leased")
_DISPATCHED = "outbox.dispatched"
_HANDING_OVER = "outbox.handing_over"
"""``session.info`` key: :func:`_committed` listens to this session's commits (from its first leased message on)."""


def iso(at: datetime) -> str:
    """A time in an intent's body: ISO 8601 in UTC."""
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def enqueue(
    session: Session,
    target_url: str,
    company_id: str,
    kind: str,
    body: dict[str, Any],
    at: datetime,
    *,
    protocol: str = "pact",
) -> str:
    """Write a message in the caller's transaction (one prepared INSERT on its connection: no unit of work); its id.

    With ``session.info[DISPATCH]`` the message is written leased (as a claim would lease it) and, once the
    transaction commits, :func:`dispatched` gives it to the session's owner for the worker; otherwise the worker
    claims it when woken (``ENQUEUED``) or at its next poll."""
    message_id = new_id()
    row = {
        "id": message_id,
        "target_url": target_url.rstrip("/"),
        "company_id": company_id,
        "kind": kind,
        "protocol": protocol,
        "body": body,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": at,
        "created_at": at,
    }
    dispatch = session.info.get(DISPATCH)
    if dispatch:
        row["attempts"], row["next_attempt_at"] = 1, at + LEASE
        row["holder"] = dispatch if isinstance(dispatch, str) else None
        outbox_store.insert_message(session, row)
        listen_once(session, _HANDING_OVER, _HAND_OVER_LISTENERS)  # this session's commits, not every session's
        _LEASED.add(session, OutboxMessage(**row))  # detached, as claim() returns a message; dropped on rollback
    else:
        outbox_store.insert_message(session, row)
        session.info[ENQUEUED] = True  # the request's session wakes the worker once this is committed
    return message_id


def _committed(session: OrmSession) -> None:
    if not session.in_nested_transaction():
        leased = _LEASED.take(session)
        if leased:
            session.info.setdefault(_DISPATCHED, []).extend(leased)


_HAND_OVER_LISTENERS = (("after_commit", _committed),)


def dispatched(session: Session) -> list[OutboxMessage]:
    """The leased messages of the session's committed transactions (see :data:`DISPATCH`), taken: the owner hands
    them to the worker (``OutboxWorker.submit``). None of a transaction or savepoint that rolled back."""
    return session.info.pop(_DISPATCHED, None) or []


def hand_over(session: Session, worker: Any) -> None:
    """After the session committed: its leased messages to ``worker`` (``submit``), and a wake-up when it left
    messages to claim (``wake``). ``worker`` None: nothing to tell (the leases and the poll still deliver)."""
    leased = dispatched(session)
    claim = session.info.pop(ENQUEUED, False)
    if worker is not None:
        if leased:
            worker.submit(leased)
        if claim:
            worker.wake()  # committed messages to claim: now rather than at the worker's next poll


def claim_due(session: Session, at: datetime, limit: int = 20, holder: str | None = None) -> list[OutboxMessage]:
    """Take due messages for sending: leased for LEASE so a crashed worker's messages come back.

    On PostgreSQL rows are claimed with ``FOR UPDATE SKIP LOCKED`` so several workers never take the same one.
    """
    return claim(session, at, limit, holder)[0]


def claim(
    session: Session, at: datetime, limit: int = 20, holder: str | None = None
) -> tuple[list[OutboxMessage], datetime | None]:
    """:func:`claim_due`, and when the next pending message falls due (None: nothing pending), in one transaction.

    The worker sleeps until then (or until woken), instead of polling a database that has nothing for it. One query
    reads the pending messages in due order, one more than ``limit``: the due ones are leased (one UPDATE), and the
    first row left (due or not) says when to look again. The messages are returned detached, as leased, with the
    lease recorded as ``holder``'s (see :func:`reclaim`).
    """
    pending = outbox_store.pending_in_due_order(session, limit + 1)
    due = [row for row in pending[:limit] if _aware(row.next_attempt_at, at) <= at]
    rest = pending[len(due) :]
    next_at = _aware(rest[0].next_attempt_at, at) if rest else None
    rows = []
    if due:
        lease = at + LEASE
        outbox_store.lease(session, [row.id for row in due], lease, holder)
        rows = [
            OutboxMessage(**{**row._mapping, "next_attempt_at": lease, "attempts": row.attempts + 1, "holder": holder})
            for row in due
        ]
        if next_at is None or next_at > lease:
            next_at = lease  # the lease of what was just taken runs out then, if it was never marked sent
    session.commit()
    return rows, next_at


def reclaim(session: Session, holder: str, at: datetime) -> int:
    """Make the messages leased to ``holder`` due now, in the caller's transaction; how many.

    A worker starting under the holder id it had before a crash calls this: its leases belonged to a worker that is
    gone, so its messages go out at once instead of when the leases run out. Leases of other holders (other
    processes on the same PostgreSQL database, alive or not) are left to run out."""
    return outbox_store.reclaim(session, holder, at)


def _aware(value: datetime, like: datetime) -> datetime:
    return value.replace(tzinfo=like.tzinfo) if value.tzinfo is None else value


def backoff(settings: Settings, attempts: int) -> timedelta:
    """Exponential backoff with full jitter, capped."""
    cap = min(settings.outbox_max_delay, settings.outbox_base_delay * (2 ** max(attempts - 1, 0)))
    return timedelta(seconds=random.uniform(cap / 2, cap))


def mark_sent(session: Session, message_ids: list[str], at: datetime) -> None:
    """Record the delivery of these messages (one UPDATE), in the caller's transaction."""
    if message_ids:
        outbox_store.mark_sent(session, message_ids, at)


def mark_failed(
    session: Session, settings: Settings, message_id: str, error: str, at: datetime, permanent: bool = False
) -> datetime | None:
    """Record a failed attempt; returns when the message is tried again (None: given up, or unknown)."""
    row = session.get(OutboxMessage, message_id)
    if row is None:
        return None
    row.last_error = error[:2000]
    retry_at = None
    if permanent or at - row.created_at >= settings.outbox_give_up_after:
        row.state = "failed"
        _gave_up(session, settings, row, at)
    else:
        retry_at = row.next_attempt_at = at + backoff(settings, row.attempts)
    session.add(row)
    return retry_at


def _gave_up(session: Session, settings: Settings, row: OutboxMessage, at: datetime) -> None:
    """A request that could not be delivered is closed as ``failed`` with the reason, in the same transaction: a
    request left ``pending`` would wait forever, and asking again would only return it."""
    if not isinstance(row.body, dict):
        return
    if row.kind == ASK:
        event_id = str(row.body.get("id"))
    elif row.kind in INTENTS:
        return
    else:  # a kind written before intents: its protocol knows whether it asked
        asked = protocols.adapter(row.protocol).request_asked(row.kind, row.body)
        if asked is None:
            return
        event_id = asked
    reason = f"could not be delivered to {row.target_url}: {row.last_error}"[:2000]
    if request_rows.fail_request(session, event_id, reason, at) is not None:
        audit.append(session, settings.company_id, "request.failed", event_id, to=row.company_id, reason=reason)


def retry_now(session: Session, at: datetime, company_id: str | None = None) -> int:
    """Make every pending message due now (e.g. when a partner announces it is back)."""
    rows = outbox_store.pending(session, company_id)
    for row in rows:
        row.next_attempt_at = at
        session.add(row)
    if rows:
        session.info[ENQUEUED] = True  # wake the worker once committed
    return len(rows)
