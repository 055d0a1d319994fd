"""The console's login session: a signed cookie carrying the user's access and refresh tokens and a CSRF token.

The tokens are the operator accounts' own (``services/accounts``: stored hashed, revocable), so logging out, a
password change or disabling the user ends the console session on the server as well (decision 0025). The cookie is
HttpOnly, Secure and SameSite=Strict; browsers accept a Secure cookie over plain http only from ``localhost``, which
is what the browser tests use. It is signed with the node's token secret (HMAC-SHA256), and carries the time of the
last request: a session unused for ``console_idle_timeout`` is over.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import FormData

from ..api.deps import ContextDep, write_session
from ..services import accounts
from ..services.context import NodeContext
from ..storage.accounts import User

COOKIE = "console_session"
CSRF_FIELD = "csrf"


class LoginRequired(Exception):
    """No live session: the browser is sent to the login page (``expired``: say why)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class NotAllowed(Exception):
    """A refused form: a missing or wrong CSRF token, or a role that may not do this."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class SessionData:
    csrf: str
    seen: int
    access: str | None = None
    refresh: str | None = None

    def encode(self) -> dict[str, Any]:
        return {"c": self.csrf, "t": self.seen, "a": self.access, "r": self.refresh}


def _secret(request: Request) -> bytes:
    return b"console-session:" + request.app.state.token_secret


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seal(request: Request, data: SessionData) -> str:
    body = _b64(json.dumps(data.encode(), separators=(",", ":")).encode())
    mac = hmac.new(_secret(request), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def unseal(request: Request, value: str | None) -> SessionData | None:
    """The cookie's contents if its signature holds, else None (a forged or truncated cookie is no session)."""
    if not value or value.count(".") != 1 or len(value) > 4096:
        return None
    body, mac = value.split(".")
    expected = _b64(hmac.new(_secret(request), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, mac):
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        return SessionData(csrf=str(raw["c"]), seen=int(raw["t"]), access=raw.get("a"), refresh=raw.get("r"))
    except (ValueError, KeyError, TypeError):
        return None


def fresh_anonymous() -> SessionData:
    return SessionData(csrf=secrets.token_urlsafe(24), seen=int(time.time()))


def remember(request: Request, data: SessionData | None) -> None:
    """The cookie the response sets (or clears, for None): applied by ``render.finish`` on every console response."""
    request.state.console_cookie = data


def anonymous(request: Request) -> SessionData:
    """The pre-login session (only a CSRF token): kept if the browser has one, else a new one."""
    data = unseal(request, request.cookies.get(COOKIE))
    if data is None or data.access is not None:
        data = fresh_anonymous()
    data.seen = int(time.time())
    remember(request, data)
    return data


@dataclass
class Viewer:
    """The logged-in user of one console request."""

    user: User
    csrf: str
    ctx: NodeContext
    form: FormData | None = field(default=None)

    @property
    def actor(self) -> str:
        return f"user:{self.user.login}"

    def can(self, needed: str) -> bool:
        return accounts.role_allows(self.user.role, needed)

    @property
    def can_edit(self) -> bool:
        return self.can("editor")

    @property
    def can_verify(self) -> bool:
        return self.can("verify")

    @property
    def can_admin(self) -> bool:
        return self.can("admin")

    def field(self, name: str, default: str = "") -> str:
        value = self.form.get(name) if self.form is not None else None
        return value.strip() if isinstance(value, str) else default


def _resolve(request: Request, data: SessionData) -> User | None:
    """The session's user, its access token renewed with the refresh token when it ran out; in a transaction of its
    own, before the request's session reads anything (on SQLite a reader open in the request's session would block
    this write), and committed even when the refresh token is refused (its revocation is part of the answer)."""
    with write_session(request.app) as session:
        ctx = NodeContext(session, request.app.state.settings, request.app.state.identity)
        user = accounts.user_for_access_token(ctx, data.access or "")
        if user is None and data.refresh:
            try:
                pair = accounts.refresh(ctx, data.refresh)
            except accounts.InvalidToken:
                return None
            data.access, data.refresh = pair.access_token, pair.refresh_token
            user = accounts.user_for_access_token(ctx, data.access)
        return user


def current_viewer(request: Request, ctx: ContextDep) -> Viewer:
    """The logged-in user, or :class:`LoginRequired` (no cookie, a bad one, idle too long, tokens revoked)."""
    data = unseal(request, request.cookies.get(COOKIE))
    if data is None or data.access is None:
        raise LoginRequired()
    now = int(time.time())
    if now - data.seen > ctx.settings.console_idle_timeout.total_seconds():
        _end(request, data)
        raise LoginRequired(expired=True)
    user = _resolve(request, data)
    if user is None:
        remember(request, None)
        raise LoginRequired(expired=True)
    data.seen = now
    remember(request, data)
    return Viewer(user=user, csrf=data.csrf, ctx=ctx)


def _end(request: Request, data: SessionData) -> None:
    """Revoke an expired session's tokens, in a transaction of its own (the request's is rolled back)."""
    if data.access:
        with write_session(request.app) as session:
            accounts.logout(NodeContext(session, request.app.state.settings, request.app.state.identity), data.access)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def check_csrf(expected: str, form: FormData) -> None:
    presented = form.get(CSRF_FIELD)
    if not isinstance(presented, str) or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise NotAllowed("csrf")


def needs(needed: str) -> Any:
    """A POST dependency: the logged-in user, its form read, the CSRF token checked, then its role."""

    async def dependency(request: Request, viewer: ViewerDep) -> Viewer:
        form = await request.form()
        check_csrf(viewer.csrf, form)
        if not viewer.can(needed):
            raise NotAllowed("role")
        viewer.form = form
        return viewer

    return Depends(dependency)


EditorForm = Annotated[Viewer, needs("editor")]
VerifierForm = Annotated[Viewer, needs("verify")]
AnyoneForm = Annotated[Viewer, needs("viewer")]
