"""OAuth2 client credentials (RFC 6749 section 4.4) with private_key_jwt (RFC 7523) or client_secret_basic."""

from __future__ import annotations

import base64
import binascii

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ...api.deps import ContextDep
from ...errors import InvalidSignature, Unauthenticated
from ...services import audit, tokens
from ...services.context import NodeContext
from .deps import issuer_of

router = APIRouter(tags=["peer: auth"])


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="connector"'} if status == 401 else None
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**(headers or {}), "Cache-Control": "no-store"},
    )


@router.post("/auth/token", summary="Get an access token (client credentials)")
async def token(request: Request, ctx: ContextDep) -> JSONResponse:
    """Exchange client credentials for a short-lived access token bound to the caller's company id."""
    try:
        form = await request.form()
    except Exception:
        return _oauth_error(400, "invalid_request", "the body must be application/x-www-form-urlencoded")
    fields = {k: str(v) for k, v in form.items()}
    return await run_in_threadpool(_token, request, ctx, fields)


def _token(request: Request, ctx: NodeContext, form: dict[str, str]) -> JSONResponse:
    if form.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "grant_type must be client_credentials")
    endpoint = f"{issuer_of(ctx)}/auth/token"
    identity = request.app.state.identity
    try:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return _oauth_error(401, "invalid_client", "malformed Basic credentials")
            caller = tokens.authenticate_basic(ctx.session, client_id, secret)
        elif form.get("client_assertion_type") == tokens.ASSERTION_TYPE and form.get("client_assertion"):
            caller = tokens.authenticate_assertion(
                ctx.session, identity, str(form["client_assertion"]), endpoint, ctx.now()
            )
        else:
            return _oauth_error(401, "invalid_client", "client authentication required")
    except InvalidSignature as exc:
        audit.append(ctx.session, "unknown", "auth.refused", "", reason=exc.reason)
        ctx.session.commit()
        return _oauth_error(401, "invalid_client", "client authentication failed")
    except Unauthenticated:
        return _oauth_error(401, "invalid_client", "client authentication failed")
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
