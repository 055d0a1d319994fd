"""The node's connections go only to addresses that were checked (``exchange.targets.PinnedBackend``).

Before: the addresses a name resolved to were checked before a call, and the connection then resolved the name again;
a DNS answer that changed in between (DNS rebinding: public for the check, 127.0.0.1 for the connection) reached the
node's own network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpcore
import httpx
import pytest

from connector.config import OuranosLogin, Settings
from connector.exchange import targets
from connector.identity import issue_tls_certificate
from connector.identity.files import write_certificates, write_private_key
from connector.protocols.catenax import adapter as catenax_adapter
from connector.protocols.catenax.edc import Access, EdcClient
from connector.protocols.ouranos.client import DtsClient
from connector.protocols.pact import events
from connector.protocols.pact.client import PactClient, PeerError
from tests.pki import make_pki

pytestmark = pytest.mark.asyncio

PUBLIC = "93.184.215.14"
TOKEN = b'{"access_token": "t", "token_type": "Bearer", "expires_in": 3600}'


@pytest.fixture(autouse=True)
def _no_env_proxy(monkeypatch) -> Iterable[None]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    targets._RESOLVED.clear()
    yield
    targets._RESOLVED.clear()


class Server:
    """A local HTTP(S) server that answers a token to ``.../auth/token`` and ``{}`` to the rest, and records every
    connection and request (method, target, headers)."""

    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.context = context
        self.connections = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode()
            lines = head.split("\r\n")
            method, target, _ = lines[0].split(" ")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests.append((method, target, headers))
            body = TOKEN if target.endswith("/auth/token") else b"{}"
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n"
                b"content-length: %d\r\n\r\n%s" % (len(body), body)
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[int]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self.context)
        async with server:
            yield server.sockets[0].getsockname()[1]


def _resolver(monkeypatch, *answers: list[str]) -> list[str]:
    """The event loop's resolver (the one every resolution of a name goes through, the check's, the connection's)
    answers ``answers`` for names in turn, the last one from then on; IP literals stay themselves. The names asked
    are returned."""
    asked: list[str] = []

    async def getaddrinfo(self, host, port, *, family=0, type=0, proto=0, flags=0):  # noqa: A002 - the loop's names
        try:
            found = [str(ipaddress.ip_address(host))]
        except ValueError:
            asked.append(host)
            found = answers[min(len(asked), len(answers)) - 1]
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in found
        ]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return asked


def _client(base: str, *, allow: bool) -> PactClient:
    settings = Settings(outgoing_basic_credentials={base: ("client", "secret")}, allow_private_network_targets=allow)
    return PactClient(settings, None)  # no transport: the real network, through the pinned backend


def _event() -> dict[str, Any]:
    return events.cloud_event(events.PUBLISHED, "https://us.example", {"pfIds": [str(uuid.uuid4())]})


async def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_connected_to(monkeypatch) -> None:
    server = Server()
    async with server.running() as port:
        base = f"http://partner.example:{port}"
        asked = _resolver(monkeypatch, [PUBLIC], ["127.0.0.1"])  # public for the check, loopback for the connection
        client = _client(base, allow=False)
        try:
            with pytest.raises(PeerError, match="allow_private_network_targets") as refused:
                await client.send_event(base, _event())
            assert refused.value.permanent
            assert "127.0.0.1" in str(refused.value)
            assert server.connections == 0  # the loopback server was never reached
            assert len(asked) >= 2  # checked before the call, resolved again (and checked) for the connection
            # the refusal is remembered: the next call is refused by the check before any connection
            asked.clear()
            with pytest.raises(PeerError, match="allow_private_network_targets"):
                await client.send_event(base, _event())
            assert asked == [] and server.connections == 0
        finally:
            await client.aclose()


async def test_a_call_whose_connection_is_refused_fails_permanently(monkeypatch) -> None:
    """The token already held, the only connection is the call's own: refused as it opens, a permanent failure."""
    server = Server()
    async with server.running() as port:
        base = f"http://partner.example:{port}"
        _resolver(monkeypatch, [PUBLIC], ["127.0.0.1"])
        client = _client(base, allow=False)

        async def token(_base: str) -> str:
            return "held"

        monkeypatch.setattr(client, "token", token)
        try:
            with pytest.raises(PeerError, match="allow_private_network_targets") as refused:
                await client.send_event(base, _event())
            assert refused.value.permanent and server.connections == 0
        finally:
            await client.aclose()


async def test_the_connection_is_refused_even_when_the_check_is_skipped(monkeypatch) -> None:
    """The backend checks on its own: a call that did not go through ``check_resolved`` (an Ouranos platform's) is
    refused too, as a TargetRefused that is also an httpx.ConnectError."""
    server = Server()
    async with server.running() as port:
        _resolver(monkeypatch, ["127.0.0.1"])
        client = _client("http://unused.example", allow=False)
        try:
            for url in (f"http://partner.example:{port}/x", f"http://127.0.0.1:{port}/x", f"http://localhost:{port}/"):
                with pytest.raises(targets.TargetRefused, match="allow_private_network_targets") as refused:
                    await client._http.get(url)
                assert isinstance(refused.value, httpx.ConnectError)
            assert server.connections == 0
        finally:
            await client.aclose()


async def test_a_mixed_answer_is_refused_whole(monkeypatch) -> None:
    _resolver(monkeypatch, [PUBLIC, "10.0.0.7"])
    client = _client("http://unused.example", allow=False)
    try:
        with pytest.raises(targets.ConnectRefused, match="10.0.0.7"):
            await client._http.get("http://partner.example/")
    finally:
        await client.aclose()


async def test_the_setting_still_allows_private_addresses(monkeypatch) -> None:
    server = Server()
    async with server.running() as port:
        base = f"http://partner.example:{port}"
        _resolver(monkeypatch, ["127.0.0.1"])
        client = _client(base, allow=True)
        try:
            await client.send_event(base, _event())
        finally:
            await client.aclose()
    assert [target for _, target, _ in server.requests][-1] == "/3/events"
    assert {headers["host"] for _, _, headers in server.requests} == {f"partner.example:{port}"}  # the URL's name


class _Routed(httpcore.AsyncNetworkBackend):
    """Stands in for the internet: a connection to PUBLIC lands on the local server. Records the hosts asked."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self.inner, self.asked = inner, list[str]()

    async def connect_tcp(self, host: str, port: int, *args: Any, **kw: Any) -> httpcore.AsyncNetworkStream:
        self.asked.append(host)
        return await self.inner.connect_tcp("127.0.0.1" if host == PUBLIC else host, port, *args, **kw)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def test_tls_is_verified_against_the_name_not_the_pinned_address(monkeypatch, tmp_path) -> None:
    now = datetime.now(UTC) - timedelta(hours=1)
    pki = make_pki("Pinned TLS", at=now)
    issued = issue_tls_certificate(pki.inter, ["partner.example"], at=now)
    write_certificates(tmp_path / "tls.pem", [issued.certificate, pki.inter.certificate])
    write_private_key(tmp_path / "tls.key", issued.key)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(tmp_path / "tls.pem", tmp_path / "tls.key")
    names: list[str | None] = []
    server_context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment, func-returns-value]
    write_certificates(tmp_path / "root.pem", [pki.root.certificate])
    verify = ssl.create_default_context(cafile=str(tmp_path / "root.pem"))
    verify.verify_flags &= ~ssl.VERIFY_X509_STRICT
    server = Server(server_context)
    _resolver(monkeypatch, [PUBLIC])
    http = targets.pin(httpx.AsyncClient(verify=verify), allow_private=False)
    pinned = http._transport._pool._network_backend  # type: ignore[attr-defined]
    assert isinstance(pinned, targets.PinnedBackend)
    pinned.inner = routed = _Routed(pinned.inner)
    try:
        async with server.running() as port:
            r = await http.get(f"https://partner.example:{port}/x")
            assert r.status_code == 200
            assert routed.asked == [PUBLIC]  # connected to the checked address, not to the name
            assert names == ["partner.example"]  # SNI: the name
            assert server.requests[0][2]["host"] == f"partner.example:{port}"
            # the same address under a name the certificate does not carry: the certificate check still fails
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
                await http.get(f"https://other.example:{port}/x")
            assert len(server.requests) == 1
    finally:
        await http.aclose()


async def test_an_egress_proxy_from_the_environment_still_works(monkeypatch) -> None:
    """The proxy is the operator's (often on a private address): connections to it are not refused; the partner's
    name is still checked before the call, and resolved by the proxy."""
    proxy = Server()
    async with proxy.running() as port:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
        asked = _resolver(monkeypatch, [PUBLIC])
        base = "http://partner.example"
        client = _client(base, allow=False)
        try:
            await client.send_event(base, _event())
        finally:
            await client.aclose()
    assert [target for _, target, _ in proxy.requests][-1] == "http://partner.example/3/events"
    assert asked == ["partner.example"]  # the check before the call; the connection was the proxy's


async def test_pin_refuses_a_client_it_cannot_pin() -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(RuntimeError, match="cannot pin"):
        targets.pin(http, allow_private=False)
    await http.aclose()


# Catena-X and Ouranos: the same refusal as the connection opens is permanent there too ---------------------------------
# Before: their calls turned every httpx error into a transient PeerError, so a refused address was retried by the
# outbox until it gave up, as if the network had failed.


async def test_an_edc_management_call_whose_connection_is_refused_fails_permanently(monkeypatch) -> None:
    server = Server()
    async with server.running() as port:
        _resolver(monkeypatch, [PUBLIC], ["127.0.0.1"])  # public for the check, loopback for the connection
        client = _client("http://unused.example", allow=False)
        client.settings.catenax.edc_management_url = f"http://edc.example:{port}/management"
        edc = EdcClient(client.settings, client._http)
        try:
            with pytest.raises(PeerError, match="allow_private_network_targets") as refused:
                await edc.catalog("https://dsp.partner.example/api/v1/dsp", "BPNL00000000000A")
            assert refused.value.permanent and server.connections == 0
        finally:
            await client.aclose()


async def test_a_catenax_data_plane_call_whose_connection_is_refused_fails_permanently(monkeypatch) -> None:
    server = Server()
    async with server.running() as port:
        _resolver(monkeypatch, ["127.0.0.1"])
        client = _client("http://unused.example", allow=False)
        app = SimpleNamespace(state=SimpleNamespace(settings=client.settings))

        async def access(self: EdcClient, address: str | None, bpnl: str) -> Access:
            return Access(f"http://dp.partner.example:{port}/api/public", "edr-token", "tp-1", 0)

        monkeypatch.setattr(EdcClient, "access", access)
        monkeypatch.setattr(catenax_adapter, "_bpnl_of", lambda _app, _company: "BPNL00000000000A")
        message = SimpleNamespace(company_id="partner", target_url=None)
        call = {"method": "GET", "path": "/footprintExchange/r-1", "query": {}}
        try:
            with pytest.raises(PeerError, match="allow_private_network_targets") as refused:
                await catenax_adapter.ADAPTER._send(app, client, message, call)
            assert refused.value.permanent and server.connections == 0
        finally:
            await client.aclose()


@pytest.mark.parametrize("signed_in", [False, True])
async def test_an_ouranos_call_whose_connection_is_refused_fails_permanently(monkeypatch, signed_in: bool) -> None:
    """The platform is not checked before a call: the connection's refusal is the one, at the login or at the call."""
    server = Server()
    async with server.running() as port:
        _resolver(monkeypatch, ["127.0.0.1"])
        client = _client("http://unused.example", allow=False)
        login = OuranosLogin(api_key="key-1", login="ops@x.example", password="pw")  # type: ignore[arg-type]
        dts = DtsClient(client._http, f"http://platform.example:{port}", login)
        if signed_in:
            dts._access = "held"
        try:
            with pytest.raises(PeerError, match="allow_private_network_targets") as refused:
                await dts.get("cfp", traceIds="t")
            assert refused.value.permanent and server.connections == 0
        finally:
            await client.aclose()


async def test_a_network_failure_stays_transient(monkeypatch) -> None:
    """Only the refusal is permanent: a connection that fails (nothing listens) is retried, in every protocol."""
    server = Server()
    async with server.running() as port:
        pass  # closed: nothing listens on the port any more
    _resolver(monkeypatch, ["127.0.0.1"])
    client = _client("http://unused.example", allow=True)
    client.settings.catenax.edc_management_url = f"http://edc.example:{port}/management"
    login = OuranosLogin(api_key="key-1", login="ops@x.example", password="pw")  # type: ignore[arg-type]
    try:
        for call in (
            lambda: EdcClient(client.settings, client._http).catalog("https://dsp.example", "BPNL00000000000A"),
            lambda: DtsClient(client._http, f"http://platform.example:{port}", login).get("cfp"),
        ):
            with pytest.raises(PeerError, match="failed") as failed:
                await call()
            assert not failed.value.permanent
    finally:
        await client.aclose()
