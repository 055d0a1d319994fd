"""Logins that tell nothing and cannot be tried without end (decision 0029), on the operator API and Ouranos'
``/auth/login``: unknown login, wrong password and locked account answer alike; failed logins per client address
and per login are limited (429 with Retry-After), the address taken from X-Forwarded-For only behind a trusted
proxy. The console's door is tested in tests/console/test_session.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.api.app import create_app
from connector.config import Settings
from connector.services.login_throttle import LoginThrottle
from connector.storage.accounts import User
from connector.storage.tables import AuditEntry

from .conftest import assert_problem, make_settings, seed_keys
from .ouranos_client import CORPORATE, Dts, add_user, check
from .ouranos_client import PASSWORD as DTS_PASSWORD
from .test_users import PASSWORD, login
from .test_users import add_user as add_api_user

pytestmark = pytest.mark.asyncio

WRONG = "not the right password"


class Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The ``api`` fixture's: a lock after 2 failures, 429 after 6 per address or 4 per login."""
    return make_settings(tmp_path, login_max_failures=2, login_throttle_per_address=6, login_throttle_per_login=4)


def client_at(api, address: str) -> httpx.AsyncClient:
    """Another client of the same app, connecting from ``address``."""
    transport = httpx.ASGITransport(app=api.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://node.test")


def failures(api, login_: str) -> int:
    with Session(api.engine) as session:
        user = session.exec(select(User).where(User.login == login_)).one()
        return user.failed_attempts


# one answer for unknown login, wrong password and locked account ------------------------------------------------


async def test_unknown_login_wrong_password_and_locked_account_answer_alike(api) -> None:
    add_api_user(api, "alice", "viewer")
    add_api_user(api, "bob", "viewer")
    for _ in range(api.settings.login_max_failures):
        await login(api, "alice", WRONG)
    answers = [await login(api, "mallory"), await login(api, "bob", WRONG), await login(api, "alice")]
    for resp in answers:
        assert_problem(resp, 401)
    unknown, wrong, locked = answers
    assert unknown.json() == wrong.json() == locked.json()
    assert unknown.headers.get("www-authenticate") == locked.headers.get("www-authenticate")
    assert "retry-after" not in locked.headers
    with Session(api.engine) as session:  # the operator still sees the lock and the refusal
        actions = {(e.action, e.subject) for e in session.exec(select(AuditEntry))}
    assert {("user.locked", "alice"), ("user.login_refused", "alice"), ("user.login_failed", "mallory")} <= actions
    users = {u["login"]: u for u in (await api.get("/api/v1/users", role="admin")).json()}
    assert users["alice"]["lockedUntil"] and not users["bob"]["lockedUntil"]


# throttling ---------------------------------------------------------------------------------------------------------


async def test_too_many_failures_from_one_address_get_429_with_retry_after(api) -> None:
    clock = Clock()
    api.app.state.login_throttle = LoginThrottle.from_settings(api.settings)
    api.app.state.login_throttle._clock = clock
    add_api_user(api, "alice", "viewer")
    for n in range(api.settings.login_throttle_per_address):
        assert_problem(await login(api, f"nobody{n}", WRONG), 401)  # logins never tried twice: only the address
    refused = await login(api, "alice")  # even the right password, before it is checked
    body = assert_problem(refused, 429)
    assert body["type"].endswith("/too-many-logins")
    window = int(api.settings.login_throttle_window.total_seconds())
    assert 0 < int(refused.headers["retry-after"]) <= window
    assert failures(api, "alice") == 0
    async with client_at(api, "192.0.2.7") as elsewhere:  # another address is not held back
        ok = await elsewhere.post("/api/v1/auth/token", json={"login": "alice", "password": PASSWORD})
    assert ok.status_code == 200, ok.text
    clock.at += window
    assert (await login(api, "alice")).status_code == 200  # the window ended


async def test_too_many_failures_for_one_login_get_429_from_any_address(api) -> None:
    add_api_user(api, "alice", "viewer")
    for n in range(api.settings.login_throttle_per_login):
        async with client_at(api, f"198.51.100.{n + 1}") as client:
            resp = await client.post("/api/v1/auth/token", json={"login": "ghost", "password": WRONG})
        assert_problem(resp, 401)
    async with client_at(api, "198.51.100.200") as client:
        refused = await client.post("/api/v1/auth/token", json={"login": "GHOST ", "password": WRONG})
        assert_problem(refused, 429)
        assert int(refused.headers["retry-after"]) > 0
        ok = await client.post("/api/v1/auth/token", json={"login": "alice", "password": PASSWORD})
    assert ok.status_code == 200, ok.text


async def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(make_api) -> None:
    limits = {"login_throttle_per_address": 2, "login_throttle_per_login": 100}
    async with make_api(**limits) as api:  # no trusted proxy: the header changes nothing
        for n in range(3):
            resp = await api.client.post(
                "/api/v1/auth/token",
                json={"login": f"nobody{n}", "password": WRONG},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
        assert_problem(resp, 429)
    async with make_api(trusted_proxies=["127.0.0.1"], **limits) as api:  # ASGITransport connects from 127.0.0.1
        for n in range(3):
            resp = await api.client.post(
                "/api/v1/auth/token",
                json={"login": f"nobody{n}", "password": WRONG},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            )
            assert_problem(resp, 401)  # three clients behind the proxy, one failure each
        for _ in range(2):
            await api.client.post(
                "/api/v1/auth/token",
                json={"login": "someone", "password": WRONG},
                headers={"X-Forwarded-For": "203.0.113.50, 203.0.113.9"},
            )
        spoofed = await api.client.post(
            "/api/v1/auth/token",
            json={"login": "someone-else", "password": WRONG},
            headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"},  # only the proxy's own entry counts
        )
        assert_problem(spoofed, 429)


# Ouranos' /auth/login -----------------------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def dts(engine: Engine, tmp_path) -> AsyncIterator[Dts]:
    settings = make_settings(tmp_path, corporate_number=CORPORATE, login_max_failures=2)
    app = create_app(settings, engine=engine)
    app.state.login_throttle = LoginThrottle(per_address=7, per_login=4, window_seconds=600, max_entries=100)
    keys = seed_keys(engine)
    add_user(engine, settings)
    add_user(engine, settings, "viewer@example.com", "viewer")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        yield Dts(client, keys["viewer"], settings)


async def test_ouranos_login_answers_alike_then_429_in_dts_form(dts: Dts) -> None:
    for _ in range(dts.settings.login_max_failures):
        await dts.login("viewer@example.com", "wrong-password-123")
    unknown = await dts.login("nobody@example.com", "wrong-password-123")
    wrong = await dts.login("operator@example.com", "wrong-password-123")
    locked = await dts.login("viewer@example.com", DTS_PASSWORD)
    for resp in (unknown, wrong, locked):
        check(resp)
        assert resp.status_code == 401, resp.text
        assert "retry-after" not in resp.headers
    assert {(r.json()["code"], r.json()["message"]) for r in (unknown, wrong, locked)} == {
        ("[auth] Unauthorized", "Invalid credentials")
    }
    for n in range(2):  # 7 failures from this address in all
        await dts.login(f"nobody{n}@example.com", "wrong-password-123")
    refused = await dts.login()  # the right password
    check(refused)
    assert refused.status_code == 429 and refused.json()["code"] == "[auth] TooManyRequests"
    assert 0 < int(refused.headers["retry-after"]) <= 600
    assert "try again" in refused.json()["message"]
