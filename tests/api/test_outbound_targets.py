"""A node calls only the URLs its operator registered, and never a private address unless its settings allow it.

Before: a non-partner's RequestCreated with ``source=https://127.0.0.1:...`` made the node queue its answer there and
ask that address for a token (a blind SSRF any dataspace member could aim at the node's own network).
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, select

from connector.api.app import create_app
from connector.config import Settings
from connector.exchange import targets
from connector.protocols.pact import events
from connector.protocols.pact.client import PactClient, PeerError
from connector.storage.tables import CfpRequest, OutboxMessage

from .conftest import assert_problem, make_settings, seed_keys
from .factories import issued_footprint, pact_bearer

pytestmark = pytest.mark.asyncio

NODE = "urn:pact:test-node.example:company:test-node"
STRANGER = "urn:pact:stranger.example:company:stranger"
PRODUCT = "urn:pact:test-node.example:product:thing"
HOSTILE = [
    "https://127.0.0.1:6379",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]:5432",
    "http://10.0.0.5:8080",
    "https://localhost:8443",
    "http://192.168.1.1",
    "http://[::ffff:127.0.0.1]:80",
]


class Recorder:
    """Stands in for the network: records every request, answers a token and 200 to the rest."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(200, json={})


async def test_a_non_partner_event_with_a_hostile_source_queues_and_calls_nothing(engine, tmp_path) -> None:
    recorder = Recorder()
    settings = make_settings(tmp_path, run_workers=True, allow_private_network_targets=True)  # even allowed
    app = create_app(settings, engine=engine, transport=httpx.MockTransport(recorder))
    secrets = seed_keys(engine)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client,
    ):
        await issued_footprint(_Api(client, secrets), PRODUCT, "1.5")
        bearer = await pact_bearer(_Api(client, secrets), STRANGER)  # a dataspace member, not a partner
        for i, source in enumerate(HOSTILE):
            wanted = [PRODUCT] if i % 2 else ["urn:pact:nothing-here"]  # one answered at once, one rejected
            event = {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": source,
                "time": datetime.now(UTC).isoformat(),
                "type": events.REQUEST_CREATED,
                "data": {"productId": wanted},
            }
            assert (await client.post("/3/events", json=event, headers=bearer)).status_code == 200
        await app.state.worker.run_once()
        await asyncio.sleep(0.05)
    with Session(engine) as session:
        assert session.exec(select(OutboxMessage)).all() == []  # nothing queued
        requests = session.exec(select(CfpRequest)).all()
    assert len(requests) == len(HOSTILE)  # recorded for the operator, without a URL to answer to
    assert all(r.callback_url is None for r in requests)
    assert recorder.urls == []  # nothing called


class _Api:
    """The bits of tests.api.conftest.Api that ``issued_footprint`` uses."""

    def __init__(self, client: httpx.AsyncClient, secrets: dict[str, str]) -> None:
        self.client, self._secrets = client, secrets

    def as_(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self._secrets[role]}

    async def get(self, url: str, role: str = "viewer", **kw):
        return await self.client.get(url, headers=self.as_(role), **kw)

    async def post(self, url: str, json: object = None, role: str = "editor", **kw):
        return await self.client.post(url, json=json, headers=self.as_(role), **kw)


async def test_answers_go_to_the_partner_registered_url_not_to_the_source(api) -> None:
    await issued_footprint(api, PRODUCT, "1.5")
    partner = {
        "companyId": STRANGER,
        "name": "Customer",
        "isCustomer": True,
        "autoFulfil": True,
        "nodeUrl": "https://customer.example",
    }
    assert (await api.post("/api/v1/partners", partner)).status_code == 201
    bearer = await pact_bearer(api, STRANGER)
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "https://127.0.0.1:6379",
        "time": datetime.now(UTC).isoformat(),
        "type": events.REQUEST_CREATED,
        "data": {"productId": [PRODUCT]},
    }
    r = await api.client.post("/3/events", json=event, headers=bearer)
    assert r.status_code == 200
    with Session(api.engine) as session:
        assert [m.target_url for m in session.exec(select(OutboxMessage))] == ["https://customer.example"]


async def test_a_partner_on_a_private_address_is_refused_unless_the_settings_allow_it(api, make_api) -> None:
    for i, url in enumerate(HOSTILE):
        body = {"companyId": f"urn:pact:p{i}.example:company:p", "name": "P", "isSupplier": True, "nodeUrl": url}
        problem = assert_problem(await api.post("/api/v1/partners", body), 422, "nodeUrl")
        assert "allow_private_network_targets" in problem["detail"]
    assert (await api.get("/api/v1/partners")).json()["total"] == 0
    ok = {
        "companyId": "urn:pact:ok.example:company:ok",
        "name": "OK",
        "isSupplier": True,
        "nodeUrl": "https://supplier.example",
    }
    r = await api.post("/api/v1/partners", ok)
    assert r.status_code == 201
    problem = assert_problem(await api.patch(f"/api/v1/partners/{r.json()['id']}", {"nodeUrl": HOSTILE[1]}), 422)
    async with make_api(allow_private_network_targets=True) as lan:
        for i, url in enumerate(HOSTILE):
            body = {"companyId": f"urn:pact:p{i}.example:company:p", "name": "P", "isSupplier": True, "nodeUrl": url}
            assert (await lan.post("/api/v1/partners", body)).status_code == 201, url


def _client(recorder: Recorder, *, allow: bool, base: str) -> PactClient:
    settings = Settings(outgoing_basic_credentials={base: ("client", "secret")}, allow_private_network_targets=allow)
    return PactClient(settings, None, transport=httpx.MockTransport(recorder))


async def test_the_client_refuses_a_private_target_already_registered_unless_allowed() -> None:
    event = events.cloud_event(events.PUBLISHED, "https://us.example", {"pfIds": [str(uuid.uuid4())]})
    for url in HOSTILE:
        recorder = Recorder()
        client = _client(recorder, allow=False, base=url)
        with pytest.raises(PeerError, match="allow_private_network_targets") as refused:
            await client.send_event(url, event)
        assert refused.value.permanent and recorder.urls == []
        await client.aclose()
        client = _client(recorder, allow=True, base=url)
        await client.send_event(url, event)  # allowed: the call goes out
        assert recorder.urls[-1].endswith("/3/events")
        await client.aclose()


async def test_a_discovered_token_endpoint_on_a_private_address_is_refused() -> None:
    base = "https://partner.example"
    calls: list[str] = []

    def peer(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(200, json={"token_endpoint": "http://169.254.169.254/latest/api/token"})
        return httpx.Response(200, json={"access_token": "t", "expires_in": 60})

    client = PactClient(
        Settings(outgoing_basic_credentials={base: ("c", "s")}), None, transport=httpx.MockTransport(peer)
    )
    with pytest.raises(PeerError, match="169.254.169.254") as refused:
        await client.send_event(base, events.cloud_event(events.PUBLISHED, base, {"pfIds": [str(uuid.uuid4())]}))
    assert refused.value.permanent
    assert calls == [f"{base}/.well-known/openid-configuration"]  # asked the partner; never the address it named
    await client.aclose()


async def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch) -> None:
    answers = {"inside.example": "10.1.2.3", "outside.example": "93.184.215.14", "v6.example": "fd00::1"}

    async def getaddrinfo(self, host, port, **kw):
        if host not in answers:
            raise socket.gaierror("unknown")
        family = socket.AF_INET6 if ":" in answers[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    targets._RESOLVED.clear()
    for url in ("https://inside.example", "https://v6.example:8443/x"):
        with pytest.raises(targets.TargetRefused, match="resolves to"):
            await targets.check_resolved(url, allow_private=False)
        await targets.check_resolved(url, allow_private=True)
    await targets.check_resolved("https://outside.example", allow_private=False)
    await targets.check_resolved("https://nowhere.example", allow_private=False)  # fails on its own later
    for bad in ("ftp://outside.example", "https:///nohost", "https://outside.example:99999"):
        with pytest.raises(targets.TargetRefused):
            targets.check_url(bad, allow_private=True)
    targets._RESOLVED.clear()
