"""Users on the operator API: login for a token pair, bearer access with role checks, refresh, logout, admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from connector.services import accounts
from connector.services.context import NodeContext

from .conftest import assert_problem
from .factories import product_body

pytestmark = pytest.mark.asyncio

PASSWORD = "correct horse battery staple"
TOKEN = "/api/v1/auth/token"


def add_user(api, login: str, role: str, password: str = PASSWORD) -> None:
    with Session(api.engine, expire_on_commit=False) as session:
        accounts.create_user(NodeContext(session=session, settings=api.settings), login, password, role)
        session.commit()


async def login(api, login: str, password: str = PASSWORD):
    return await api.client.post(TOKEN, json={"login": login, "password": password})


async def bearer(api, login_: str, role: str) -> dict[str, str]:
    add_user(api, login_, role)
    resp = await login(api, login_)
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['accessToken']}"}


async def test_login_gives_a_token_pair_that_opens_the_operator_api(api):
    add_user(api, "Alice", "editor")
    resp = await login(api, "ALICE")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["tokenType"] == "Bearer" and body["user"]["login"] == "alice" and body["user"]["role"] == "editor"
    assert 0 < body["expiresIn"] <= api.settings.user_access_token_ttl.total_seconds()
    assert "passwordHash" not in body["user"] and "password" not in resp.text
    headers = {"Authorization": f"Bearer {body['accessToken']}"}
    created = await api.client.post("/api/v1/products", json=product_body(), headers=headers)
    assert created.status_code == 201, created.text
    assert (await api.client.get("/api/v1/products", headers=headers)).json()["total"] == 1


async def test_role_limits_apply_to_users(api):
    viewer = await bearer(api, "vera", "viewer")
    assert (await api.client.get("/api/v1/products", headers=viewer)).status_code == 200
    assert_problem(await api.client.post("/api/v1/products", json=product_body(), headers=viewer), 403)
    assert_problem(await api.client.get("/api/v1/users", headers=viewer), 403)
    editor = await bearer(api, "eddie", "editor")
    assert_problem(await api.client.get("/api/v1/users", headers=editor), 403)
    assert_problem(await api.client.get("/api/v1/api-keys", headers=editor), 403)
    verifier = await bearer(api, "vic", "verifier")
    assert (await api.client.get("/api/v1/products", headers=verifier)).status_code == 200
    assert_problem(await api.client.post("/api/v1/products", json=product_body(), headers=verifier), 403)
    checked = await api.client.post("/api/v1/verify", json={}, headers=verifier)  # admitted; the bundle is bad
    assert checked.status_code not in (401, 403), checked.text
    assert_problem(await api.client.post("/api/v1/verify", json={}, headers=viewer), 403)


@pytest.mark.parametrize(
    "value", ["Bearer cua_nope", "Bearer cur_nope", "Bearer ", "Basic YTpi", "Bearer " + "x" * 500]
)
async def test_a_bad_bearer_token_is_401(api, value):
    assert_problem(await api.client.get("/api/v1/products", headers={"Authorization": value}), 401)


async def test_no_user_enumeration(api):
    add_user(api, "alice", "viewer")
    unknown, wrong = await login(api, "mallory"), await login(api, "alice", "not the right password")
    for resp in (unknown, wrong):
        assert_problem(resp, 401)
    assert unknown.json() == wrong.json()


async def test_lockout_over_http_is_kept_and_an_admin_unlocks(api):
    add_user(api, "alice", "viewer")
    for _ in range(api.settings.login_max_failures - 1):
        assert_problem(await login(api, "alice", "not the right password"), 401)
    locked = await login(api, "alice", "not the right password")  # each failure was committed with its 401
    assert_problem(locked, 401)
    assert locked.json()["type"].endswith("/login-failed")
    assert_problem(await login(api, "alice"), 401)  # the right password: refused while locked
    users = (await api.get("/api/v1/users", role="admin")).json()
    assert users[0]["lockedUntil"] and users[0]["failedAttempts"] == api.settings.login_max_failures
    assert_problem(await api.post("/api/v1/users/alice/unlock", role="editor"), 403)
    assert (await api.post("/api/v1/users/alice/unlock", role="admin")).json()["lockedUntil"] is None
    assert (await login(api, "alice")).status_code == 200


async def test_lock_ends_after_the_period(api, monkeypatch):
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(NodeContext, "now", staticmethod(lambda: at))
    add_user(api, "alice", "viewer")
    for _ in range(api.settings.login_max_failures):
        await login(api, "alice", "not the right password")
    assert_problem(await login(api, "alice"), 401)
    at += api.settings.login_lockout
    assert (await login(api, "alice")).status_code == 200


async def test_access_token_expires(api, monkeypatch):
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    monkeypatch.setattr(NodeContext, "now", staticmethod(lambda: at))
    headers = await bearer(api, "alice", "viewer")
    assert (await api.client.get("/api/v1/products", headers=headers)).status_code == 200
    at += api.settings.user_access_token_ttl + timedelta(seconds=1)
    assert_problem(await api.client.get("/api/v1/products", headers=headers), 401)


async def test_refresh_rotates_and_reuse_is_refused_and_revokes(api):
    add_user(api, "alice", "viewer")
    first = (await login(api, "alice")).json()
    second = await api.client.post(f"{TOKEN}/refresh", json={"refreshToken": first["refreshToken"]})
    assert second.status_code == 200, second.text
    new = second.json()
    assert new["refreshToken"] != first["refreshToken"] and new["user"]["login"] == "alice"
    headers = {"Authorization": f"Bearer {new['accessToken']}"}
    assert (await api.client.get("/api/v1/products", headers=headers)).status_code == 200
    reused = await api.client.post(f"{TOKEN}/refresh", json={"refreshToken": first["refreshToken"]})
    assert_problem(reused, 401)
    assert_problem(await api.client.get("/api/v1/products", headers=headers), 401)  # revocation was committed
    again = await api.client.post(f"{TOKEN}/refresh", json={"refreshToken": new["refreshToken"]})
    assert_problem(again, 401)


async def test_logout_revokes_the_token(api):
    headers = await bearer(api, "alice", "viewer")
    resp = await api.client.post("/api/v1/auth/logout", headers=headers)
    assert resp.status_code == 204, resp.text
    assert_problem(await api.client.get("/api/v1/products", headers=headers), 401)
    assert_problem(await api.client.post("/api/v1/auth/logout", headers=headers), 401)
    assert_problem(await api.client.post("/api/v1/auth/logout"), 401)


async def test_admin_manages_users(api):
    admin = await bearer(api, "root.admin", "admin")
    body = {"login": "Eddie", "password": PASSWORD, "role": "editor", "displayName": "Eddie E."}
    created = await api.client.post("/api/v1/users", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["login"] == "eddie" and created.json()["displayName"] == "Eddie E."
    assert_problem(await api.client.post("/api/v1/users", json={**body, "login": "EDDIE"}, headers=admin), 409)
    short = await api.client.post("/api/v1/users", json={**body, "login": "x", "password": "short"}, headers=admin)
    assert_problem(short, 422, "password")
    bad_role = await api.client.post("/api/v1/users", json={**body, "login": "y", "role": "root"}, headers=admin)
    assert_problem(bad_role, 422, "role")
    eddie = {"Authorization": f"Bearer {(await login(api, 'eddie')).json()['accessToken']}"}
    changed = await api.client.patch("/api/v1/users/EDDIE", json={"role": "viewer"}, headers=admin)
    assert changed.json()["role"] == "viewer"
    assert_problem(await api.client.post("/api/v1/products", json=product_body(), headers=eddie), 403)  # at once
    assert (await api.client.patch("/api/v1/users/eddie", json={"disabled": True}, headers=admin)).status_code == 200
    assert_problem(await api.client.get("/api/v1/products", headers=eddie), 401)
    assert_problem(await login(api, "eddie"), 401)
    assert_problem(await api.client.patch("/api/v1/users/nobody", json={"role": "viewer"}, headers=admin), 404)
    listed = (await api.client.get("/api/v1/users", headers=admin)).json()
    assert [u["login"] for u in listed] == ["eddie", "root.admin"]
    assert all("password" not in str(u).lower() for u in listed)
