"""Peer authentication for every ``/3`` route: identity is checked before any state is touched."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from ...errors import Unauthenticated
from ...services import tokens
from ...services.context import NodeContext


class InvalidToken(Unauthenticated):
    pact_code = "BadRequest"


def _token_cache(app: Any) -> tokens.AccessTokenCache:
    cache = getattr(app.state, "access_token_cache", None)
    if cache is None:
        issuer = app.state.settings.public_url.rstrip("/")
        cache = app.state.access_token_cache = tokens.AccessTokenCache(app.state.token_secret, issuer)
    return cache


async def get_caller(request: Request) -> tokens.Caller:
    """No database work: the access token is an HMAC the node checks alone (so no session, no thread hop);
    a valid token is remembered until it expires (:class:`tokens.AccessTokenCache`)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise InvalidToken("a bearer access token from /auth/token is required")
    try:
        caller = _token_cache(request.app).verify(value.strip(), NodeContext.now())
    except tokens.TokenExpired:
        raise
    except Unauthenticated:
        raise InvalidToken("invalid access token") from None
    request.state.caller = caller
    return caller


def issuer_of(ctx: NodeContext) -> str:
    return ctx.settings.public_url.rstrip("/")


CallerDep = Annotated[tokens.Caller, Depends(get_caller)]
