"""``/auth/login``, ``/auth/refresh``, ``/auth/change``: DTS's login, on the node's operator accounts
(services/accounts.py). A failed login and a reused refresh token are committed before the error is answered: the
failure counter, the lockout and the revocation are part of the answer."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response

from ...errors import ConnectorError
from ...services import accounts
from ...services.login_throttle import LoginThrottle, TooManyLogins
from .call import Call
from .models import ChangePasswordInput, LoginInput, RefreshInput
from .wire import DtsError, json_response, track


def bearer_role(call: Call, token: str) -> tuple[str, Any] | None:
    """The role and user of a live access token, or None."""
    user = accounts.user_for_access_token(call.ctx, token)
    return None if user is None else (user.role, user)


def login(call: Call, throttle: LoginThrottle, address: str) -> Response | DtsError:
    """Unknown login, wrong password, disabled or locked account: one answer (decision 0029); too many failures
    from ``address`` or for the login: 429 with Retry-After, before the password is checked."""
    body = call.model(LoginInput)
    try:
        user = throttle.authenticate(call.ctx, address, body.operator_account_id, body.account_password)
    except TooManyLogins as exc:
        retry = {"Retry-After": str(exc.retry_after)}
        return DtsError(
            429, f"Too many failed logins, try again in {exc.retry_after} seconds", source="auth", headers=retry
        )
    except accounts.LoginFailed:
        return DtsError(401, "Invalid credentials", source="auth")
    pair = accounts.issue_tokens(call.ctx, user)
    return json_response({"accessToken": pair.access_token, "refreshToken": pair.refresh_token}, 201)


def refresh(call: Call) -> Response | DtsError:
    body = call.model(RefreshInput)
    try:
        pair = accounts.refresh(call.ctx, body.refresh_token)
    except accounts.InvalidToken:
        return DtsError(400, "Validation failed, refreshToken: invalid or expired", source="auth")  # no 401 in #refresh
    return json_response({"accessToken": pair.access_token, "refreshToken": pair.refresh_token}, 201)


def change(call: Call, user: Any) -> Response:
    body = call.model(ChangePasswordInput)
    try:
        accounts.set_password(call.ctx, user, body.new_password, actor=f"user:{user.login}")
    except ConnectorError as exc:
        raise DtsError(400, f"Validation failed, newPassword: {exc.detail}", source="auth") from None
    return Response(status_code=201, headers={"x-track": track()})
