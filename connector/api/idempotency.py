"""``Idempotency-Key`` on the operator API's writes: a retry gets the first response instead of a second write.

The key is recorded in the write's own transaction (``deps.get_session`` inserts it just before the commit), so it
exists exactly when the write does; the response is added to it before it is sent. A client whose connection or
whose node's database connection failed (a 503, a reset, a timeout) sends the request again with the same key and
gets: the stored response, when the write was committed; a first execution, when it was not; or, in the narrow case
of a write committed whose response could not be recorded, a 409 saying so (read the resource back). Only
successful writes record a key: an error leaves nothing, so the retry runs again. Keys are scoped to the API key
(or a user's access token) presenting them and kept for :data:`RETENTION`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import Conflict, ConnectorError, ValidationFailed
from ..storage import idempotency_keys
from ..storage.db import read_only
from ..storage.tables import IdempotentResponse, utcnow
from .problems import problem

log = logging.getLogger("connector.api")

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
RETENTION = timedelta(hours=24)
MAX_KEY = 200
PREFIX = "/api/v1/"
SECRET_PATHS = ("/api/v1/api-keys", "/api/v1/pact-clients", "/api/v1/auth/")
"""Writes whose response holds a secret shown once: never stored, so they take no key."""
STATE = "connector_idempotency"
NOT_RECORDED = 0
"""``status`` of a key whose write committed but whose response was not recorded."""


@dataclass
class Pending:
    key: str
    method: str
    path: str
    fingerprint: str
    committed: bool = False


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())  # each part hashed on its own: no ambiguity at the joins
    return h.hexdigest()


def pending(request: Request) -> Pending | None:
    """The key of this request, to record with its write (see :func:`record`)."""
    return request.scope.get("state", {}).get(STATE)


def record(session: Session, entry: Pending) -> None:
    """Record the key in the write's transaction, just before it commits (``deps.get_session``); expired keys go."""
    now = utcnow()
    session.flush()  # the write's own rows first: their errors are theirs
    idempotency_keys.forget_before(session, now - RETENTION)
    session.add(
        IdempotentResponse(
            key=entry.key,
            method=entry.method,
            path=entry.path[:500],
            request_hash=entry.fingerprint,
            status=NOT_RECORDED,
            media_type="",
            body="",
            created_at=now,
        )
    )
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(
            f"a request with this {HEADER} was completed at the same moment; send it again to get its response"
        ) from None
    entry.committed = True  # once the commit succeeds; deps.get_session raises otherwise


def _stored(engine: Any, key: str) -> IdempotentResponse | None:
    with Session(read_only(engine), expire_on_commit=False) as session:
        row = session.get(IdempotentResponse, key)
        return row if row is not None and row.created_at >= utcnow() - RETENTION else None


def _respond(engine: Any, key: str, status: int, media_type: str, body: bytes) -> None:
    idempotency_keys.store_response(engine, key, status, media_type, body.decode())


class IdempotencyKeys:
    """ASGI middleware: answers a repeated key from the store, and adds the response to a key its write recorded."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get(HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        try:
            await self._keyed(request, key, send)
        except ConnectorError as exc:
            await problem(request, exc.status, exc.type_, exc.title, exc.detail, exc.errors)(scope, receive, send)

    async def _keyed(self, request: Request, key: str, send: Send) -> None:
        scope = request.scope
        if scope["path"].startswith(SECRET_PATHS):
            raise ValidationFailed(
                f"this operation's response holds a secret shown once: it takes no {HEADER}",
                errors=[{"field": HEADER, "message": "not accepted here"}],
            )
        if not key.strip() or len(key) > MAX_KEY:
            raise ValidationFailed(
                f"{HEADER} must be 1 to {MAX_KEY} characters", errors=[{"field": HEADER, "message": "invalid"}]
            )
        body = await request.body()
        engine = scope["app"].state.engine
        entry = Pending(
            # scoped to the credential: the API key, else a user's bearer access token
            _digest(
                (request.headers.get("X-API-Key") or request.headers.get("Authorization", "")).encode(), key.encode()
            ),
            scope["method"],
            scope["path"],
            _digest(scope["method"].encode(), scope["path"].encode(), body),
        )
        stored = await run_in_threadpool(_stored, engine, entry.key)
        if stored is not None:
            if stored.request_hash != entry.fingerprint:
                raise ValidationFailed(
                    f"this {HEADER} was used for a different request; use a new key",
                    errors=[{"field": HEADER, "message": "reused for another request"}],
                )
            if stored.status == NOT_RECORDED:
                raise Conflict(
                    f"the write sent with this {HEADER} was committed, but its response was not recorded: "
                    "read the resource back"
                )
            headers = [(b"content-type", stored.media_type.encode()), (REPLAYED.lower().encode(), b"true")]
            await send({"type": "http.response.start", "status": stored.status, "headers": headers})
            await send({"type": "http.response.body", "body": stored.body.encode()})
            return
        scope.setdefault("state", {})[STATE] = entry
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        start: Message | None = None
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                if entry.committed and 200 <= start["status"] < 300:
                    media = dict(start.get("headers", [])).get(b"content-type", b"application/json").decode()
                    try:  # before the client sees it: a retry then gets this response back
                        await run_in_threadpool(_respond, engine, entry.key, start["status"], media, b"".join(chunks))
                    except Exception:  # noqa: BLE001 - the write is done; a retry is told so (NOT_RECORDED)
                        log.warning("the response of an idempotent write could not be recorded", exc_info=True)
                await send(start)
                await send({"type": "http.response.body", "body": b"".join(chunks)})
                return
            await send(message)

        await self.app(scope, replay, buffer)
