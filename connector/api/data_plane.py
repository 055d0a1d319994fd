"""Requests through the Catena-X data plane stay under ``/catenax``, as pure ASGI middleware (docs/catena-x.md).

Our EDC data plane proxies a consumer's call to the PCF API and sets the ``Edc-Bpn`` header on it. The consumer
chooses the rest of the path: ``/catenax/../api/v1/...``, its encoded forms (``..%2f``, ``%2e%2e/``) or doubled
slashes, resolved by the data plane's HTTP client or by the server, could reach our other routes. Those need their own
credentials anyway, but nothing that came through the data plane may reach them at all: a request carrying
``Edc-Bpn`` is refused unless its path, as Starlette routes it (percent-decoded, root path removed) and again with
its empty and dot segments resolved, is ``/catenax`` or below. The refusal is the 404 an unknown ``/catenax`` path
gets, byte for byte the PCF API's ``{code, message}``: the caller learns nothing about what lies outside.
"""

from __future__ import annotations

import logging

from starlette._utils import get_route_path
from starlette.types import ASGIApp, Receive, Scope, Send

from .problems import protocol_error

log = logging.getLogger("connector.api")

EDC_BPN = b"edc-bpn"
PREFIX = "/catenax"


def resolved(path: str) -> str:
    """``path`` without empty or ``.`` segments and with each ``..`` taking its parent away (RFC 3986 5.2.4)."""
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    return "/" + "/".join(kept)


def _under(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def confined(path: str) -> bool:
    """Whether a data-plane request may have this (routed) path: it is under ``/catenax``, resolved or not."""
    return _under(path) and _under(resolved(path))


class DataPlaneConfinement:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(name.lower() == EDC_BPN for name, _ in scope.get("headers") or ()):
            await self.app(scope, receive, send)
            return
        path = get_route_path(scope)
        if confined(path):
            await self.app(scope, receive, send)
            return
        log.warning("refused a data-plane request outside %s: %s %r", PREFIX, scope.get("method"), path[:200])
        refusal = protocol_error(PREFIX, scope.get("method", ""), "", 404, "Not Found")
        assert refusal is not None  # /catenax is the PCF API's path
        await refusal(scope, receive, send)
