"""Logging in and out, the language switch, and the dashboard."""

from __future__ import annotations

import secrets
import time
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..api.deps import write_session
from ..errors import ConnectorError
from ..services import accounts, login_throttle, overview
from ..services.context import NodeContext
from . import i18n
from .render import PREFIX, finish, page
from .session import COOKIE, NotAllowed, SessionData, ViewerDep, anonymous, remember, unseal

router = APIRouter()


def _safe_next(value: str | None) -> str:
    """Only a path of the console: never another site (an open redirect)."""
    if value and value.startswith(PREFIX) and not value.startswith("//") and "\\" not in value:
        return value
    return f"{PREFIX}/"


@router.get("/login")
def login_form(request: Request, next: str = "", expired: int = 0) -> Response:
    anonymous(request)
    return page(request, "login.html.j2", next=_safe_next(next), expired=bool(expired), failed=None, login="")


@router.post("/login")
def login(
    request: Request,
    login: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=2048)] = "",
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    pre = unseal(request, request.cookies.get(COOKIE))
    if pre is None or not secrets.compare_digest(pre.csrf.encode(), csrf.encode()):
        raise NotAllowed("csrf")
    failed: str | None = None
    data: SessionData | None = None
    retry_after: int | None = None
    # the failure counter, a lockout and their audit entries are committed even when the login fails
    with write_session(request.app) as session:
        ctx = NodeContext(session, request.app.state.settings, request.app.state.identity)
        try:
            throttle = login_throttle.throttle_of(request.app)
            user = throttle.authenticate(ctx, login_throttle.client_address(request), login, password)
            pair = accounts.issue_tokens(ctx, user)
            data = SessionData(secrets.token_urlsafe(24), int(time.time()), pair.access_token, pair.refresh_token)
        except login_throttle.TooManyLogins as exc:
            failed, retry_after = i18n.N_("Too many failed logins: please try again later."), exc.retry_after
        except ConnectorError:  # a locked account too: the same words as a wrong password (decision 0029)
            failed = i18n.N_("Unknown login or wrong password.")
    if data is None:
        anonymous(request)
        status = 401 if retry_after is None else 429
        response = page(
            request, "login.html.j2", status=status, next=_safe_next(next), expired=False, failed=failed, login=login
        )
        if retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response
    remember(request, data)  # a new CSRF token at login: one seen before logging in is worth nothing after
    return _to(request, _safe_next(next))


def _to(request: Request, path: str) -> Response:
    return finish(request, RedirectResponse(path, status_code=303))


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    data = unseal(request, request.cookies.get(COOKIE))
    if data is None or data.access is None:
        return _to(request, f"{PREFIX}/login")
    if not secrets.compare_digest(data.csrf.encode(), csrf.encode()):
        raise NotAllowed("csrf")
    with write_session(request.app) as session:
        ctx = NodeContext(session, request.app.state.settings, request.app.state.identity)
        accounts.logout(ctx, data.access)
    remember(request, None)
    return _to(request, f"{PREFIX}/login")


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str = "") -> Response:
    """Remember the reader's language (a preference cookie, no secret) and go back to the page."""
    response = _to(request, _safe_next(next))
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.LANG_COOKIE, code, max_age=365 * 86400, path="/", samesite="lax", secure=True)
    return response


@router.get("/")
def dashboard(request: Request, viewer: ViewerDep) -> Response:
    return page(
        request,
        "dashboard.html.j2",
        viewer=viewer,
        active="dashboard",
        d=overview.dashboard(viewer.ctx),
    )
