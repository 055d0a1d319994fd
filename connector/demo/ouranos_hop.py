"""``connector demo --ouranos``: the pack maker reaches its cell maker through an Ouranos platform, every other pair
over PACT (decision 0022, docs/ouranos.md).

The platform is played by one more node process of ours, serving the Ouranos data-transport API for the pack
maker's tenant (its corporate number set, its own database, the pack maker's certificate): the pack maker's node
holds an operator login there and asks over DTS; the platform passes the trade on to the cell maker over PACT. The
trade names the pack maker's part, which no product of the cell maker carries, so the cell maker's node holds it
(``hold_unmatched_requests``) until its operator links its cell: the demo does that through the operator API
(``POST /requests/{id}/link``, naming the notified body as the verifier to seal evidence to, since a DTS trade
carries no verifier certificates), then accepts it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import Session

from ..config import Settings
from ..services import accounts, api_keys, catalog
from ..services.context import NodeContext
from ..storage import repositories as repo
from ..storage.db import create_schema, make_engine
from ..storage.tables import Partner
from .chain import names_of, pack_maker_of
from .dataspace import DemoDataspace, DemoError, DemoNode, free_ports

PLATFORM_SLUG = "ouranos-platform"
OPERATOR = "operator@pack-maker.example"


def cell_maker_of(document: dict[str, Any]) -> tuple[str, str]:
    """(the pack maker's supplier of the declared pack's first bought line, the product id that line names)."""
    pack = document["declaration"]["packProductId"]
    maker = pack_maker_of(document)
    company = next(c for c in document["companies"] if c["companyId"] == maker)
    product = next(p for p in company["products"] if p["productId"] == pack)
    line = next(ln for ln in product["bom"] if "supplierCompanyId" in ln)
    return line["supplierCompanyId"], line["supplierProductId"]


def _corporate_number(company_id: str) -> str:
    """A made-up 13-digit corporate number (the Ouranos openOperatorId), the same for a company on every run."""
    return str(int(hashlib.sha256(company_id.encode()).hexdigest(), 16) % 10**13).rjust(13, "1")


@dataclass
class OuranosHop:
    pack: str
    cell: str
    cell_product: str
    platform: DemoNode
    linked: bool = False


class OuranosDataspace(DemoDataspace):
    """The demo dataspace with the pack maker - cell maker pair over Ouranos."""

    hop: OuranosHop | None = None

    def prepare(self) -> None:
        super().prepare()
        pack = pack_maker_of(self.document)
        cell, cell_product = cell_maker_of(self.document)
        if cell not in self.nodes:
            raise DemoError(f"--ouranos needs a node for the cell maker {cell}: leave it out of --without-node")
        (port,) = free_ports(1)
        pack_node = self.nodes[pack]
        platform = DemoNode(
            pack, f"{pack_node.name} (Ouranos platform)", "platform", port, self.out / "nodes" / PLATFORM_SLUG
        )
        self.hop = OuranosHop(pack, cell, cell_product, platform)
        numbers = {pack: _corporate_number(pack), cell: _corporate_number(cell)}
        config = json.loads((pack_node.data_dir / "node.json").read_text())
        config.update(
            node_name=PLATFORM_SLUG,
            public_url=platform.url,
            listen_port=port,
            corporate_number=numbers[pack],
            partner_corporate_numbers={cell: numbers[cell]},
            ouranos_poll_interval=0.5,
        )
        platform.data_dir.mkdir(parents=True, exist_ok=True)
        (platform.data_dir / "node.json").write_text(json.dumps(config, indent=2) + "\n")
        password = secrets.token_urlsafe(16)
        with self._session(platform) as (ctx, session):
            _, platform.api_key = api_keys.create_key(session, "demo admin", "admin")
            accounts.create_user(ctx, OPERATOR, password, "editor")
            names = names_of(self.document)
            catalog.ensure_partner(ctx, cell, names[cell], supplier=True, node_url=self.nodes[cell].url)
            session.commit()
        # the pack maker: a login on the platform, its cell maker reached there over Ouranos
        self._amend(pack, ouranos_platforms={platform.url: {"api_key": platform.api_key, "login": OPERATOR,
                                                             "password": password}},
                    partner_corporate_numbers={cell: numbers[cell]}, ouranos_poll_interval=0.5)  # fmt: skip
        self._repoint(pack, cell, platform.url, protocol="ouranos")
        # the cell maker: the platform speaks for the pack maker; a trade naming the pack maker's part is held
        self._amend(cell, hold_unmatched_requests=True)
        self._repoint(cell, pack, platform.url)

    def _amend(self, company_id: str, **settings: Any) -> None:
        path = self.nodes[company_id].data_dir / "node.json"
        path.write_text(json.dumps({**json.loads(path.read_text()), **settings}, indent=2) + "\n")

    def _repoint(self, company_id: str, other: str, url: str, protocol: str | None = None) -> None:
        with self._session(self.nodes[company_id]) as (_, session):
            row = repo.partner_row(session, other)
            partner = session.get(Partner, row.id) if row is not None else None
            if partner is None:
                raise DemoError(f"{company_id} has no partner {other} to reach over Ouranos")
            partner.node_url = url
            if protocol is not None:
                partner.protocol = protocol
            session.add(partner)
            session.commit()

    class _Opened:
        def __init__(self, node: DemoNode) -> None:
            self.node = node

        def __enter__(self) -> tuple[NodeContext, Session]:
            settings = Settings(
                **json.loads((self.node.data_dir / "node.json").read_text()), data_dir=self.node.data_dir
            )
            self.engine = make_engine(str(settings.database_url))
            create_schema(self.engine)
            self.session = Session(self.engine, expire_on_commit=False)
            return NodeContext(self.session, settings), self.session

        def __exit__(self, *_: object) -> None:
            self.session.close()
            self.engine.dispose()

    def _session(self, node: DemoNode) -> _Opened:
        return self._Opened(node)

    # processes ----------------------------------------------------------------------------------------------------

    def start_all(self) -> None:
        super().start_all()
        if self.hop is not None:
            platform = self.hop.platform
            log = open(platform.data_dir / "node.log", "ab")  # noqa: SIM115 - handed to the child process
            env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
            platform.process = subprocess.Popen(
                [sys.executable, "-m", "connector", "serve", "--data-dir", str(platform.data_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**env, "PYTHONUNBUFFERED": "1"},
            )
            log.close()

    def stop_all(self) -> None:
        if self.hop is not None and self.hop.platform.process is not None:
            process = self.hop.platform.process
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(5)
            self.hop.platform.process = None
        super().stop_all()

    async def wait_healthy(self, company_ids: list[str] | None = None, timeout: float = 60) -> None:
        await super().wait_healthy(company_ids, timeout)
        if self.hop is None or company_ids is not None:
            return
        platform = self.hop.platform
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(verify=self.ssl_context(), timeout=2) as http:
            while True:
                if platform.process is not None and platform.process.poll() is not None:
                    raise DemoError(f"the Ouranos platform node exited; see {platform.data_dir / 'node.log'}")
                try:
                    if (await http.get(f"{platform.url}/api/v1/datatransport/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise DemoError(f"the Ouranos platform node did not answer; see {platform.data_dir / 'node.log'}")
                await asyncio.sleep(0.2)

    # the cell maker's operator --------------------------------------------------------------------------------------

    async def link_held_trade(self, timeout: float) -> None:
        """The cell maker's operator links its cell to the trade the platform passed on, with the notified body as
        the verifier to seal evidence to, and accepts it (through the operator API)."""
        assert self.hop is not None
        deadline = time.monotonic() + timeout
        async with self.client(self.hop.cell) as cell:
            products = (await cell.get("/products", params={"limit": 500})).json()["items"]
            wanted = self.hop.cell_product.lower()
            product = next((p for p in products if wanted in {u.lower() for u in p["productIds"]}), None)
            if product is None:
                raise DemoError(f"the cell maker has no product {self.hop.cell_product}")
            while True:
                held = (await cell.get("/requests", params={"direction": "incoming", "state": "pending"})).json()
                waiting = [r for r in held["items"] if r["companyId"] == self.hop.pack and not r["productId"]]
                if waiting:
                    rid = waiting[0]["id"]
                    body = {"productId": product["id"], "verifierCertificates": [self.verifier_pem]}
                    (await cell.post(f"/requests/{rid}/link", json=body)).raise_for_status()
                    (await cell.post(f"/requests/{rid}/accept")).raise_for_status()
                    self.hop.linked = True
                    return
                if time.monotonic() > deadline:
                    raise DemoError("no Ouranos trade reached the cell maker; see the platform's node.log")
                await asyncio.sleep(0.3)

    async def wait_for_pack(self, timeout: float = 120) -> dict[str, Any]:
        if self.hop is not None and not self.hop.linked:
            await self.link_held_trade(timeout)
        return await super().wait_for_pack(timeout)

    def hop_summary(self) -> str:
        if self.hop is None:
            return ""
        names = names_of(self.document)
        return (
            f"Ouranos hop: {names[self.hop.pack]} asked {names[self.hop.cell]} over Ouranos DTS through the platform "
            f"at {self.hop.platform.url}; the cell maker linked its cell to the trade "
            f"(POST /requests/{{id}}/link){' and answered' if self.hop.linked else ''}"
        )
