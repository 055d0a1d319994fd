"""/auth/token with private_key_jwt (RFC 7523) signed by a dataspace certificate, and the access tokens it gives."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine

from connector.api.app import create_app
from connector.attestation.jws import sign_jws_json
from connector.identity import TrustStore
from connector.services import tokens
from connector.services.identity import NodeIdentity
from tests.pki import make_pki

from .conftest import make_settings

pytestmark = pytest.mark.asyncio

NODE = "urn:pact:node.example:company:node"
PEER = "urn:pact:peer.example:company:peer"
ENDPOINT = "http://node.test/auth/token"


class World:
    def __init__(self) -> None:
        self.now = now = datetime.now(UTC)  # per test: tokens made at import time would expire in a long run
        self.pki = make_pki("Auth", at=now - timedelta(days=1))
        self.node = self.pki.company(NODE, "supplier", at=now - timedelta(hours=1))
        self.peer = self.pki.company(PEER, "oem", at=now - timedelta(hours=1))
        self.trust = TrustStore([self.pki.root.certificate], intermediates=[self.pki.inter.certificate])

    def assertion(self, issued=None, **claims) -> str:
        issued = issued or self.peer
        now = int(self.now.timestamp())
        claims = {k: (now + int(v.total_seconds()) if isinstance(v, timedelta) else v) for k, v in claims.items()}
        payload = {"iss": PEER, "sub": PEER, "aud": ENDPOINT, "iat": now, "exp": now + 60, "jti": "jti-1", **claims}
        return sign_jws_json(payload, issued.key, list(issued.chain), "JWT")


@pytest_asyncio.fixture
async def world_client(engine: Engine, tmp_path) -> AsyncIterator[tuple[World, httpx.AsyncClient]]:
    world = World()
    identity = NodeIdentity(world.node.key, list(world.node.chain), world.trust)
    app = create_app(
        make_settings(tmp_path, company_id=NODE, public_url="http://node.test"), engine=engine, identity=identity
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        yield world, client


def _form(assertion: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": tokens.ASSERTION_TYPE,
        "client_assertion": assertion,
    }


async def test_a_valid_assertion_gives_a_short_lived_token_bound_to_the_company(world_client) -> None:
    world, client = world_client
    r = await client.post("/auth/token", data=_form(world.assertion()))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 3600
    claims = json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "=="))
    assert claims["sub"] == PEER
    r = await client.get("/3/footprints", headers={"authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200 and r.json() == {"data": []}


async def test_a_replayed_jti_is_refused(world_client) -> None:
    world, client = world_client
    assertion = world.assertion(jti="once")
    assert (await client.post("/auth/token", data=_form(assertion))).status_code == 200
    r = await client.post("/auth/token", data=_form(assertion))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    # same jti in a fresh assertion is a replay too
    assert (await client.post("/auth/token", data=_form(world.assertion(jti="once")))).status_code == 401


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "http://elsewhere.test/auth/token"},  # wrong audience
        {"exp": timedelta(seconds=-5)},  # expired assertion (relative to now)
        {"exp": timedelta(hours=2)},  # lifetime far too long
        {"iss": "urn:pact:mallory.example:company:mallory"},  # claims another company
        {"jti": ""},  # no jti
    ],
    ids=["audience", "expired", "lifetime", "issuer", "jti"],
)
async def test_bad_assertions_are_refused(world_client, claims) -> None:
    world, client = world_client
    r = await client.post("/auth/token", data=_form(world.assertion(**claims)))
    assert r.status_code == 401, r.text
    assert r.json() == {"error": "invalid_client", "error_description": "client authentication failed"}


async def test_certificates_from_another_ca_or_tampered_assertions_are_refused(world_client) -> None:
    world, client = world_client
    stranger = make_pki("Other", at=world.now - timedelta(days=1)).company(
        PEER, "oem", at=world.now - timedelta(hours=1)
    )
    assert (await client.post("/auth/token", data=_form(world.assertion(issued=stranger)))).status_code == 401
    header, payload, signature = world.assertion(jti="t").split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged["sub"] = forged["iss"] = "urn:pact:other.example:company:other"
    forged_b64 = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    assert (await client.post("/auth/token", data=_form(f"{header}.{forged_b64}.{signature}"))).status_code == 401
    # alg none, with the certificate still attached
    none_header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    assert (await client.post("/auth/token", data=_form(f"{none_header}.{payload}."))).status_code == 401


async def test_tokens_are_checked_on_every_peer_route(world_client) -> None:
    world, client = world_client
    assert (await client.get("/3/footprints")).status_code == 401
    expired = tokens.issue_access_token(
        b"x" * 32, tokens.Caller(PEER, "test"), "http://node.test", world.now - timedelta(hours=1), timedelta(minutes=1)
    )
    r = await client.get("/3/footprints", headers={"authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["code"] in ("BadRequest", "TokenExpired")
    r = await client.post("/auth/token", data={"grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


async def test_discovery_names_the_token_endpoint(world_client) -> None:
    _, client = world_client
    doc = (await client.get("/.well-known/openid-configuration")).json()
    assert doc["token_endpoint"] == ENDPOINT
    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]


async def test_an_expired_access_token_says_token_expired() -> None:
    now = datetime.now(UTC)
    secret = b"s" * 32
    token = tokens.issue_access_token(secret, tokens.Caller(PEER, "test"), "http://n", now, timedelta(minutes=1))
    assert tokens.verify_access_token(secret, token, "http://n", now).company_id == PEER
    with pytest.raises(tokens.TokenExpired):
        tokens.verify_access_token(secret, token, "http://n", now + timedelta(minutes=2))
    with pytest.raises(tokens.Unauthenticated):
        tokens.verify_access_token(b"t" * 32, token, "http://n", now)  # another node's secret
