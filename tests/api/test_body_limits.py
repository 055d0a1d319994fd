"""Two body limits: 1 MiB for the operator API (and every other route), a larger one for the peer event endpoints.

A RequestFulfilledEvent carries the nested sealed evidence of the whole chain below its sender; at depth 8 it is
well over 1 MiB, so ``POST /3/events`` and ``POST /peer/v1/certifications`` accept up to ``max_event_bytes``.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest

from .conftest import Api, assert_problem, make_settings, open_api
from .factories import pact_bearer, product_body

pytestmark = pytest.mark.asyncio

MIB = 1_048_576
PEER = "urn:pact:peer.example:company:peer"


async def _bearer(api: Api) -> dict[str, str]:
    r = await api.post("/api/v1/partners", {"companyId": PEER, "name": "Peer", "isCustomer": True})
    assert r.status_code == 201, r.text
    return await pact_bearer(api, PEER)


def _published(padding: int) -> bytes:
    event = {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "http://peer.test",
        "type": "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "time": datetime.now(UTC).isoformat(),
        "data": {"pfIds": [str(uuid.uuid4())], "x-padding": "x" * padding},
    }
    return json.dumps(event).encode()


async def test_defaults() -> None:
    settings = make_settings(".")
    assert settings.max_body_bytes == MIB
    assert settings.max_event_bytes == 64 * MIB


async def test_operator_body_over_1_mib_is_413(api: Api) -> None:
    big = product_body(description="x" * (MIB + 10))
    body = assert_problem(await api.post("/api/v1/products", big), 413)
    assert str(MIB) in body["detail"]
    assert (await api.get("/api/v1/products")).json()["total"] == 0
    # the token endpoint and every other route keep the small limit too
    r = await api.client.post(
        "/auth/token",
        content=b"grant_type=client_credentials&x=" + b"x" * (MIB + 10),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413


async def test_event_body_between_the_limits_is_accepted(api: Api) -> None:
    headers = {**await _bearer(api), "content-type": "application/cloudevents+json"}
    raw = _published(2 * MIB)
    assert MIB < len(raw) < 64 * MIB
    r = await api.client.post("/3/events", content=raw, headers=headers)
    assert r.status_code == 200, r.text[:300]

    async def chunks():  # streamed, without a Content-Length: counted against the event limit too
        for i in range(0, len(raw), 256 * 1024):
            yield raw[i : i + 256 * 1024]

    r = await api.client.post("/3/events", content=_published(2 * MIB), headers=headers)
    assert r.status_code == 200
    r = await api.client.post("/3/events", content=chunks(), headers=headers)
    assert r.status_code == 200  # the same event id again: accepted, changes nothing
    # certification requests carry evidence as well: not refused for size (this node is no verifier: a 4xx, not 413)
    big = json.dumps({"attestation": "a.b.c", "evidence": {"pad": "x" * (2 * MIB)}}).encode()
    r = await api.client.post(
        "/peer/v1/certifications", content=big, headers={**headers, "content-type": "application/json"}
    )
    assert r.status_code != 413
    # so does a bundle handed to a verifier node (this node is no verifier: refused, but not for its size)
    r = await api.client.post(
        "/api/v1/verify", content=big, headers={"X-API-Key": api.editor, "content-type": "application/json"}
    )
    assert r.status_code not in (413, 500)


async def test_event_body_over_the_event_limit_is_413(engine, tmp_path) -> None:
    async for api in open_api(engine, make_settings(tmp_path, max_body_bytes=1000, max_event_bytes=50_000)):
        headers = {**await _bearer(api), "content-type": "application/cloudevents+json"}
        assert (await api.client.post("/3/events", content=_published(10_000), headers=headers)).status_code == 200
        r = await api.client.post("/3/events", content=_published(60_000), headers=headers)
        assert r.status_code == 413
        assert r.json()["code"] == "BadRequest"  # a PACT error body on /3
        raw = _published(60_000)

        async def chunks():
            for i in range(0, len(raw), 8192):
                yield raw[i : i + 8192]

        assert (await api.client.post("/3/events", content=chunks(), headers=headers)).status_code == 413
        # the larger limit is for POST on those two paths only
        assert_problem(await api.post("/api/v1/products", product_body(description="x" * 2000)), 413)


async def _through_middleware(http_version: str, headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, bool]:
    """(status, whether the app got the server's own receive) of a POST through BodySizeLimit(max_bytes=100)."""
    from connector.api.limits import BodySizeLimit

    chunks = [body[i : i + 64] for i in range(0, len(body), 64)] or [b""]
    sent: list[dict] = []
    got_own_receive = False

    async def receive():
        chunk = chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    async def send(message):
        sent.append(message)

    async def app(scope, rcv, snd):
        nonlocal got_own_receive
        got_own_receive = rcv is receive
        while (await rcv()).get("more_body"):
            pass
        await snd({"type": "http.response.start", "status": 200, "headers": []})
        await snd({"type": "http.response.body", "body": b"ok"})

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/products",
        "http_version": http_version,
        "headers": headers,
    }
    await BodySizeLimit(app, 100)(scope, receive, send)
    return sent[0]["status"], got_own_receive


async def test_a_body_without_length_headers_is_counted_unless_http1_says_there_is_none() -> None:
    # HTTP/1.1 without Content-Length or Transfer-Encoding has no body (RFC 9112 6.3): passed straight through
    assert await _through_middleware("1.1", [], b"") == (200, True)
    # HTTP/2 frames a body without either header: counted, and refused over the limit
    assert (await _through_middleware("2", [], b"x" * 500))[0] == 413
    assert await _through_middleware("2", [], b"x" * 50) == (200, False)
    assert (await _through_middleware("1.1", [(b"transfer-encoding", b"chunked")], b"x" * 500))[0] == 413
