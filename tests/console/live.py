"""The in-process dataspace of tests/integration/network.py, its nodes' apps served on real ports for a browser.

The network (every node's app, its outbox worker, the in-memory router between nodes) runs on an event loop in a
thread of its own; each node's app is also served by uvicorn on 127.0.0.1 from that loop, so Chromium reaches the
console over HTTP while the nodes keep talking to each other in memory.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.services import accounts
from tests.integration.network import Network, build_network, slug

T = TypeVar("T")
PASSWORD = "console-test-password"


class LiveDataspace:
    def __init__(self, chain: dict, make_db: Callable[[], Engine], manual: frozenset[str] = frozenset()) -> None:
        self.chain, self.make_db, self.manual = chain, make_db, manual
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="live-dataspace", daemon=True)
        self.net: Network | None = None
        self.servers: dict[str, uvicorn.Server] = {}
        self.ports: dict[str, int] = {}

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> LiveDataspace:
        self.thread.start()
        self.net = self.run(build_network(self.chain, self.make_db, manual=self.manual), timeout=120)
        for cid, node in self.net.nodes.items():
            with Session(node.engine) as session:
                ctx = node.ctx(session)
                for role in ("editor", "viewer"):
                    accounts.create_user(ctx, f"{slug(cid)}-{role}", PASSWORD, role, f"{node.name} ({role})")
                if node.identity.role == "verifier":
                    accounts.create_user(ctx, f"{slug(cid)}-verifier", PASSWORD, "verifier", f"{node.name} (verifier)")
                session.commit()
            config = uvicorn.Config(node.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning")
            server = uvicorn.Server(config)
            self.servers[cid] = server
            asyncio.run_coroutine_threadsafe(server.serve(), self.loop)
        deadline = time.monotonic() + 30
        while not all(s.started for s in self.servers.values()):
            if time.monotonic() > deadline:
                raise RuntimeError("the console servers did not start")
            time.sleep(0.02)
        for cid, server in self.servers.items():
            self.ports[cid] = server.servers[0].sockets[0].getsockname()[1]
        return self

    def url(self, company_id: str, path: str = "/") -> str:
        # localhost, not 127.0.0.1: browsers accept the console's Secure cookie over plain http only from localhost
        return f"http://localhost:{self.ports[company_id]}/console{path}"

    def login(self, company_id: str, role: str = "editor") -> tuple[str, str]:
        return f"{slug(company_id)}-{role}", PASSWORD

    def wait(self, predicate: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        for server in self.servers.values():
            server.should_exit = True
        time.sleep(0.3)
        if self.net is not None:
            self.run(self.net.stack.aclose(), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
