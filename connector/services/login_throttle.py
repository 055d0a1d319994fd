"""Failed logins counted per client address and per login name, in memory: past a limit, 429 before any password
is checked (decision 0029).

The account lockout (services/accounts.py) stops guessing one account's password; it does not stop one address from
trying many logins (or unknown ones, which never lock), nor an attacker from spending the node's Argon2id time on a
locked account. This throttle does, at every door a person logs in at (the operator API, the console, Ouranos'
``/auth/login``): :meth:`LoginThrottle.authenticate` wraps :func:`accounts.authenticate`. PACT's ``/auth/token`` has
its own counters of the same kind (:func:`client_throttle_of`): failed client credentials per client address and
per client id.

Each counter is a fixed window that starts at its first failure and lasts ``login_throttle_window``; a successful
login clears its login's counter, never its address's. At most ``login_throttle_entries`` counters are kept (the
least recently failed are forgotten first), so memory is bounded whatever an attacker sends. Counters are per
process: a node with several workers lets each count on its own.

The client address is the connection's (``request.client``): behind a reverse proxy set ``trusted_proxies``, which
makes the app take it from the proxy's ``X-Forwarded-For`` (api/app.py); never from that header otherwise.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ..errors import ConnectorError
from .accounts import LoginFailed, User, authenticate, normal_login
from .context import NodeContext

log = logging.getLogger("connector.login")

__all__ = ["LoginThrottle", "TooManyLogins", "client_address", "client_throttle_of", "throttle_of"]


class TooManyLogins(ConnectorError):
    """Too many failed logins from this address or for this login: try again in ``retry_after`` seconds."""

    status = 429
    type_ = "too-many-logins"
    title = "Too many failed logins"
    pact_code = "TooManyRequests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after} seconds")
        self.retry_after = retry_after


class LoginThrottle:
    """Failed-login counters per address and per login, bounded; thread-safe (the doors run in a thread pool)."""

    def __init__(
        self,
        per_address: int,
        per_login: int,
        window_seconds: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = {"address": per_address, "login": per_login}
        self._window = window_seconds
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: OrderedDict[tuple[str, str], tuple[float, int]] = OrderedDict()  # key -> (start, count)

    @classmethod
    def from_settings(cls, settings: Any) -> LoginThrottle:
        return cls(
            settings.login_throttle_per_address,
            settings.login_throttle_per_login,
            settings.login_throttle_window.total_seconds(),
            settings.login_throttle_entries,
        )

    @staticmethod
    def _keys(address: str, login: str | None) -> list[tuple[str, str]]:
        """The counters an attempt counts on: its address's, and its login's unless ``login`` is None."""
        keys = [("address", address)]
        if login is not None:
            keys.append(("login", normal_login(login)[:100]))
        return keys

    def retry_after(self, address: str, login: str | None) -> int | None:
        """Seconds until a login from ``address`` for ``login`` (None: the address only) may be tried again, or
        None: it may now."""
        now = self._clock()
        waits = []
        with self._lock:
            for key in self._keys(address, login):
                entry = self._failures.get(key)
                if entry is None:
                    continue
                start, count = entry
                if now - start >= self._window:
                    del self._failures[key]
                elif count >= self._limits[key[0]]:
                    waits.append(max(1, math.ceil(start + self._window - now)))
        return max(waits) if waits else None

    def failed(self, address: str, login: str | None) -> None:
        now = self._clock()
        with self._lock:
            for key in self._keys(address, login):
                start, count = self._failures.pop(key, (now, 0))
                if now - start >= self._window:
                    start, count = now, 0
                self._failures[key] = (start, count + 1)  # at the end: the most recently failed
                if count + 1 == self._limits[key[0]]:
                    log.warning("failed logins: %s %r reached %d; refused until its window ends", *key, count + 1)
            while len(self._failures) > self._max:
                self._failures.popitem(last=False)

    def succeeded(self, login: str) -> None:
        with self._lock:
            self._failures.pop(("login", normal_login(login)[:100]), None)

    def __len__(self) -> int:
        return len(self._failures)

    def authenticate(self, ctx: NodeContext, address: str, login: str, password: str) -> User:
        """:func:`accounts.authenticate`, refused with :class:`TooManyLogins` (before any password is checked) once
        ``address`` or ``login`` failed too often; its failures counted. Commit even when this raises (as for
        ``authenticate``)."""
        wait = self.retry_after(address, login)
        if wait is not None:
            raise TooManyLogins(wait)
        try:
            user = authenticate(ctx, login, password)
        except LoginFailed:
            self.failed(address, login)
            raise
        self.succeeded(login)
        return user


def throttle_of(app: Any) -> LoginThrottle:
    """The app's one throttle (every door shares it), made from its settings on first use."""
    throttle = getattr(app.state, "login_throttle", None)
    if throttle is None:
        throttle = app.state.login_throttle = LoginThrottle.from_settings(app.state.settings)
    return throttle


def client_throttle_of(app: Any) -> LoginThrottle:
    """The app's throttle of failed client credentials at PACT's ``/auth/token``: the login throttle's settings, its
    own counters (a client id is no login name, and a partner's node that fails its tokens must not hold back the
    operators' logins from the same address)."""
    throttle = getattr(app.state, "client_throttle", None)
    if throttle is None:
        throttle = app.state.client_throttle = LoginThrottle.from_settings(app.state.settings)
    return throttle


def client_address(request: Any) -> str:
    """The caller's address: the connection's, or what a trusted proxy said (``trusted_proxies``, api/app.py)."""
    client = request.client
    return client.host if client is not None and client.host else "unknown"
