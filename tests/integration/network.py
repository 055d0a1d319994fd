"""A whole dataspace in one process: one app per company, a transport that routes each host to its app."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.api.app import create_app
from connector.config import Settings
from connector.demo.chain import entries_of, wire_company
from connector.identity import TrustStore, certificate_thumbprint  # noqa: F401
from connector.identity.keys import certificates_to_pem
from connector.services import api_keys
from connector.services.context import NodeContext
from connector.services.identity import NodeIdentity
from tests.pki import make_pki


def slug(company_id: str) -> str:
    return company_id.rsplit(":", 1)[-1]


class Router(httpx.AsyncBaseTransport):
    """Routes ``http://<slug>.test`` to that node's ASGI app; a host marked down refuses connections."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.ASGITransport] = {}
        self.down: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down or host not in self.apps:
            raise httpx.ConnectError(f"{host} is unreachable", request=request)
        return await self.apps[host].handle_async_request(request)


@dataclass
class Node:
    company_id: str
    name: str
    settings: Settings
    engine: Engine
    app: Any
    key: str
    client: httpx.AsyncClient
    identity: NodeIdentity

    @property
    def host(self) -> str:
        return f"{slug(self.company_id)}.test"

    async def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.client.request(method, f"/api/v1{path}", headers={"X-API-Key": self.key}, **kw)

    def ctx(self, session: Session) -> NodeContext:
        return NodeContext(session, self.settings, self.identity)


@dataclass
class Network:
    router: Router
    nodes: dict[str, Node] = field(default_factory=dict)
    verifier_pem: str = ""
    verifier: Any = None
    pki: Any = None
    stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    def __getitem__(self, company_id: str) -> Node:
        return self.nodes[company_id]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
        """Poll, never sleep blindly: returns the predicate's first truthy value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


async def build_network(
    chain: dict,
    make_db: Callable[[], Engine],
    *,
    oem_product: bool = True,
    manual: frozenset[str] = frozenset(),
    without_node: frozenset[str] = frozenset(),
) -> Network:
    """Every company of the fixture as a node with its own database, certificates and partners.

    Customers are auto-fulfilled, except at the companies in ``manual``, whose operator must accept requests. The
    companies in ``without_node`` run none: their customers know them as partners without a node URL.
    """
    now = datetime.now(UTC)
    pki = make_pki("Dataspace", at=now - timedelta(days=1))
    trust_anchor = pki.root.certificate
    router = Router()
    net = Network(router=router, pki=pki)
    verifier = pki.company(
        chain["verifier"]["companyId"], "verifier", name=chain["verifier"]["name"], at=now - timedelta(hours=1)
    )
    net.verifier = verifier
    net.verifier_pem = certificates_to_pem(list(verifier.chain)).decode()
    companies = [c for c in entries_of(chain) if c["companyId"] not in without_node]
    for company in companies:
        cid = company["companyId"]
        issued = (
            verifier
            if company["role"] == "verifier"
            else pki.company(cid, company["role"], name=company["name"], at=now - timedelta(hours=1))
        )
        identity = NodeIdentity(
            key=issued.key,
            chain=list(issued.chain),
            trust=TrustStore([trust_anchor], intermediates=[pki.inter.certificate]),
        )
        settings = Settings(
            company_id=cid,
            company_name=company["name"],
            node_name=slug(cid),
            public_url=f"http://{slug(cid)}.test",
            outbox_base_delay=0.05,
            outbox_max_delay=0.2,
            allow_private_network_targets=False,
        )  # names on an in-process transport: public
        engine = make_db()
        app = create_app(settings, engine=engine, identity=identity, transport=router)
        await net.stack.enter_async_context(app.router.lifespan_context(app))
        router.apps[f"{slug(cid)}.test"] = httpx.ASGITransport(app=app)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{slug(cid)}.test")
        await net.stack.enter_async_context(client)
        with Session(engine, expire_on_commit=False) as session:
            ctx = NodeContext(session, settings, identity)
            _, secret = api_keys.create_key(session, "test admin", "admin")
            wire_company(
                ctx,
                chain,
                lambda c: None if c in without_node else f"http://{slug(c)}.test",
                auto_fulfil=cid not in manual,
                oem_product=oem_product,
            )
            session.commit()
        net.nodes[cid] = Node(cid, company["name"], settings, engine, app, secret, client, identity)
    return net
