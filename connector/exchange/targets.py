"""Where a node may send: not to loopback, link-local, private or other non-public addresses, unless the operator
allows them (``Settings.allow_private_network_targets``: a demo or test dataspace on one machine or one LAN).

A node calls only URLs its operator registered (a partner's node URL, a verifier's) and the token endpoint a
partner's discovery document names; never a URL from an event. This module is the second wall: even a registered
or discovered URL must not reach into the node's own network (its metadata service, its database, the admin port of
something on localhost) unless the operator said so.

Checked three times: the URL's host as written (an IP literal, ``localhost``) when a partner is registered and
before every call; before a call over the real network, every address the host name resolves to (:func:`check_resolved`,
a verdict kept a minute, so a refusal is a permanent failure before anything is sent); and when a connection is
opened, by :class:`PinnedBackend`, the network backend of the node's HTTP client (:func:`pin`): it resolves the name
itself, checks every address and connects to one of those very addresses. A name whose DNS answer changes between
the first check and the connection (DNS rebinding) therefore reaches no private address: the connection only ever
goes to an address that was checked. TLS still verifies the certificate against the name in the URL (httpcore passes
the name to ``start_tls`` separately from the address connected to), and the ``Host`` header is the URL's.

Through an egress proxy (``HTTPS_PROXY``, ``HTTP_PROXY`` or ``ALL_PROXY``, which httpx honours) the node connects to
the proxy, not the partner: the proxy is the operator's and is not checked, the partner's name is checked before the
call and resolved again by the proxy, which is then what pins it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

__all__ = ["ConnectRefused", "PinnedBackend", "TargetRefused", "check_resolved", "check_url", "pin"]

SETTING = "allow_private_network_targets"


class TargetRefused(ValueError):
    """The URL may not be called (its message says why, naming the setting when it is the network)."""


class ConnectRefused(TargetRefused, httpx.ConnectError):
    """TargetRefused when a connection is opened (:class:`PinnedBackend`): also an ``httpx.ConnectError``, so a
    caller that handles a failed connection handles this one too."""

    def __init__(self, message: str) -> None:
        httpx.ConnectError.__init__(self, message)


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def _refused(url: str, host: str, why: str) -> TargetRefused:
    return TargetRefused(
        f"{url} is refused: {host} is {why}; only public addresses are called unless the node's "
        f"setting {SETTING} allows private ones"
    )


def host_of(url: str) -> str:
    """The URL's host (lower-case, without brackets); TargetRefused when it is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise TargetRefused(f"{url!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise TargetRefused(f"{url!r} is not an http(s) URL with a host")
    return host


def check_url(url: str, allow_private: bool) -> str:
    """The URL's host, once its written form is allowed: an http(s) URL whose host is not a non-public IP literal nor
    ``localhost`` (unless ``allow_private``). Names are checked after resolution (:func:`check_resolved`)."""
    host = host_of(url)
    if allow_private:
        return host
    if host == "localhost" or host.endswith(".localhost"):
        raise _refused(url, host, "a loopback name")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name
    if not _public(address):
        raise _refused(url, host, "not a public address")
    return host


async def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to, in the resolver's order (the one resolution both checks use)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def _not_public(addresses: Iterable[str]) -> str | None:
    """Why the addresses may not be called (the first that is not public), or None."""
    for found in addresses:
        address = ipaddress.ip_address(found.split("%")[0])
        if not _public(address):
            return f"a name that resolves to {address}, not a public address"
    return None


_RESOLVED: dict[tuple[str, int], tuple[float, str | None]] = {}
_RESOLVED_TTL = 60.0
_RESOLVED_MAX = 1024


async def check_resolved(url: str, allow_private: bool) -> None:
    """:func:`check_url`, then every address the host resolves to must be public (unless ``allow_private``). The
    verdict is remembered per host for a minute; a host that does not resolve passes (the call will fail)."""
    host = check_url(url, allow_private)
    if allow_private:
        return
    try:
        ipaddress.ip_address(host)
        return  # a literal: checked above
    except ValueError:
        pass
    parts = urlsplit(url)
    key = (host, parts.port or (443 if parts.scheme == "https" else 80))
    now = time.monotonic()
    known = _RESOLVED.get(key)
    if known is None or known[0] < now:
        try:
            addresses = await resolve(*key)
        except (OSError, UnicodeError):
            addresses = []
        known = _remember(key, _not_public(addresses), now)
    if known[1] is not None:
        raise _refused(url, host, known[1])


def _remember(key: tuple[str, int], verdict: str | None, now: float) -> tuple[float, str | None]:
    if len(_RESOLVED) >= _RESOLVED_MAX:
        _RESOLVED.clear()
    known = _RESOLVED[key] = (now + _RESOLVED_TTL, verdict)
    return known


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections only to checked addresses: resolves the host, refuses (:class:`ConnectRefused`) when any
    address is not public (unless ``allow_private``), and connects to the resolved addresses in turn, never to the
    name (so nothing resolves it a second time). ``inner`` opens the sockets and runs TLS; ``start_tls`` is given
    the host name, so the certificate is checked against the name, not the address."""

    def __init__(self, allow_private: bool, inner: httpcore.AsyncNetworkBackend) -> None:
        self.allow_private, self.inner = allow_private, inner

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:
        if _literal(host):
            if not self.allow_private and _not_public([host]):
                raise ConnectRefused(_refused(f"{host}:{port}", host, "not a public address").args[0])
            return [host]
        addresses = await self._resolve(host, port, timeout)
        if not self.allow_private:
            why = "a loopback name" if host == "localhost" or host.endswith(".localhost") else _not_public(addresses)
            if why is not None:
                _remember((host, port), why, time.monotonic())  # the next check before a call refuses at once
                raise ConnectRefused(_refused(f"{host}:{port}", host, why).args[0])
        return addresses

    @staticmethod
    async def _resolve(host: str, port: int, timeout: float | None) -> list[str]:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        return addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        failure: Exception | None = None
        for address in await self._addresses(host, port, timeout):
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address, as a resolver's list is meant to be used
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("the node's outbound client does not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def pin(client: httpx.AsyncClient, allow_private: bool) -> httpx.AsyncClient:
    """``client`` with :class:`PinnedBackend` opening its direct connections (those through an egress proxy from the
    environment go to the proxy, which resolves the names itself). httpx has no public hook for the network backend
    yet: this sets the backend of the default transport's connection pool, and refuses (RuntimeError) an httpx whose
    transport is not built that way, rather than send unpinned."""
    transport = getattr(client, "_transport", None)
    pool = getattr(transport, "_pool", None)
    if not isinstance(transport, httpx.AsyncHTTPTransport) or type(pool) is not httpcore.AsyncConnectionPool:
        raise RuntimeError("cannot pin the connections of this httpx client (an httpx version this node does not know)")
    pool._network_backend = PinnedBackend(allow_private, pool._network_backend)
    return client
