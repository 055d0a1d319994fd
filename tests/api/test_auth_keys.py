"""API keys and roles: viewer reads, editor writes, admin manages keys."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from connector.storage.tables import ApiKey

from .conftest import assert_problem
from .factories import create_product, product_body

pytestmark = pytest.mark.asyncio

K = "/api/v1/api-keys"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "ck_nope_nope"},
        {"X-API-Key": "not-even-shaped"},
        {"X-API-Key": ""},
        {"X-API-Key": "ck_"},
        {"X-API-Key": "ck__"},
    ],
)
async def test_missing_or_wrong_key_is_401(api, headers):
    for method, url in (
        ("GET", "/api/v1/products"),
        ("POST", "/api/v1/products"),
        ("GET", K),
        ("GET", "/api/v1/footprints"),
        ("GET", "/api/v1/partners"),
        ("GET", "/api/v1/upstream-footprints"),
    ):
        resp = await api.client.request(method, url, headers=headers, json=product_body() if method == "POST" else None)
        assert_problem(resp, 401)
    assert (await api.get("/api/v1/products")).json()["total"] == 0


async def test_secret_must_match_prefix(api):
    prefix = api.admin.split("_")[1]
    assert_problem(await api.client.get(K, headers={"X-API-Key": f"ck_{prefix}_wrongsecret"}), 401)


async def test_viewer_cannot_write(api):
    product = await create_product(api)
    pid = product["id"]
    for method, url, body in (
        ("POST", "/api/v1/products", product_body()),
        ("PATCH", f"/api/v1/products/{pid}", {"name": "x"}),
        ("DELETE", f"/api/v1/products/{pid}", None),
        ("POST", f"/api/v1/products/{pid}/emissions", {"stage": "main_production", "value": "1"}),
        ("POST", f"/api/v1/products/{pid}/footprints", None),
        ("POST", "/api/v1/partners", {"companyId": "urn:pact:x.example:company:x", "name": "X"}),
        ("POST", "/api/v1/upstream-footprints", None),
        ("GET", K, None),
        ("POST", K, {"name": "k", "role": "viewer"}),
    ):
        resp = await api.client.request(method, url, json=body, headers=api.as_("viewer"))
        assert_problem(resp, 403)
    assert (await api.get(f"/api/v1/products/{pid}")).json()["name"] == product["name"]
    assert (await api.get("/api/v1/partners")).json()["total"] == 0


async def test_editor_cannot_manage_keys(api):
    assert_problem(await api.get(K, role="editor"), 403)
    assert_problem(await api.post(K, {"name": "k", "role": "admin"}, role="editor"), 403)
    assert_problem(await api.delete(f"{K}/{api.admin_key_id}", role="editor"), 403)


async def test_key_lifecycle(api):
    listed = await api.get(K, role="admin")
    assert listed.status_code == 200
    assert {k["role"] for k in listed.json()["items"]} == {"admin", "editor", "viewer"}
    assert all("key" not in k and "secretHash" not in k for k in listed.json()["items"])

    created = await api.post(K, {"name": "ci", "role": "editor"}, role="admin")
    assert created.status_code == 201, created.text
    secret = created.json()["key"]
    assert secret.startswith("ck_") and created.json()["prefix"] in secret
    with Session(api.engine) as session:
        row = session.get(ApiKey, created.json()["id"])
        assert row is not None and secret.split("_", 2)[2] not in row.secret_hash
    ok = await api.client.post("/api/v1/products", json=product_body(), headers={"X-API-Key": secret})
    assert ok.status_code == 201

    assert (await api.delete(f"{K}/{created.json()['id']}", role="admin")).status_code == 204
    assert_problem(await api.client.get("/api/v1/products", headers={"X-API-Key": secret}), 401)
    revoked = [k for k in (await api.get(K, role="admin")).json()["items"] if k["id"] == created.json()["id"]]
    assert revoked[0]["revoked"] is True
    assert_problem(await api.delete(f"{K}/00000000-0000-0000-0000-000000000000", role="admin"), 404)


async def test_bad_key_request(api):
    assert_problem(await api.post(K, {"name": "x", "role": "root"}, role="admin"), 422, "role")
    assert_problem(await api.post(K, {"name": "", "role": "viewer"}, role="admin"), 422, "name")
    assert (await api.get(K, role="admin")).json()["total"] == 3


async def test_last_admin_key_cannot_be_revoked(api):
    resp = await api.delete(f"{K}/{api.admin_key_id}", role="admin")
    assert_problem(resp, 409)
    assert (await api.get(K, role="admin")).status_code == 200

    second = (await api.post(K, {"name": "second admin", "role": "admin"}, role="admin")).json()
    assert (await api.delete(f"{K}/{api.admin_key_id}", role="admin")).status_code == 204
    assert_problem(await api.get(K, role="admin"), 401)
    # now the second admin is the last one
    resp = await api.client.delete(f"{K}/{second['id']}", headers={"X-API-Key": second["key"]})
    assert_problem(resp, 409)
    with Session(api.engine) as session:
        active = session.exec(select(ApiKey).where(ApiKey.role == "admin", ApiKey.revoked == False)).all()  # noqa: E712
        assert [k.id for k in active] == [second["id"]]


async def test_revoking_twice_is_harmless(api):
    created = (await api.post(K, {"name": "tmp", "role": "viewer"}, role="admin")).json()
    assert (await api.delete(f"{K}/{created['id']}", role="admin")).status_code == 204
    assert (await api.delete(f"{K}/{created['id']}", role="admin")).status_code == 204


async def test_api_key_pagination(api):
    for i in range(4):
        await api.post(K, {"name": f"k{i}", "role": "viewer"}, role="admin")
    resp = await api.get(K, role="admin", params={"limit": 3})
    assert resp.json()["total"] == 7 and len(resp.json()["items"]) == 3
    assert "offset=3" in resp.headers["link"]


async def test_health_needs_no_key(api):
    resp = await api.client.get("/health")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok" and resp.json()["companyId"] == api.settings.company_id


async def test_401_carries_a_challenge(api):
    resp = await api.client.get("/api/v1/products")
    assert_problem(resp, 401)
    assert "www-authenticate" in resp.headers
