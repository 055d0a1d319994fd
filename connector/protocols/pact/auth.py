"""OAuth2 client credentials (RFC 6749 section 4.4) with private_key_jwt (RFC 7523) or client_secret_basic."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ...api.deps import ContextDep
from ...errors import InvalidSignature, Unauthenticated
from ...services import audit, tokens
from ...services.context import NodeContext
from ...services.login_throttle import client_address, client_throttle_of
from .deps import issuer_of

router = APIRouter(tags=["peer: auth"])


def _oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Basic realm="connector"'}
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**(headers or {}), "Cache-Control": "no-store"},
    )


_TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not a client-credentials request (RFC 6749 error body)"},
    401: {"description": "Client authentication failed (`invalid_client`)"},
    429: {
        "description": "Too many failed client authentications from this address or for this client id (Retry-After)"
    },
}


@router.post("/auth/token", summary="Get an access token (client credentials)", responses=_TOKEN_ERRORS)
async def token(request: Request, ctx: ContextDep) -> JSONResponse:
    """Exchange client credentials for a short-lived access token bound to the caller's company id.

    Too many failed client authentications from one address (``login_throttle_per_address``) or for one client id
    (``login_throttle_per_login``, client_secret_basic) within ``login_throttle_window`` give 429 with Retry-After
    (error ``temporarily_unavailable``), before any credential is checked."""
    try:
        form = await request.form()
    except Exception:
        return _oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    fields = {k: str(v) for k, v in form.items()}
    return await run_in_threadpool(_token, request, ctx, fields)


def _basic(auth: str) -> tuple[str, str] | None:
    """The client id and secret of a Basic ``Authorization`` header; None when it is malformed."""
    try:
        client_id, _, secret = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return client_id, secret


def _token(request: Request, ctx: NodeContext, form: dict[str, str]) -> JSONResponse:
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    endpoint = f"{issuer_of(ctx)}/auth/token"
    identity = request.app.state.identity
    auth = request.headers.get("authorization", "")
    is_basic = auth.lower().startswith("basic ")
    basic = _basic(auth) if is_basic else None
    # failures count per address, and per client id when the request names one it must prove (a secret can be
    # guessed; an assertion cannot, and its unverified iss would let anyone hold back the partner it names)
    client_id = basic[0] if basic is not None else None
    throttle, address = client_throttle_of(request.app), client_address(request)
    wait = throttle.retry_after(address, client_id)
    if wait is not None:  # before any credential is checked: a refused attempt costs no hashing, no verification
        description = f"too many failed client authentications: try again in {wait} seconds"
        return _oauth_error(429, "temporarily_unavailable", description, {"Retry-After": str(wait)})
    try:
        if basic is not None:
            caller = tokens.authenticate_basic(ctx.session, *basic)
        elif is_basic:
            throttle.failed(address, None)
            return _oauth_error(401, "invalid_client", "malformed Basic credentials")
        elif form.get("client_assertion_type") == tokens.ASSERTION_TYPE and form.get("client_assertion"):
            caller = tokens.authenticate_assertion(
                ctx.session, identity, str(form["client_assertion"]), endpoint, ctx.now()
            )
        else:
            throttle.failed(address, None)
            return _oauth_error(401, "invalid_client", "client authentication required")
    except InvalidSignature as exc:
        throttle.failed(address, client_id)
        audit.append(ctx.session, "unknown", "auth.refused", "", reason=exc.reason)
        ctx.session.commit()
        return _oauth_error(401, "invalid_client", "client authentication failed")
    except Unauthenticated:
        throttle.failed(address, client_id)
        return _oauth_error(401, "invalid_client", "client authentication failed")
    if client_id is not None:
        throttle.succeeded(client_id)  # its client id's counter; never the address's
    ttl = ctx.settings.access_token_ttl
    value = tokens.issue_access_token(request.app.state.token_secret, caller, issuer_of(ctx), ctx.now(), ttl)
    audit.append(ctx.session, caller.company_id, "auth.token", "", method=caller.method)
    return JSONResponse(
        {
            "access_token": value,
            "token_type": "Bearer",
            "expires_in": int(ttl.total_seconds()),
            "scope": "footprint:list footprint:read",
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/.well-known/openid-configuration", summary="OAuth2 / OpenID discovery document")
def openid_configuration(ctx: ContextDep) -> dict[str, object]:
    """Where to get tokens and how to authenticate."""
    base = issuer_of(ctx)
    return {
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt", "client_secret_basic"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["footprint:list", "footprint:read"],
        "response_types_supported": ["token"],
    }
