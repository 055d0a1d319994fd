"""HTTP Strict Transport Security on HTTPS responses, as pure ASGI middleware.

A browser or client that has seen the header once refuses plain HTTP to the node for a year, so an operator's API key
cannot be sent in clear by a mistyped ``http://``. Plain-HTTP responses never carry it (RFC 6797 8.1: ignored there,
and a development node on http:// must not pin itself).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000")


class StrictTransportSecurity:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), HSTS]}
            await send(message)

        await self.app(scope, receive, send_with_hsts)
