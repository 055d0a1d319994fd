"""The polling loop of our node as a participant on Ouranos platforms (decision 0022).

DTS pushes nothing to a participant: every ``ouranos_poll_interval`` seconds, for each platform in
``ouranos_platforms``, the poller follows the status of the trades we asked (``asking.follow``: COMPLETED -> read the
CFP and its certification file -> the core's receipt; REJECT -> rejected) and looks for trades addressed to us
(``answering.receive``: a new one -> the core's incoming request). A platform that fails is polled again after a
doubling back-off, up to ``ouranos_poll_max_delay``; its open requests say why in their ``reason`` meanwhile.

One :class:`Node` per app (started by ``api.app``'s lifespan), found by the adapter from the peer client the outbox
worker hands it (:func:`node_of`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from ...config import Settings
from ...exchange import outbox
from ...services.context import NodeContext
from ...services.identity import NodeIdentity
from ...storage import ouranos_links
from ...storage import requests as request_rows
from .. import PeerError
from .client import DtsClient

log = logging.getLogger("connector.ouranos")
T = TypeVar("T")


@dataclass
class Node:
    engine: Engine
    settings: Settings
    identity: NodeIdentity | None
    peer_client: Any
    worker: Any = None
    clients: dict[str, DtsClient] = field(default_factory=dict)
    delay: dict[str, float] = field(default_factory=dict)
    """Per platform: the wait before its next poll (the interval, doubled after each failure)."""
    task: asyncio.Task[None] | None = None
    wake_event: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: bool = False
    polls: int = 0

    def dts(self, platform: str) -> DtsClient:
        """Our operator's client of ``platform`` (a partner's node URL); PeerError when no login is configured."""
        platform = platform.rstrip("/")
        found = self.clients.get(platform)
        if found is None:
            logins = {url.rstrip("/"): login for url, login in self.settings.ouranos_platforms.items()}
            if platform not in logins:
                raise PeerError(
                    f"no login for the Ouranos platform {platform}: add it to CONNECTOR_OURANOS_PLATFORMS",
                    permanent=True,
                )
            found = self.clients[platform] = DtsClient(self.peer_client._http, platform, logins[platform])
        return found

    async def allowed(self, platform: str) -> None:
        await self.peer_client._allowed(platform)  # the outbound address policy of every peer call

    async def db(self, work: Callable[[NodeContext], T]) -> T:
        """``work`` in one transaction, off the event loop; the messages it left go to the outbox worker."""

        def run() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                if self.worker is not None:
                    session.info[outbox.DISPATCH] = self.worker.holder
                result = work(NodeContext(session, self.settings, self.identity))
                session.commit()
                outbox.hand_over(session, self.worker)
                return result

        return await asyncio.to_thread(run)

    def wake(self) -> None:
        self.wake_event.set()


_NODES: dict[int, Node] = {}


def node_of(peer_client: Any) -> Node:
    found = _NODES.get(id(peer_client))
    if found is None:
        raise PeerError("the Ouranos poller of this node is not running")
    return found


def start(app: Any, *, poll: bool = True) -> Node:
    """Register the app's node (its peer client) and start polling its platforms (unless ``poll`` is False: another
    worker process of the node polls, ``runtime.runs_pollers``)."""
    state = app.state
    node = Node(state.engine, state.settings, state.identity, state.peer_client, state.worker)
    _NODES[id(state.peer_client)] = node
    if poll and state.settings.run_workers:
        node.task = asyncio.create_task(_run(node), name=f"ouranos-{state.settings.node_name}")
    return node


async def stop(node: Node) -> None:
    node.stopping = True
    _NODES.pop(id(node.peer_client), None)
    if node.task is not None:
        node.task.cancel()
        await asyncio.wait({node.task})


async def _run(node: Node) -> None:
    loop = asyncio.get_running_loop()
    due: dict[str, float] = {}
    while not node.stopping:
        node.wake_event.clear()
        now = loop.time()
        for platform in [url.rstrip("/") for url in node.settings.ouranos_platforms]:
            if due.get(platform, 0.0) > now:
                continue
            due[platform] = now + await poll_once(node, platform)
        node.polls += 1
        wait = min((at - loop.time() for at in due.values()), default=node.settings.ouranos_poll_interval)
        try:
            async with asyncio.timeout(max(wait, 0.01)):
                await node.wake_event.wait()
            due.clear()  # woken: something was asked or answered, poll every platform now
        except TimeoutError:
            pass


async def poll_once(node: Node, platform: str) -> float:
    """One poll of one platform; the seconds until the next (the interval, or the back-off after a failure)."""
    from . import answering, asking  # they import this module for Node

    interval = node.settings.ouranos_poll_interval
    try:
        await node.allowed(platform)
        dts = node.dts(platform)
        await asking.follow(node, dts, platform)
        await answering.receive(node, dts, platform)
    except PeerError as exc:
        delay = min(max(node.delay.get(platform, interval) * 2, interval), node.settings.ouranos_poll_max_delay)
        node.delay[platform] = delay
        log.warning("Ouranos platform %s: %s (next poll in %.1f s)", platform, exc, delay)
        said = f"Ouranos platform unreachable: {exc}"
        await node.db(lambda ctx: _tell_open_requests(ctx, platform, said))
        return delay
    except Exception:  # the loop must survive anything
        log.exception("Ouranos poll of %s failed", platform)
        return node.settings.ouranos_poll_max_delay
    node.delay.pop(platform, None)
    return interval


def _tell_open_requests(ctx: NodeContext, platform: str, reason: str) -> None:
    for req, _ in ouranos_links.open_trades(ctx.session, platform):
        request_rows.update_request(ctx.session, req.id, reason=reason[:2000], updated_at=ctx.now())
