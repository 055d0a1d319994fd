"""An operator API client per test, over ASGITransport, on each back end, with one key per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.api.app import create_app
from connector.config import Settings
from connector.services import api_keys
from connector.services.identity import NodeIdentity

COMPANY = "urn:pact:test-node.example:company:test-node"


@dataclass
class Api:
    """A client with the node's app and engine, and the secrets of an admin, an editor and a viewer key."""

    client: httpx.AsyncClient
    app: FastAPI
    engine: Engine
    settings: Settings
    admin: str
    editor: str
    viewer: str
    admin_key_id: str
    headers: dict[str, str] = field(default_factory=dict)

    def as_(self, role: str) -> dict[str, str]:
        return {"X-API-Key": getattr(self, role)}

    async def get(self, url: str, role: str = "viewer", **kw) -> httpx.Response:
        return await self.client.get(url, headers=self.as_(role), **kw)

    async def post(self, url: str, json: object = None, role: str = "editor", **kw) -> httpx.Response:
        return await self.client.post(url, json=json, headers=self.as_(role), **kw)

    async def patch(self, url: str, json: object = None, role: str = "editor", **kw) -> httpx.Response:
        return await self.client.patch(url, json=json, headers=self.as_(role), **kw)

    async def delete(self, url: str, role: str = "editor", **kw) -> httpx.Response:
        return await self.client.delete(url, headers=self.as_(role), **kw)


def make_settings(tmp_path, **overrides) -> Settings:
    values = {"company_id": COMPANY, "company_name": "Test Node", "data_dir": tmp_path, "run_workers": False}
    values.update(overrides)
    return Settings(**values)


def seed_keys(engine: Engine) -> dict[str, str]:
    """Create one key per role the way `connector init` does: through the keys service."""
    out: dict[str, str] = {}
    with Session(engine, expire_on_commit=False) as session:
        for role in ("admin", "editor", "viewer"):
            key, secret = api_keys.create_key(session, f"test {role}", role)
            out[role] = secret
            out[f"{role}_id"] = key.id
        session.commit()
    return out


async def open_api(engine: Engine, settings: Settings, identity: NodeIdentity | None = None) -> AsyncIterator[Api]:
    app = create_app(settings, engine=engine, identity=identity)
    secrets = seed_keys(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
        yield Api(
            client, app, engine, settings, secrets["admin"], secrets["editor"], secrets["viewer"], secrets["admin_id"]
        )


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path)


@pytest_asyncio.fixture
async def api(engine: Engine, settings: Settings) -> AsyncIterator[Api]:
    """The node's operator API on a fresh database."""
    async for a in open_api(engine, settings):
        yield a


@pytest.fixture
def make_api(make_db: Callable[[], Engine], tmp_path):
    """Open more nodes in one test: ``async with make_api(company_id=...) as api``."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def factory(**overrides) -> AsyncIterator[Api]:
        settings = make_settings(tmp_path, **overrides)
        gen = open_api(make_db(), settings)
        a = await gen.__anext__()
        try:
            yield a
        finally:
            await gen.aclose()

    return factory


def assert_problem(resp: httpx.Response, status: int, *fields: str) -> dict:
    """An RFC 9457 body with type/title/status/detail; for 422 an ``errors`` list naming ``fields``."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers["content-type"]
    body = resp.json()
    for name in ("type", "title", "status", "detail"):
        assert body.get(name), f"problem without {name}: {body}"
    assert body["status"] == status
    if status == 422:
        assert isinstance(body.get("errors"), list) and body["errors"], body
        named = " ".join(str(e.get("field")) for e in body["errors"])
        for f in fields:
            assert f in named, f"{f!r} not named in {body['errors']}"
    return body
