"""Wire protocols: one package per protocol (``pact`` today), each an adapter between the exchange core and a wire.

The core (``connector.exchange``) never builds or reads a wire message: it writes a neutral intent to the outbox
(``ask``, ``answer``, ``reject``, ``cancel``, ``publish``, ``fetch``) and asks the adapter of the partner's protocol
for it by name (:func:`adapter`), without importing the protocol's package. An adapter renders the intent as its wire
message when it is sent, and its router turns the wire messages it receives into core calls. See
docs/decisions/0016-protocol-seam.md.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

import httpx
from fastapi import APIRouter

from ..exchange import targets

__all__ = [
    "DEFAULT",
    "KNOWN",
    "Adapter",
    "FootprintDocument",
    "PeerError",
    "UnknownProtocol",
    "adapter",
    "adapters",
    "allowed",
    "call_failed",
]

DEFAULT = "pact"
KNOWN = ("pact", "ouranos", "catenax")
"""The protocols this node speaks: each a package ``connector.protocols.<name>`` whose ``adapter`` module has
``ADAPTER``."""


class PeerError(Exception):
    """A call to a peer failed; ``permanent`` means retrying cannot help (e.g. 4xx other than 401/408/429)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


async def allowed(url: str, allow_private: bool, *, resolve: bool = True) -> None:
    """PeerError (permanent) unless ``url`` may be called (``exchange.targets``, decision 0015): its host as written,
    and with ``resolve`` every address its name resolves to. Every protocol's client checks each URL here first."""
    try:
        if resolve:
            await targets.check_resolved(url, allow_private)
        else:
            targets.check_url(url, allow_private)
    except targets.TargetRefused as exc:
        raise PeerError(str(exc), permanent=True) from None


def call_failed(what: str, exc: httpx.HTTPError) -> PeerError:
    """The PeerError for a call that got no answer (``what`` failed). Permanent when the connection was refused as it
    opened (:class:`~connector.exchange.targets.ConnectRefused`, an ``httpx.ConnectError`` too: the name resolved to
    an address this node may not call), which no retry changes; otherwise transient, as any network failure."""
    if isinstance(exc, targets.TargetRefused):
        return PeerError(str(exc), permanent=True)
    return PeerError(f"{what} failed: {exc!r}")


class UnknownProtocol(ValueError):
    """No adapter of that name."""


class FootprintDocument(Protocol):
    """A footprint as received over a protocol, read by the core's receipt (``exchange.receipt``): each member is read
    from the wire document when asked for (a malformed document fails where the core reads it, as a refusal)."""

    @property
    def document(self) -> dict[str, Any]: ...
    @property
    def id(self) -> str: ...
    @property
    def company_ids(self) -> list[str]: ...
    @property
    def product_ids(self) -> list[str]: ...
    @property
    def status(self) -> str | None: ...
    @property
    def attestation(self) -> str | None: ...
    @property
    def evidence(self) -> Any: ...
    @property
    def certifications(self) -> list[Any]: ...
    def total(self) -> Any: ...
    def declared_unit(self) -> Any: ...
    def entered_values(self) -> Any:
        """For a footprint without an attestation: its values as an entered one
        (``services.footprint_import.ForeignFootprint``); ValidationFailed naming the member that is wrong."""
        ...


class Adapter(Protocol):
    """What a protocol provides to the node."""

    name: str
    intents: frozenset[str]
    """The outbox intents it can carry; the core enqueues no other (PACT has no cancel event, so no ``cancel``)."""
    router: APIRouter
    """Its inbound door: the peer routes that turn its wire messages into core calls (mounted by ``api.app``)."""

    def footprint_document(
        self, ctx: Any, footprint: Any, product: Any, audience: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        """The footprint as ``audience`` gets it over this protocol (attested to it), for an ``answer`` intent."""
        ...

    def read_footprint(self, document: dict[str, Any]) -> FootprintDocument:
        """A received footprint document, for the core's receipt."""
        ...

    async def deliver(self, client: Any, message: Any, *, source: str) -> dict[str, Any] | None:
        """Send one outbox message (an intent, or a kind this protocol wrote before intents) with ``client``, as the
        node at ``source`` (its public URL); a ``fetch`` returns the footprint document fetched. Raises
        :class:`PeerError`."""
        ...

    def request_asked(self, kind: str, body: dict[str, Any]) -> str | None:
        """For an outbox message of a kind this protocol wrote before intents: the id of the request it asks a
        supplier for (so a message given up closes its request), else None."""
        ...

    def wire_message(self, message: Any, source: str) -> dict[str, Any] | None:
        """The wire message ``deliver`` sends for an outbox message (None: it sends none, e.g. a fetch)."""
        ...

    def start(self, app: Any) -> None:
        """Hook run when an app mounting the router is built."""
        ...

    def close(self, app: Any) -> None:
        """Hook run at the app's shutdown."""
        ...


_LOADED: dict[str, Adapter] = {}


def adapter(name: str) -> Adapter:
    """The adapter of protocol ``name``, its package imported on first use."""
    found = _LOADED.get(name)
    if found is None:
        if name not in KNOWN:
            raise UnknownProtocol(f"unknown protocol {name!r}; known: {', '.join(KNOWN)}")
        found = _LOADED[name] = importlib.import_module(f"{__name__}.{name}.adapter").ADAPTER
    return found


def adapters() -> list[Adapter]:
    """Every protocol's adapter, in :data:`KNOWN` order."""
    return [adapter(name) for name in KNOWN]
