"""Operator accounts: the node's users, their passwords (Argon2id), lockout, and login tokens.

One model for every door a person logs in at: the operator API (``Authorization: Bearer``), the browser console and
an Ouranos application's ``/auth/login``. Decision 0020 says why tokens are opaque and stored hashed.

Services flush, never commit. :func:`authenticate` and :func:`refresh` record what a failure leaves behind (the
failed-attempt counter, a lockout, a revoked token family, audit entries) before they raise: the caller must commit
the transaction *even when they raise* (the operator API's login route does: api/operator/users.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import Conflict, NotFound, Unauthenticated, ValidationFailed
from ..storage import accounts as store
from ..storage.accounts import User, UserToken
from . import audit
from .context import NodeContext

__all__ = [
    "ROLES",
    "AccountLocked",
    "InvalidToken",
    "LoginFailed",
    "TokenPair",
    "User",
    "authenticate",
    "change_password",
    "create_user",
    "disable_user",
    "get_user",
    "issue_tokens",
    "list_users",
    "normal_login",
    "logout",
    "refresh",
    "revoke_tokens",
    "role_allows",
    "set_password",
    "set_role",
    "unlock_user",
    "user_for_access_token",
]

ROLES = ("viewer", "editor", "admin", "verifier")
ACCESS_PREFIX = "cua_"
REFRESH_PREFIX = "cur_"
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,99}$")
PASSWORD_MAX = 1024  # hashing a megabyte-long "password" is work an attacker should not get for free
_HASHER = PasswordHasher()  # argon2id, RFC 9106's second recommended (low-memory) profile: t=3, m=64 MiB, p=4
_LEVEL = {"viewer": 0, "verifier": 0, "editor": 1, "admin": 2}


class LoginFailed(Unauthenticated):
    """Unknown login, wrong password or disabled account: one message for all, so logins cannot be enumerated."""

    type_ = "login-failed"
    title = "Login failed"

    def __init__(self, detail: str = "unknown login or wrong password") -> None:
        super().__init__(detail)


class AccountLocked(LoginFailed):
    """A locked account: answered exactly as a wrong password (a distinct answer would tell that the login exists,
    decision 0029). The operator sees the lock in the audit log and ``connector user list``; ``until`` says when it
    ends, for the node's own use only."""

    def __init__(self, until: datetime) -> None:
        super().__init__()
        self.until = until


class InvalidToken(Unauthenticated):
    type_ = "invalid-token"
    title = "Invalid or expired token"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    token_type: str = "Bearer"

    def expires_in(self, at: datetime) -> int:
        """Seconds the access token has left at ``at`` (OAuth 2.0's ``expires_in``)."""
        return max(0, int((self.access_expires_at - at).total_seconds()))


def role_allows(role: str, needed: str) -> bool:
    """Whether ``role`` (a user's or an API key's) may do what ``needed`` names: a role, or ``"verify"``.

    viewer < editor < admin; a verifier reads like a viewer and may also verify evidence bundles (``"verify"``),
    which editors and admins may too."""
    if needed == "verify":
        return role in ("verifier", "editor", "admin")
    return role in _LEVEL and _LEVEL[role] >= _LEVEL[needed]


# passwords ----------------------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """What an unknown login's password is checked against, so it costs what a known one does."""
    return _HASHER.hash(secrets.token_urlsafe(16))


def check_password_policy(ctx: NodeContext, password: str, login: str = "", field: str = "password") -> None:
    minimum = ctx.settings.password_min_length
    problem = None
    if len(password) < minimum:
        problem = f"the password must be at least {minimum} characters long"
    elif len(password) > PASSWORD_MAX:
        problem = f"the password must be at most {PASSWORD_MAX} characters long"
    elif not password.strip():
        problem = "the password must not be only spaces"
    elif login and password.lower() == login.lower():
        problem = "the password must not be the login"
    if problem:
        raise ValidationFailed(problem, errors=[{"field": field, "message": problem}])


def normal_login(login: str) -> str:
    return login.strip().lower()


def _check_role(role: str) -> None:
    if role not in ROLES:
        message = f"unknown role {role!r}; one of {', '.join(ROLES)}"
        raise ValidationFailed(message, errors=[{"field": "role", "message": message}])


# users --------------------------------------------------------------------------------------------------------------


def create_user(
    ctx: NodeContext, login: str, password: str, role: str, display_name: str | None = None, *, actor: str = "cli"
) -> User:
    """A new user; Conflict if the login is taken (in any case), ValidationFailed for a bad login, role or
    password."""
    normal = normal_login(login)
    if not LOGIN_PATTERN.match(normal):
        message = "a login is 1-100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit"
        raise ValidationFailed(message, errors=[{"field": "login", "message": message}])
    _check_role(role)
    check_password_policy(ctx, password, normal)
    if store.user_by_login(ctx.session, normal) is not None:
        raise Conflict(f"login {normal!r} is taken")
    now = ctx.now()
    user = User(
        login=normal,
        display_name=(display_name or login.strip())[:200],
        role=role,
        password_hash=hash_password(password),
        created_at=now,
        updated_at=now,
        password_changed_at=now,
    )
    ctx.session.add(user)
    ctx.session.flush()
    audit.append(ctx.session, actor, "user.created", normal, role=role)
    return user


def get_user(ctx: NodeContext, login: str) -> User:
    user = store.user_by_login(ctx.session, normal_login(login))
    if user is None:
        raise NotFound(f"user {login!r} not found")
    return user


def list_users(ctx: NodeContext) -> list[User]:
    return store.all_users(ctx.session)


def _changed(ctx: NodeContext, user: User, actor: str, action: str, **details: object) -> User:
    user.updated_at = ctx.now()
    ctx.session.add(user)
    ctx.session.flush()
    audit.append(ctx.session, actor, action, user.login, **details)
    return user


def set_role(ctx: NodeContext, user: User, role: str, *, actor: str = "cli") -> User:
    _check_role(role)
    before, user.role = user.role, role
    return _changed(ctx, user, actor, "user.role_changed", before=before, role=role)


def disable_user(ctx: NodeContext, user: User, disabled: bool = True, *, actor: str = "cli") -> User:
    """Disable (or enable again) a user; disabling revokes every token it holds."""
    user.disabled = disabled
    if disabled:
        store.revoke_user_tokens(ctx.session, user.id, ctx.now())
    return _changed(ctx, user, actor, "user.disabled" if disabled else "user.enabled")


def unlock_user(ctx: NodeContext, user: User, *, actor: str = "cli") -> User:
    user.locked_until, user.failed_attempts = None, 0
    return _changed(ctx, user, actor, "user.unlocked")


def set_password(ctx: NodeContext, user: User, new: str, *, actor: str = "cli") -> User:
    """An administrator sets a user's password (no old one needed); the user's tokens are revoked."""
    check_password_policy(ctx, new, user.login)
    user.password_hash = hash_password(new)
    user.password_changed_at = ctx.now()
    store.revoke_user_tokens(ctx.session, user.id, ctx.now())
    return _changed(ctx, user, actor, "user.password_changed")


def change_password(ctx: NodeContext, user: User, old: str, new: str) -> User:
    """The user changes its own password: the old one must match; every token it holds is revoked."""
    if not _verify(user.password_hash, old):
        raise LoginFailed("the current password is wrong")
    if old == new:
        message = "the new password must differ from the current one"
        raise ValidationFailed(message, errors=[{"field": "newPassword", "message": message}])
    check_password_policy(ctx, new, user.login, field="newPassword")
    return set_password(ctx, user, new, actor=f"user:{user.login}")


# login --------------------------------------------------------------------------------------------------------------


def authenticate(ctx: NodeContext, login: str, password: str) -> User:
    """The user, or LoginFailed (unknown login, wrong password, disabled) or its subclass AccountLocked, which
    carries the same answer: a client cannot tell them apart (decision 0029), the audit log can.

    ``login_max_failures`` failures in a row lock the account for ``login_lockout``. Commit even when this raises:
    the counter, the lock and the audit entries are part of the answer."""
    now = ctx.now()
    normal = normal_login(login)
    user = store.user_by_login(ctx.session, normal) if len(normal) <= 100 else None
    if user is None:
        _verify(_dummy_hash(), password[:PASSWORD_MAX])
        audit.append(ctx.session, "anonymous", "user.login_failed", normal[:100], reason="unknown login")
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until <= now:
        user.locked_until, user.failed_attempts = None, 0  # the lock ran out: a fresh count
    if user.locked_until is not None:
        _verify(_dummy_hash(), password[:PASSWORD_MAX])
        audit.append(ctx.session, "anonymous", "user.login_refused", user.login, reason="locked")
        raise AccountLocked(user.locked_until)
    if not _verify(user.password_hash, password[:PASSWORD_MAX]) or len(password) > PASSWORD_MAX:
        user.failed_attempts += 1
        details: dict[str, object] = {"reason": "wrong password", "failures": user.failed_attempts}
        audit.append(ctx.session, "anonymous", "user.login_failed", user.login, **details)
        if user.failed_attempts >= ctx.settings.login_max_failures:
            until = user.locked_until = now + ctx.settings.login_lockout
            audit.append(ctx.session, "node", "user.locked", user.login, until=until.isoformat())
            ctx.session.add(user)
            ctx.session.flush()
            raise AccountLocked(until)
        ctx.session.add(user)
        ctx.session.flush()
        raise LoginFailed()
    if user.disabled:
        audit.append(ctx.session, "anonymous", "user.login_refused", user.login, reason="disabled")
        raise LoginFailed()
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)  # parameters were raised since: upgrade on the next login
    user.failed_attempts, user.last_login_at = 0, now
    ctx.session.add(user)
    ctx.session.flush()
    audit.append(ctx.session, f"user:{user.login}", "user.login", user.login)
    return user


# tokens -------------------------------------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(ctx: NodeContext, user: User, family: str, kind: str, ttl: timedelta) -> tuple[str, datetime]:
    token = (ACCESS_PREFIX if kind == "access" else REFRESH_PREFIX) + secrets.token_urlsafe(32)
    expires = ctx.now() + ttl
    ctx.session.add(
        UserToken(
            user_id=user.id,
            family=family,
            kind=kind,
            token_hash=_digest(token),
            created_at=ctx.now(),
            expires_at=expires,
        )
    )
    return token, expires


def issue_tokens(ctx: NodeContext, user: User, *, family: str | None = None) -> TokenPair:
    """A new access and refresh token for ``user`` (a new family: one login), stored only as SHA-256 digests."""
    store.forget_expired_tokens(ctx.session, user.id, ctx.now())
    family = family or secrets.token_hex(16)
    access, access_exp = _new_token(ctx, user, family, "access", ctx.settings.user_access_token_ttl)
    refresh_token, refresh_exp = _new_token(ctx, user, family, "refresh", ctx.settings.user_refresh_token_ttl)
    ctx.session.flush()
    return TokenPair(access, refresh_token, access_exp, refresh_exp)


def _live_token(ctx: NodeContext, token: str, kind: str, *, lock: bool = False) -> UserToken | None:
    prefix = ACCESS_PREFIX if kind == "access" else REFRESH_PREFIX
    if not token.startswith(prefix) or len(token) > 100:
        return None
    row = store.token_by_hash(ctx.session, _digest(token), lock=lock)
    return row if row is not None and row.kind == kind else None


def user_for_access_token(ctx: NodeContext, token: str) -> User | None:
    """The user of a live access token (not expired, not revoked, user not disabled), else None."""
    row = _live_token(ctx, token, "access")
    if row is None or row.revoked_at is not None or row.expires_at <= ctx.now():
        return None
    user = ctx.session.get(User, row.user_id)
    return None if user is None or user.disabled else user


def refresh(ctx: NodeContext, refresh_token: str) -> TokenPair:
    """A new pair for a live refresh token, which is spent (rotated). Presenting a spent one again means it was
    stolen (or the client is broken): the whole family is revoked, and InvalidToken raised. Commit even when this
    raises: the revocation and the audit entry are part of the answer."""
    row = _live_token(ctx, refresh_token, "refresh", lock=True)
    now = ctx.now()
    if row is None:
        raise InvalidToken("unknown refresh token")
    user = ctx.session.get(User, row.user_id)
    if row.rotated_at is not None:
        store.revoke_family(ctx.session, row.family, now)
        login = user.login if user else row.user_id
        audit.append(ctx.session, "anonymous", "user.token_reuse", login, family=row.family)
        raise InvalidToken("this refresh token was already used: every token of its login is revoked")
    if row.revoked_at is not None or row.expires_at <= now or user is None or user.disabled:
        raise InvalidToken("the refresh token is expired or revoked")
    row.rotated_at = row.revoked_at = now
    ctx.session.add(row)
    return issue_tokens(ctx, user, family=row.family)


def logout(ctx: NodeContext, access_token: str) -> User | None:
    """Revoke every token of the login a live access token belongs to (its family); the user, or None if the token
    is unknown, expired or revoked already."""
    row = _live_token(ctx, access_token, "access")
    if row is None or row.revoked_at is not None or row.expires_at <= ctx.now():
        return None
    store.revoke_family(ctx.session, row.family, ctx.now())
    user = ctx.session.get(User, row.user_id)
    if user is not None:
        audit.append(ctx.session, f"user:{user.login}", "user.logout", user.login)
    return user


def revoke_tokens(ctx: NodeContext, user: User, *, actor: str = "cli") -> None:
    """Revoke every token the user holds (every login, every device)."""
    store.revoke_user_tokens(ctx.session, user.id, ctx.now())
    audit.append(ctx.session, actor, "user.tokens_revoked", user.login)
