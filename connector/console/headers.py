"""The console's private-page headers on every answer under ``/console``, as pure ASGI middleware.

Pages get them from ``render.finish``; this adds whichever are missing to everything else the console's paths answer:
an unknown path or method (problem+json for a client that does not ask for HTML), a body over the limit refused
before any route runs, the static files. A static file served keeps its caching (no ``Cache-Control: no-store``: it
holds nothing private, and every page loads it)."""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .render import PREFIX, PRIVATE, under_console

STATIC = f"{PREFIX}/static/"


class ConsoleHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not under_console(path := get_route_path(scope)):
            await self.app(scope, receive, send)
            return
        static = path.startswith(STATIC)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                asset = static and message["status"] < 400  # a file served, or "not modified"
                for name, value in PRIVATE.items():
                    if name not in headers and not (asset and name == "Cache-Control"):
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
