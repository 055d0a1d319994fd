"""Request-body size limit as pure ASGI middleware: refuses early on Content-Length, and counts when streamed.

Two limits: ``max_bytes`` for every route (the operator API, token requests, ...) and ``max_event_bytes`` for the
peer endpoints that carry evidence (``POST /3/events``, ``POST /peer/v1/certifications``): a RequestFulfilledEvent
holds the nested sealed evidence of the whole supply chain below the sender and grows with its depth.
"""

from __future__ import annotations

import inspect
import json

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import protocol_error


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing re-raises it (a plain exception became a 400 "error parsing")."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"the request body exceeds {max_bytes} bytes")


EVENT_PATHS = frozenset({"/3/events", "/peer/v1/certifications", "/api/v1/verify", "/console/verify"})
"""The routes that carry evidence and accept ``max_event_bytes`` (exact paths, POST only): the peer events and
certification requests, and the verifier node's bundle verification (operator API and console upload)."""


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int, max_event_bytes: int | None = None) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.max_event_bytes = max(max_bytes, max_event_bytes or max_bytes)

    def limit_for(self, scope: Scope) -> int:
        if scope.get("method") == "POST" and scope.get("path", "").rstrip("/") in EVENT_PATHS:
            return self.max_event_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = framed = None
        for name, value in scope.get("headers") or ():
            if name == b"content-length":
                length = value
            elif name == b"transfer-encoding":
                framed = value
        if length is None and framed is None and scope.get("http_version") in ("1.0", "1.1"):
            # HTTP/1.x: a request with neither header has no body (RFC 9112 section 6.3), nothing to count (most GETs)
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        if length is not None and length.isdigit() and int(length) > limit:
            await self._reject(scope, receive, send, limit)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._reject(scope, receive, send, limit)

    async def _reject(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """The 413 the app's own handler gives one raised in a route (each protocol's error body on its paths, the
        console's page for a browser, problem+json elsewhere); the same bodies built here without an app."""
        handler = getattr(scope.get("app"), "exception_handlers", {}).get(HTTPException)
        if handler is not None:
            response = handler(Request(scope), BodyTooLarge(limit))
            if inspect.isawaitable(response):
                response = await response
            await response(scope, receive, send)
            return
        path = scope.get("path", "")
        detail = f"the request body exceeds {limit} bytes"
        query = (scope.get("query_string") or b"").decode("latin-1")
        own = protocol_error(path, scope.get("method", ""), query, 413, detail)
        if own is not None:  # Catena-X's or DTS's own error body on their paths
            await send({"type": "http.response.start", "status": 413, "headers": own.raw_headers})
            await send({"type": "http.response.body", "body": own.body})
            return
        body: dict[str, str | int]
        if path.startswith("/3/"):
            body, ctype = {"code": "BadRequest", "message": "request body too large"}, b"application/json"
        else:
            body = {
                "type": "https://battery-cfp-connector.dev/problems/request-body-too-large",
                "title": "Request body too large",
                "status": 413,
                "detail": detail,
                "instance": path,
            }
            ctype = b"application/problem+json"
        raw = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(raw)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": raw})
