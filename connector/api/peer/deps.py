"""Peer authentication for every ``/3`` route: identity is checked before any state is touched."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ...errors import Unauthenticated
from ...services import tokens
from ...services.context import NodeContext


class InvalidToken(Unauthenticated):
    pact_code = "BadRequest"


async def get_caller(request: Request) -> tokens.Caller:
    """No database work: the access token is an HMAC the node checks alone (so no session, no thread hop)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value:
        raise InvalidToken("a bearer access token from /auth/token is required")
    try:
        settings = request.app.state.settings
        caller = tokens.verify_access_token(request.app.state.token_secret, value.strip(),
                                            settings.public_url.rstrip("/"), NodeContext.now())
    except tokens.TokenExpired:
        raise
    except Unauthenticated:
        raise InvalidToken("invalid access token") from None
    request.state.caller = caller
    return caller


def issuer_of(ctx: NodeContext) -> str:
    return ctx.settings.public_url.rstrip("/")


CallerDep = Annotated[tokens.Caller, Depends(get_caller)]
