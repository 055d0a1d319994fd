"""Peer authentication for every ``/3`` route: identity is checked before any state is touched."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ...errors import Unauthenticated
from ...services import tokens
from ...services.context import NodeContext

log = logging.getLogger("connector.peer")


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
    if caller.certificates:
        _not_revoked(request.app, caller)
    if caller.method == "client_secret_basic":
        await _client_stands(request.app, caller)
    request.state.caller = caller
    return caller


class RevokedCaller(Unauthenticated):
    pact_code = "AccessDenied"


def _not_revoked(app: Any, caller: tokens.Caller) -> None:
    """The certificate the caller's token was issued on is not revoked by the node's current CRLs. Checked once per
    caller and trust store: a reloaded CRL (a new store, ``NodeIdentity.reload_crls``) checks every caller again on
    its next call."""
    identity = app.state.identity
    trust = identity.trust if identity is not None else None
    checked = getattr(app.state, "revocation_checked", None)
    if checked is None or checked[0] is not trust:
        checked = app.state.revocation_checked = (trust, set[tokens.Caller]())
    if caller in checked[1]:
        return
    reason = tokens.revoked(trust, caller, NodeContext.now())
    if reason is not None:
        log.warning("access token of %s refused: %s", caller.company_id, reason)
        raise RevokedCaller("the certificate this access token was issued on is revoked")
    if len(checked[1]) >= 10_000:
        checked[1].clear()
    checked[1].add(caller)


def _client_states(app: Any) -> tokens.ClientStates:
    states = getattr(app.state, "client_states", None)
    if states is None:
        states = app.state.client_states = tokens.ClientStates(app.state.settings.pact_read_cache_ttl)
    return states


async def _client_stands(app: Any, caller: tokens.Caller) -> None:
    """The client credential the caller's token was issued under was neither rotated nor revoked since (decision
    0029): remembered per client, read again (one row by key) after a relevant commit or ``pact_read_cache_ttl``."""
    states = _client_states(app)
    remembered = states.remembered(caller.client_id) if caller.client_id else (None,)
    if remembered is None:

        def read() -> tuple[int, bool] | None:
            with Session(app.state.engine) as session:
                return states.read(session, caller.client_id)

        state = await run_in_threadpool(read)
    else:
        state = remembered[0]
    if not states.stands(caller, state):
        raise RevokedCaller("the client credentials this access token was issued under were rotated or revoked")


def issuer_of(ctx: NodeContext) -> str:
    return ctx.settings.public_url.rstrip("/")


CallerDep = Annotated[tokens.Caller, Depends(get_caller)]
