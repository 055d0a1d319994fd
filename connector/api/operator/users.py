"""Operator accounts on the operator API: log in for a token pair, refresh, log out; users (admin only).

These are the node's own login endpoints (``/api/v1/auth/...``). The PACT token endpoint is ``/auth/token`` and an
Ouranos application logs in at ``/auth/login``, both on top of the same accounts service.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Request, Security, status
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import Field

from ...errors import ConnectorError
from ...services import accounts, login_throttle
from ...services.context import NodeContext
from ...services.models import Model
from ..deps import AdminDep, ContextDep, user_bearer, write_session
from ..strict_body import StrictJsonRoute
from . import examples as ex

router = APIRouter(tags=["users"], route_class=StrictJsonRoute)

UserRole = Literal["viewer", "editor", "admin", "verifier"]


class LoginBody(Model):
    login: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=accounts.PASSWORD_MAX)


class RefreshBody(Model):
    refresh_token: str = Field(alias="refreshToken", min_length=1, max_length=200)


class UserRead(Model):
    login: str
    display_name: str = Field(alias="displayName")
    role: str
    disabled: bool
    locked_until: datetime | None = Field(alias="lockedUntil")
    failed_attempts: int = Field(alias="failedAttempts")
    created_at: datetime = Field(alias="createdAt")
    last_login_at: datetime | None = Field(alias="lastLoginAt")


class TokenPairRead(Model):
    access_token: str = Field(alias="accessToken", description="Send as `Authorization: Bearer <accessToken>`.")
    token_type: str = Field("Bearer", alias="tokenType")
    expires_in: int = Field(alias="expiresIn", description="Seconds the access token has left.")
    refresh_token: str = Field(alias="refreshToken", description="Single use: POST /api/v1/auth/token/refresh.")
    refresh_expires_at: datetime = Field(alias="refreshExpiresAt")
    user: UserRead


class UserCreate(Model):
    login: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=accounts.PASSWORD_MAX)
    role: UserRole
    display_name: str | None = Field(None, alias="displayName", max_length=200)


class UserUpdate(Model):
    role: UserRole | None = None
    disabled: bool | None = None
    password: str | None = Field(None, min_length=1, max_length=accounts.PASSWORD_MAX)


def _user(u: accounts.User) -> UserRead:
    return UserRead(
        login=u.login,
        display_name=u.display_name,
        role=u.role,
        disabled=u.disabled,
        locked_until=u.locked_until,
        failed_attempts=u.failed_attempts,
        created_at=u.created_at,
        last_login_at=u.last_login_at,
    )


def _pair(ctx: NodeContext, user: accounts.User, pair: accounts.TokenPair) -> dict[str, Any]:
    read = TokenPairRead(
        access_token=pair.access_token,
        expires_in=pair.expires_in(ctx.now()),
        refresh_token=pair.refresh_token,
        refresh_expires_at=pair.refresh_expires_at,
        user=_user(user),
    )
    return read.model_dump(mode="json", by_alias=True)


def _context(request: Request, session: Any) -> NodeContext:
    return NodeContext(session=session, settings=request.app.state.settings, identity=request.app.state.identity)


_TOKEN_ERRORS = {
    401: {"description": "Login failed or token invalid"},
    429: {"description": "Too many failed logins from this address or for this login (Retry-After)"},
}


@router.post("/auth/token", response_model=TokenPairRead, responses=_TOKEN_ERRORS)  # type: ignore[arg-type]
def login(request: Request, body: Annotated[LoginBody, Body(openapi_examples=ex.LOGIN)]) -> dict[str, Any]:
    """Log a user in: an access token (``Authorization: Bearer``) and a single-use refresh token.

    Unknown login, wrong password, disabled and locked account (``login_max_failures`` failures in a row lock it for
    ``login_lockout``) all give the same 401. Too many failed logins from one address or for one login within
    ``login_throttle_window`` give 429 with Retry-After, before any password is checked."""
    failure: ConnectorError | None = None
    result: dict[str, Any] = {}
    # committed whether the login succeeds or not: the failure counter, a lock and the audit entries must stay
    with write_session(request.app) as session:
        ctx = _context(request, session)
        try:
            throttle = login_throttle.throttle_of(request.app)
            user = throttle.authenticate(ctx, login_throttle.client_address(request), body.login, body.password)
            result = _pair(ctx, user, accounts.issue_tokens(ctx, user))
        except (accounts.LoginFailed, login_throttle.TooManyLogins) as exc:
            failure = exc
    if failure is not None:
        raise failure
    return result


@router.post("/auth/token/refresh", response_model=TokenPairRead, responses=_TOKEN_ERRORS)  # type: ignore[arg-type]
def refresh(request: Request, body: Annotated[RefreshBody, Body(openapi_examples=ex.REFRESH)]) -> dict[str, Any]:
    """A new token pair for a refresh token, which is spent: presenting it again revokes every token of its login."""
    failure: ConnectorError | None = None
    result: dict[str, Any] = {}
    with write_session(request.app) as session:  # a reuse's revocation is committed with the 401
        ctx = _context(request, session)
        try:
            pair = accounts.refresh(ctx, body.refresh_token)
            user = accounts.user_for_access_token(ctx, pair.access_token)
            assert user is not None  # just issued
            result = _pair(ctx, user, pair)
        except accounts.InvalidToken as exc:
            failure = exc
    if failure is not None:
        raise failure
    return result


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(ctx: ContextDep, bearer: Annotated[HTTPAuthorizationCredentials | None, Security(user_bearer)]) -> None:
    """Revoke the access token presented and every token of the same login (its refresh token too)."""
    if bearer is None or accounts.logout(ctx, bearer.credentials) is None:
        raise accounts.InvalidToken("send the access token to revoke as Authorization: Bearer")


@router.get("/users", response_model=list[UserRead])
def list_users(ctx: ContextDep, _: AdminDep) -> list[UserRead]:
    """Every user of the node (never a password hash)."""
    return [_user(u) for u in accounts.list_users(ctx)]


@router.post("/users", status_code=status.HTTP_201_CREATED, response_model=UserRead)
def create_user(
    ctx: ContextDep, caller: AdminDep, body: Annotated[UserCreate, Body(openapi_examples=ex.USER_CREATE)]
) -> UserRead:
    """Add a user (password at least ``password_min_length`` characters; logins are unique in any case)."""
    user = accounts.create_user(ctx, body.login, body.password, body.role, body.display_name, actor=caller.actor)
    return _user(user)


@router.patch("/users/{login}", response_model=UserRead)
def update_user(
    ctx: ContextDep, caller: AdminDep, login: str, body: Annotated[UserUpdate, Body(openapi_examples=ex.USER_UPDATE)]
) -> UserRead:
    """Change a user's role, disable or enable it, or set a new password (which revokes its tokens)."""
    user = accounts.get_user(ctx, login)
    if body.role is not None and body.role != user.role:
        accounts.set_role(ctx, user, body.role, actor=caller.actor)
    if body.disabled is not None and body.disabled != user.disabled:
        accounts.disable_user(ctx, user, body.disabled, actor=caller.actor)
    if body.password is not None:
        accounts.set_password(ctx, user, body.password, actor=caller.actor)
    return _user(user)


@router.post("/users/{login}/unlock", response_model=UserRead)
def unlock_user(ctx: ContextDep, caller: AdminDep, login: str) -> UserRead:
    """Lift a lockout at once (and reset the failed-attempt counter)."""
    return _user(accounts.unlock_user(ctx, accounts.get_user(ctx, login), actor=caller.actor))
