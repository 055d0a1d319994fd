"""Where a node may send: not to loopback, link-local, private or other non-public addresses, unless the operator
allows them (``Settings.allow_private_network_targets``: a demo or test dataspace on one machine or one LAN).

A node calls only URLs its operator registered (a partner's node URL, a verifier's) and the token endpoint a
partner's discovery document names; never a URL from an event. This module is the second wall: even a registered
or discovered URL must not reach into the node's own network (its metadata service, its database, the admin port of
something on localhost) unless the operator said so.

Checked twice: the URL's host as written (an IP literal, ``localhost``) when a partner is registered and before
every call, and, before a call over the real network, every address the host name resolves to. A name that does not
resolve is left to fail on its own. **Residual**: a name whose DNS answer changes between the check and the
connection (DNS rebinding) is not caught; the addresses are checked, not pinned.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit

__all__ = ["TargetRefused", "check_resolved", "check_url"]

SETTING = "allow_private_network_targets"


class TargetRefused(ValueError):
    """The URL may not be called (its message says why, naming the setting when it is the network)."""


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
        verdict = None
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(key[0], key[1], type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            infos = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if not _public(address):
                verdict = f"resolves to {address}, not a public address"
                break
        if len(_RESOLVED) >= _RESOLVED_MAX:
            _RESOLVED.clear()
        known = _RESOLVED[key] = (now + _RESOLVED_TTL, verdict)
    if known[1] is not None:
        raise _refused(url, host, known[1])
