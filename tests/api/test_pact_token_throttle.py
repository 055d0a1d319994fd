"""PACT's ``/auth/token`` limits failed client authentications as the login doors do (decision 0029): past the
limits per client address and per client id (client_secret_basic), 429 with Retry-After in the token endpoint's
RFC 6749 error body, before any credential is checked; the address from X-Forwarded-For only behind a trusted proxy.

Before: nothing limited them, so one address could guess client secrets (an Argon2id check each) without end."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy.engine import Engine

from connector.api.app import create_app
from connector.config import Settings
from connector.services.identity import NodeIdentity
from connector.services.login_throttle import LoginThrottle

from .conftest import make_settings
from .test_login_hardening import Clock, client_at
from .test_pact_client_rotation import _client, _token
from .test_peer_auth import NODE, World, _form

pytestmark = pytest.mark.asyncio

WRONG = "not-the-secret"


@pytest.fixture
def settings(tmp_path) -> Settings:
    """429 after 6 failures per address or 3 per client id."""
    return make_settings(tmp_path, login_throttle_per_address=6, login_throttle_per_login=3)


def _clocked(api) -> Clock:
    clock = Clock()
    api.app.state.client_throttle = LoginThrottle.from_settings(api.settings)
    api.app.state.client_throttle._clock = clock
    return clock


def _throttled(resp: httpx.Response, window: int) -> None:
    assert resp.status_code == 429, resp.text
    assert resp.json() == {
        "error": "temporarily_unavailable",
        "error_description": f"too many failed client authentications: try again in {resp.headers['retry-after']} "
        "seconds",
    }
    assert 0 < int(resp.headers["retry-after"]) <= window
    assert resp.headers["cache-control"] == "no-store"


async def test_too_many_failures_from_one_address_get_429_even_with_the_right_secret(api) -> None:
    clock = _clocked(api)
    creds = await _client(api)
    window = int(api.settings.login_throttle_window.total_seconds())
    for n in range(api.settings.login_throttle_per_address):  # ids never tried twice: only the address counts
        assert (await _token(api, f"nobody-{n}", WRONG)).status_code == 401
    _throttled(await _token(api, creds["clientId"], creds["clientSecret"]), window)
    async with client_at(api, "192.0.2.7") as elsewhere:  # another address is not held back
        basic = base64.b64encode(f"{creds['clientId']}:{creds['clientSecret']}".encode()).decode()
        ok = await elsewhere.post(
            "/auth/token", data={"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"}
        )
    assert ok.status_code == 200, ok.text
    assert len(api.app.state.login_throttle) == 0  # the operators' login counters are not the clients'
    clock.at += window
    assert (await _token(api, creds["clientId"], creds["clientSecret"])).status_code == 200  # the window ended


async def test_too_many_failures_for_one_client_id_get_429_from_any_address(api) -> None:
    _clocked(api)
    creds = await _client(api)
    window = int(api.settings.login_throttle_window.total_seconds())
    for n in range(api.settings.login_throttle_per_login):
        async with client_at(api, f"198.51.100.{n + 1}") as client:
            basic = base64.b64encode(f"{creds['clientId']}:{WRONG}".encode()).decode()
            resp = await client.post(
                "/auth/token", data={"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"}
            )
        assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
    _throttled(await _token(api, creds["clientId"], creds["clientSecret"]), window)


async def test_successful_tokens_are_not_counted_and_clear_their_client_id(api) -> None:
    _clocked(api)
    creds = await _client(api)
    for _ in range(3 * api.settings.login_throttle_per_address):
        assert (await _token(api, creds["clientId"], creds["clientSecret"])).status_code == 200
    for _ in range(2):
        for _ in range(api.settings.login_throttle_per_login - 1):
            assert (await _token(api, creds["clientId"], WRONG)).status_code == 401
        assert (await _token(api, creds["clientId"], creds["clientSecret"])).status_code == 200  # clears the id


async def test_malformed_and_missing_credentials_count_for_the_address(api) -> None:
    _clocked(api)
    window = int(api.settings.login_throttle_window.total_seconds())
    form = {"grant_type": "client_credentials"}
    for n in range(api.settings.login_throttle_per_address):
        headers = {"authorization": "Basic !!!"} if n % 2 else {}
        assert (await api.client.post("/auth/token", data=form, headers=headers)).status_code == 401
    _throttled(await api.client.post("/auth/token", data=form), window)
    # a wrong grant type is no authentication attempt: still its own 400
    assert (await api.client.post("/auth/token", data={"grant_type": "password"})).status_code == 400


async def test_refused_assertions_count_for_the_address_not_the_company_they_name(engine: Engine, tmp_path) -> None:
    """An assertion cannot be guessed, and its unverified issuer would let anyone hold back the partner it names:
    private_key_jwt failures count per address only."""
    world = World()
    identity = NodeIdentity(world.node.key, list(world.node.chain), world.trust)
    settings = make_settings(
        tmp_path,
        company_id=NODE,
        public_url="http://node.test",
        login_throttle_per_address=4,
        login_throttle_per_login=2,
    )
    app = create_app(settings, engine=engine, identity=identity)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as attacker:
        for n in range(4):
            forged = world.assertion(jti=f"bad-{n}", aud="http://elsewhere.test/auth/token")
            assert (await attacker.post("/auth/token", data=_form(forged))).status_code == 401
        refused = await attacker.post("/auth/token", data=_form(world.assertion(jti="good-1")))
        _throttled(refused, int(settings.login_throttle_window.total_seconds()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as peer:
        ok = await peer.post("/auth/token", data=_form(world.assertion(jti="good-2")))
    assert ok.status_code == 200, ok.text


async def test_x_forwarded_for_counts_only_behind_a_trusted_proxy(make_api) -> None:
    limits = {"login_throttle_per_address": 2, "login_throttle_per_login": 100}
    form = {"grant_type": "client_credentials"}
    async with make_api(**limits) as api:  # no trusted proxy: the header changes nothing
        for n in range(3):
            resp = await api.client.post("/auth/token", data=form, headers={"X-Forwarded-For": f"203.0.113.{n}"})
        assert resp.status_code == 429
    async with make_api(trusted_proxies=["127.0.0.1"], **limits) as api:  # ASGITransport connects from 127.0.0.1
        for n in range(3):
            resp = await api.client.post("/auth/token", data=form, headers={"X-Forwarded-For": f"203.0.113.{n}"})
            assert resp.status_code == 401  # three clients behind the proxy, one failure each
        for _ in range(2):
            await api.client.post("/auth/token", data=form, headers={"X-Forwarded-For": "203.0.113.50, 203.0.113.9"})
        spoofed = await api.client.post(
            "/auth/token", data=form, headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
        )  # only the proxy's own entry counts
        assert spoofed.status_code == 429
