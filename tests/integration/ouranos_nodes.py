"""In-process nodes for the Ouranos client tests: a node of ours acting as the Ouranos platform (serving the DTS API
for one company: the participant whose tenant it hosts), and participants reaching partners through it."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.api.app import create_app
from connector.config import OuranosLogin, Settings
from connector.identity import TrustStore
from connector.services import accounts, api_keys
from connector.services.context import NodeContext
from connector.services.identity import NodeIdentity
from tests.integration.network import Router

PASSWORD = "correct-horse-battery-9"
OPERATOR = "operator@example.com"


@dataclass
class PlatformNode:
    company_id: str
    host: str
    settings: Settings
    engine: Engine
    app: Any
    identity: NodeIdentity
    key: str

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def ctx(self, session: Session) -> NodeContext:
        return NodeContext(session, self.settings, self.identity)


async def start_node(
    stack: AsyncExitStack,
    router: Router,
    pki: Any,
    make_db: Callable[[], Engine],
    company_id: str,
    host: str,
    **settings: Any,
) -> PlatformNode:
    now = datetime.now(UTC)
    issued = pki.company(company_id, "supplier", name=company_id.rsplit(":", 1)[-1], at=now - timedelta(hours=1))
    identity = NodeIdentity(
        key=issued.key,
        chain=list(issued.chain),
        trust=TrustStore([pki.root.certificate], intermediates=[pki.inter.certificate]),
    )
    config = Settings(
        company_id=company_id,
        company_name=company_id.rsplit(":", 1)[-1],
        node_name=host.split(".")[0],
        public_url=f"http://{host}",
        outbox_base_delay=0.05,
        outbox_max_delay=0.2,
        ouranos_poll_interval=0.1,
        ouranos_poll_max_delay=0.5,
        **settings,
    )
    engine = make_db()
    app = create_app(config, engine=engine, identity=identity, transport=router)
    await stack.enter_async_context(app.router.lifespan_context(app))
    router.apps[host] = httpx.ASGITransport(app=app)
    with Session(engine, expire_on_commit=False) as session:
        _, key = api_keys.create_key(session, "test admin", "admin")
        if config.corporate_number:  # a platform: our participant's operator account
            accounts.create_user(NodeContext(session, config), OPERATOR, PASSWORD, "editor")
        session.commit()
    return PlatformNode(company_id, host, config, engine, app, identity, key)


def login_for(platform: PlatformNode) -> dict[str, OuranosLogin]:
    """What a participant holds for ``platform``: its API key, our operator account there."""
    return {platform.url: OuranosLogin(api_key=platform.key, login=OPERATOR, password=PASSWORD)}  # type: ignore[arg-type]
