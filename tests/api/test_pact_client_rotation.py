"""PACT client credentials: rotating or revoking a client's secret refuses every access token issued under it at once
(decision 0029), on the hot read path too; a change made by another process is seen within pact_read_cache_ttl."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import update

from connector.services import tokens
from connector.services.context import NodeContext
from connector.storage.tables import PeerClient

from .conftest import assert_problem
from .factories import commit_elsewhere, issued_footprint, product_urn

pytestmark = pytest.mark.asyncio

CUSTOMER = "urn:pact:customer.example:company:customer"


async def _client(api) -> dict[str, str]:
    return (await api.post("/api/v1/pact-clients", {"companyId": CUSTOMER}, role="admin")).json()


async def _token(api, client_id: str, secret: str) -> httpx.Response:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return await api.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"}
    )


async def _bearer(api, client_id: str, secret: str) -> dict[str, str]:
    r = await _token(api, client_id, secret)
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


async def _footprint(api) -> str:
    pid, fp_id = await issued_footprint(api, product_urn())
    assert (await api.post("/api/v1/grants", {"productId": pid, "companyId": CUSTOMER})).status_code == 201
    return fp_id


async def test_a_rotated_secret_refuses_its_old_tokens_at_once(api) -> None:
    fp_id = await _footprint(api)
    creds = await _client(api)
    old = await _bearer(api, creds["clientId"], creds["clientSecret"])
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=old)).status_code == 200
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=old)).status_code == 200  # remembered: no read

    rotated = await api.post(f"/api/v1/pact-clients/{creds['clientId']}/rotate", role="admin")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["clientSecret"]
    assert new_secret != creds["clientSecret"] and rotated.json()["clientId"] == creds["clientId"]

    refused = await api.client.get(f"/3/footprints/{fp_id}", headers=old)
    assert refused.status_code == 401 and refused.json()["code"] == "AccessDenied"
    assert (await api.client.get("/3/footprints", headers=old)).status_code == 401
    assert (await _token(api, creds["clientId"], creds["clientSecret"])).status_code == 401  # the old secret
    new = await _bearer(api, creds["clientId"], new_secret)
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=new)).status_code == 200
    listed = (await api.get("/api/v1/pact-clients", role="admin")).json()
    assert [(c["clientId"], c["revoked"], bool(c["rotatedAt"])) for c in listed] == [(creds["clientId"], False, True)]
    assert "clientSecret" not in listed[0]


async def test_a_revoked_client_is_refused_everywhere(api) -> None:
    fp_id = await _footprint(api)
    creds = await _client(api)
    other = await _client(api)  # another client of the same company keeps working
    bearer = await _bearer(api, creds["clientId"], creds["clientSecret"])
    kept = await _bearer(api, other["clientId"], other["clientSecret"])
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=bearer)).status_code == 200
    assert (await api.delete(f"/api/v1/pact-clients/{creds['clientId']}", role="editor")).status_code == 403
    assert (await api.delete(f"/api/v1/pact-clients/{creds['clientId']}", role="admin")).status_code == 204
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=bearer)).status_code == 401
    assert (await _token(api, creds["clientId"], creds["clientSecret"])).status_code == 401
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=kept)).status_code == 200
    assert_problem(await api.post(f"/api/v1/pact-clients/{creds['clientId']}/rotate", role="admin"), 409)
    assert_problem(await api.post("/api/v1/pact-clients/pact-nope/rotate", role="admin"), 404)
    assert_problem(await api.delete("/api/v1/pact-clients/pact-nope", role="admin"), 404)


async def test_a_basic_token_without_its_credential_generation_is_refused(api) -> None:
    """A token issued before credentials had generations (or forged without one, with the node's secret)."""
    fp_id = await _footprint(api)
    await _client(api)
    caller = tokens.Caller(company_id=CUSTOMER, method="client_secret_basic")
    issuer = api.settings.public_url.rstrip("/")
    secret, ttl = api.app.state.token_secret, api.settings.access_token_ttl
    value = tokens.issue_access_token(secret, caller, issuer, NodeContext.now(), ttl)
    resp = await api.client.get(f"/3/footprints/{fp_id}", headers={"authorization": f"Bearer {value}"})
    assert resp.status_code == 401


async def test_a_change_by_another_process_is_seen_within_the_ttl(api) -> None:
    at = [0.0]
    api.app.state.client_states = tokens.ClientStates(api.settings.pact_read_cache_ttl, clock=lambda: at[0])
    fp_id = await _footprint(api)
    creds = await _client(api)
    bearer = await _bearer(api, creds["clientId"], creds["clientSecret"])
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=bearer)).status_code == 200
    commit_elsewhere(  # another process (a CLI command on the same database): unseen here until the TTL
        api.engine, update(PeerClient).where(PeerClient.client_id == creds["clientId"]).values(revoked=True)
    )
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=bearer)).status_code == 200  # not seen yet
    at[0] += api.settings.pact_read_cache_ttl
    assert (await api.client.get(f"/3/footprints/{fp_id}", headers=bearer)).status_code == 401
