"""The peer client asks a peer's discovery document once per hour, and again as soon as a token request fails."""

from __future__ import annotations

import httpx
import pytest

from connector.config import Settings
from connector.protocols.pact.client import PactClient, PeerError

BASE = "https://peer.test"


class Peer:
    """A PACT host: discovery names /oauth/token; counts what was asked."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.token_status = 200
        self.discovery_down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if request.url.path == "/.well-known/openid-configuration":
            if self.discovery_down:
                raise httpx.ConnectError("down", request=request)
            return httpx.Response(200, json={"token_endpoint": f"{BASE}/oauth/token"})
        if request.url.path in ("/oauth/token", "/auth/token"):
            if self.token_status != 200:
                return httpx.Response(self.token_status, json={"error": "server_error"})
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(404)


def _client(peer: Peer) -> PactClient:
    settings = Settings(outgoing_basic_credentials={BASE: ("client", "secret")})
    return PactClient(settings, None, transport=httpx.MockTransport(peer))


@pytest.mark.asyncio
async def test_the_token_endpoint_is_discovered_once() -> None:
    peer = Peer()
    client = _client(peer)
    try:
        for _ in range(3):
            client._tokens.clear()  # as if each token had expired
            assert await client.token(BASE) == "t"
    finally:
        await client.aclose()
    assert peer.calls.count("/.well-known/openid-configuration") == 1
    assert peer.calls.count("/oauth/token") == 3


@pytest.mark.asyncio
async def test_a_failed_token_request_forgets_the_endpoint() -> None:
    peer = Peer()
    client = _client(peer)
    try:
        await client.token(BASE)
        client._tokens.clear()
        peer.token_status = 503
        with pytest.raises(PeerError):
            await client.token(BASE)
        peer.token_status = 200
        await client.token(BASE)
    finally:
        await client.aclose()
    assert peer.calls.count("/.well-known/openid-configuration") == 2  # asked again after the failure


@pytest.mark.asyncio
async def test_an_unreachable_discovery_falls_back_and_is_not_remembered() -> None:
    peer = Peer()
    peer.discovery_down = True
    client = _client(peer)
    try:
        assert await client.token(BASE) == "t"  # from the default /auth/token
        client._tokens.clear()
        peer.discovery_down = False
        await client.token(BASE)
    finally:
        await client.aclose()
    assert peer.calls == [
        "/.well-known/openid-configuration",
        "/auth/token",
        "/.well-known/openid-configuration",
        "/oauth/token",
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "raw",
    [
        b'{"data": {"id": "a"}, "data": {"id": "b"}}',
        b'{"data": {"x": NaN}}',
        b'{"data": {"x": 1e999999}}',
        b"[]",
        b"not json",
    ],
)
async def test_a_peer_answer_that_is_not_strict_json_is_a_peer_error(raw: bytes) -> None:
    """What a peer answers is read as strictly as what it sends: a footprint shown one way to us and another way to
    someone else's parser is refused, as a PeerError the outbox records (not an exception in the worker)."""
    peer = Peer()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith("/3/footprints/"):
            return httpx.Response(200, content=raw, headers={"content-type": "application/json"})
        return peer(request)

    client = PactClient(
        Settings(outgoing_basic_credentials={BASE: ("client", "secret")}), None, transport=httpx.MockTransport(answer)
    )
    try:
        with pytest.raises(PeerError, match="JSON"):
            await client.get_footprint(BASE, "3a6c14a7-4deb-498a-b5ea-16ce2535b576")
    finally:
        await client.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "permanent"), [(400, True), (422, True), (501, True), (401, False), (429, False), (503, False)]
)
async def test_an_event_a_host_does_not_implement_is_not_retried(status: int, permanent: bool) -> None:
    """A PACT host that does not know an event type answers 4xx (PACT v3 asks no host to ignore one) or 501
    (NotImplemented): no retry changes that, so our own refusal events to such a host end at once (decision 0019)
    instead of being retried for days; 401, 429 and 5xx other than 501 are still retried."""

    class Host(Peer):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/3/events":
                return httpx.Response(status, json={"code": "NotImplemented", "message": "unknown event type"})
            return super().__call__(request)

    client = _client(Host())
    try:
        with pytest.raises(PeerError) as caught:
            await client.send_event(BASE, {"type": "dev.example.Unknown.1", "id": "e"})
    finally:
        await client.aclose()
    assert caught.value.permanent is permanent
