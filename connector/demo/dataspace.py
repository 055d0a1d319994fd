"""The demo dataspace: one real node process per company over HTTPS, plus the notified body's verifier node.

Everything is throwaway: a fresh CA, certificates, SQLite files and API keys under the output folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session

from ..config import Settings
from ..identity import (
    build_crl,
    create_intermediate_ca,
    create_root_ca,
    issue_company_certificate,
    issue_tls_certificate,
)
from ..identity.files import save_authority, save_issued, write_certificates, write_crl, write_private_key
from ..identity.keys import certificates_to_pem
from ..services import accounts, api_keys
from ..services.context import NodeContext
from ..storage.db import create_schema, make_engine
from .catenax_edc import DemoEdcs, pack_pair_over_catenax
from .chain import entries_of, wire_company
from .chains import catenax_passport_of
from .declaration_page import page_with_verdict
from .entered import EnteredSupplier, enter


def free_ports(count: int) -> list[int]:
    """``count`` distinct free ports on 127.0.0.1.

    Every socket stays bound until all the ports are chosen: the kernel picks a port for ``bind(port 0)`` at random,
    so separate picks can repeat one (31 picks, the 8 x 4 chain's processes: ~3 % of the time on Linux, which hands
    ``bind`` only the odd half of the ephemeral range); two nodes given one port left one of them unable to listen
    while the other answered in its place.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class DemoError(Exception):
    """A demo step that cannot go on, said in a sentence (with the node's log lines when a node is to blame)."""


def slug(company_id: str) -> str:
    return company_id.rsplit(":", 1)[-1]


@dataclass
class DemoNode:
    company_id: str
    name: str
    role: str
    port: int
    data_dir: Path
    api_key: str = ""
    console_login: str = ""
    console_password: str = ""
    process: subprocess.Popen[bytes] | None = None
    database_url: str | None = None  # None: the SQLite file in the data folder

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@dataclass
class DemoDataspace:
    fixture: Path
    out: Path
    document: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, DemoNode] = field(default_factory=dict)
    ca_dir: Path = Path()
    verifier_pem: str = ""
    database_url: Callable[[str], str] | None = None
    """A database URL per company id (e.g. a PostgreSQL schema each, for the fault harness); None: SQLite files."""
    catenax: bool = False
    """The automaker asks the pack maker over Catena-X (EDC hop simulated at the boundary); the rest speaks PACT."""
    edcs: DemoEdcs | None = None
    without_node: list[EnteredSupplier] = field(default_factory=list)
    """Companies that run no node: their customers enter their values (:meth:`enter_values`)."""

    def __post_init__(self) -> None:
        self.document = json.loads(self.fixture.read_text())
        self.ca_dir = self.out / "ca"
        if self.catenax:
            pack_pair_over_catenax(self.document)

    # set-up -------------------------------------------------------------------------------------------------------

    @property
    def oem_id(self) -> str:
        return self.document["declaration"]["issuerCompanyId"]

    @property
    def verifier_id(self) -> str:
        return self.document["verifier"]["companyId"]

    def prepare(self) -> None:
        """Fresh CA, certificates, data folders and databases for every company and the verifier."""
        shutil.rmtree(self.out / "nodes", ignore_errors=True)
        shutil.rmtree(self.ca_dir, ignore_errors=True)
        now = datetime.now(UTC) - timedelta(minutes=5)
        root = create_root_ca("Demo Battery Dataspace Root CA", at=now)
        inter = create_intermediate_ca(root, "Demo Battery Dataspace Issuing CA", at=now)
        save_authority(self.ca_dir, root, inter)
        (self.ca_dir / ".gitignore").write_text("*\n")
        # both CAs' CRLs, as `connector ca crl` publishes them: a verifier with --require-crl needs the root's too
        crl_paths = [
            write_crl(self.ca_dir / "intermediate.crl.pem", build_crl(inter, [], at=now)),
            write_crl(self.ca_dir / "root.crl.pem", build_crl(root, [], at=now)),
        ]
        tls = issue_tls_certificate(inter, ["localhost", "127.0.0.1"], at=now)
        tls_paths = {
            "key": write_private_key(self.ca_dir / "tls.key", tls.key),
            "chain": write_certificates(self.ca_dir / "tls.chain.pem", list(tls.chain)),
        }
        nodeless = {s.company_id for s in self.without_node}
        companies = [c for c in entries_of(self.document) if c["companyId"] not in nodeless]
        *ports, edc_port = free_ports(len(companies) + 1)
        urls = {c["companyId"]: f"https://127.0.0.1:{port}" for c, port in zip(companies, ports, strict=True)}
        self.edcs = DemoEdcs(self.document, urls, edc_port, self.ssl_context())
        for company, port in zip(companies, ports, strict=True):
            cid = company["companyId"]
            node = DemoNode(cid, company["name"], company["role"], port, self.out / "nodes" / slug(cid))
            issued = issue_company_certificate(
                inter, company_id=cid, name=company["name"], role=company["role"], at=now
            )
            paths = save_issued(node.data_dir / "identity", "company", issued)
            if company["role"] == "verifier":
                self.verifier_pem = certificates_to_pem(list(issued.chain)).decode()
            config = {
                "company_id": cid,
                "company_name": company["name"],
                "node_name": slug(cid),
                "public_url": node.url,
                "listen_host": "127.0.0.1",
                "listen_port": node.port,
                "key_file": str(paths["key"]),
                "cert_file": str(paths["chain"]),
                "trust_anchor_files": [str(self.ca_dir / "root.pem")],
                "crl_files": [str(p) for p in crl_paths],
                "tls_cert_file": str(tls_paths["chain"]),
                "tls_key_file": str(tls_paths["key"]),
                "outbox_base_delay": 0.2,
                "outbox_max_delay": 2.0,
                "allow_private_network_targets": True,  # every node listens on 127.0.0.1
                **self.edcs.settings_of(cid),
            }
            if self.database_url is not None:
                node.database_url = config["database_url"] = self.database_url(cid)
            (node.data_dir / "node.json").write_text(json.dumps(config, indent=2) + "\n")
            self.nodes[cid] = node
        self._load_data()

    def _load_data(self) -> None:
        for node in self.nodes.values():
            settings = Settings(**json.loads((node.data_dir / "node.json").read_text()), data_dir=node.data_dir)
            engine = make_engine(str(settings.database_url))
            create_schema(engine)
            with Session(engine, expire_on_commit=False) as session:
                _, node.api_key = api_keys.create_key(session, "demo admin", "admin")
                ctx = NodeContext(session, settings)
                node.console_login, node.console_password = slug(node.company_id), secrets.token_urlsafe(12)
                role = "verifier" if node.role == "verifier" else "editor"  # a console login per company
                accounts.create_user(ctx, node.console_login, node.console_password, role, node.name)
                catenax = self.edcs.address if self.edcs else None
                url_of = lambda c: self.nodes[c].url if c in self.nodes else None  # noqa: E731
                wire_company(ctx, self.document, url_of, catenax=catenax)
                session.commit()
            engine.dispose()
        keys_file = self.out / "nodes" / "api-keys.json"
        fd = os.open(keys_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            nodes = {n.company_id: {"url": n.url, "apiKey": n.api_key, "console": f"{n.url}/console/",
                                    "login": n.console_login, "password": n.console_password}
                     for n in self.nodes.values()}  # fmt: skip
            json.dump(nodes, fh, indent=2)

    # processes ----------------------------------------------------------------------------------------------------

    def start(self, company_id: str, *options: str) -> None:
        """Start a company's node (``options``: more ``connector serve`` options, e.g. ``--workers 2``)."""
        node = self.nodes[company_id]
        log = open(node.data_dir / "node.log", "ab")  # noqa: SIM115 - handed to the child process
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env = {k: v for k, v in env.items() if not k.startswith("CONNECTOR_")}
        node.process = subprocess.Popen(
            [sys.executable, "-m", "connector", "serve", "--data-dir", str(node.data_dir), *options],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        log.close()

    def stop(self, company_id: str) -> None:
        node = self.nodes[company_id]
        if node.process and node.process.poll() is None:
            node.process.terminate()
            try:
                node.process.wait(10)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait(5)
        node.process = None

    def kill(self, company_id: str) -> None:
        """Stop a node abruptly, as a crash would."""
        node = self.nodes[company_id]
        if node.process and node.process.poll() is None:
            node.process.kill()
            node.process.wait(5)
        node.process = None

    def start_all(self) -> None:
        if self.edcs is not None:
            self.edcs.start()
        for cid in self.nodes:
            self.start(cid)

    def stop_all(self) -> None:
        """Stop every node: all asked at once, then waited for, then killed if they linger."""
        for node in self.nodes.values():
            if node.process and node.process.poll() is None:
                node.process.terminate()
        for cid in self.nodes:
            self.stop(cid)
        if self.edcs is not None:
            self.edcs.stop()

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_dir / "root.pem"))

    def client(self, company_id: str) -> httpx.AsyncClient:
        node = self.nodes[company_id]
        return httpx.AsyncClient(
            base_url=f"{node.url}/api/v1", headers={"X-API-Key": node.api_key}, verify=self.ssl_context(), timeout=30
        )

    async def wait_healthy(self, company_ids: list[str] | None = None, timeout: float = 60) -> None:
        pending = set(company_ids or self.nodes)
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(verify=self.ssl_context(), timeout=2) as http:
            while pending:
                for cid in list(pending):
                    node = self.nodes[cid]
                    if node.process is not None and node.process.poll() is not None:
                        raise DemoError(
                            f"node {node.name} exited with status {node.process.returncode}; "
                            f"last lines of {node.data_dir / 'node.log'}:\n{self.log_tail(cid)}"
                        )
                    try:
                        r = await http.get(f"{node.url}/health")
                        answered = r.json().get("companyId") if r.status_code == 200 else None
                    except (httpx.HTTPError, ValueError, AttributeError):
                        continue
                    if answered == cid:
                        pending.discard(cid)
                    elif answered is not None:
                        # another process holds this node's port: the node cannot listen, and its partners' calls
                        # would reach the wrong company (refused, retried until any timeout)
                        raise DemoError(f"node {node.name}'s port {node.port} is answered by {answered}")
                if pending:
                    if time.monotonic() > deadline:
                        raise DemoError(self._not_started(pending, timeout))
                    await asyncio.sleep(0.1)

    def database_url_of(self, company_id: str) -> str:
        node = self.nodes[company_id]
        return node.database_url or f"sqlite:///{(node.data_dir / 'connector.sqlite').as_posix()}"

    def log_tail(self, company_id: str, lines: int = 15) -> str:
        """The last lines of a node's log, for an error that names the node."""
        try:
            text = (self.nodes[company_id].data_dir / "node.log").read_text(errors="replace")
        except OSError as exc:
            return f"  (no log: {exc.strerror})"
        return "\n".join("  " + line for line in text.splitlines()[-lines:]) or "  (log is empty)"

    def _not_started(self, pending: set[str], timeout: float) -> str:
        names = ", ".join(self.nodes[cid].name for cid in sorted(pending))
        first = sorted(pending)[0]
        return (
            f"{len(pending)} node(s) did not answer /health within {timeout:g} s: {names} "
            f"(raise it with --timeout); last lines of {self.nodes[first].data_dir / 'node.log'}:\n"
            f"{self.log_tail(first)}"
        )

    # the flow -----------------------------------------------------------------------------------------------------

    async def enter_values(self) -> None:
        """Each customer of a company without a node enters that supplier's value on its own node."""
        for supplier in self.without_node:
            for customer in supplier.customers:
                async with self.client(customer) as client:
                    await enter(client, supplier, self.nodes[customer].name)

    async def request_pack(self) -> dict[str, Any]:
        async with self.client(self.oem_id) as oem:
            product = (await oem.get("/products")).json()["items"][0]
            line = (await oem.get(f"/products/{product['id']}/bom")).json()[0]
            r = await oem.post(
                "/requests",
                json={
                    "bomLineId": line["id"],
                    "message": "EU Battery Regulation Art. 7",
                    "verifierCertificates": [self.verifier_pem],
                },
            )
            r.raise_for_status()
            return r.json()

    async def wait_for_pack(self, timeout: float = 120) -> dict[str, Any]:
        pack = self.document["declaration"]["packProductId"]
        deadline = time.monotonic() + timeout
        async with self.client(self.oem_id) as oem:
            while True:
                try:
                    items = (await oem.get("/upstream-footprints")).json()["items"]
                    held = [u for u in items if u["productId"] == pack and u["status"] == "Active"]
                    if held:
                        return held[0]
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    node = self.nodes[self.oem_id]
                    raise DemoError(
                        f"the pack footprint did not reach the automaker ({node.name}) within {timeout:g} s; "
                        f"last lines of {node.data_dir / 'node.log'}:\n{self.log_tail(self.oem_id)}"
                    )
                await asyncio.sleep(0.2)

    async def declare_and_verify(self) -> dict[str, Any]:
        """Declare at the automaker, hand the bundle to the notified body's node, write every output."""
        results = self.out / "results"
        results.mkdir(parents=True, exist_ok=True)
        async with self.client(self.oem_id) as oem, self.client(self.verifier_id) as nb:
            r = await oem.post("/declarations", json=self.document["declaration"])
            r.raise_for_status()
            declared = r.json()
            did = declared["id"]
            bundle = (await oem.get(f"/declarations/{did}/bundle")).json()
            html = (await oem.get(f"/declarations/{did}/html")).text
            battery_pass = (await oem.get(f"/declarations/{did}/battery-pass")).json()
            passport = catenax_passport_of(self.fixture)  # whole aspect with it, the declaration's part without
            r = await (
                oem.post(f"/declarations/{did}/catenax", json=json.loads(passport.read_text()))
                if passport
                else oem.get(f"/declarations/{did}/catenax")
            )
            if r.is_error:
                raise DemoError(f"the Catena-X export was refused ({passport or 'no passport'}): {r.text}")
            catenax = r.json()
            r = await nb.post("/verify", json=bundle)
            r.raise_for_status()
            report = r.json()
        html = page_with_verdict(declared["document"], report, self.document["verifier"])
        files = {
            "declaration.json": json.dumps(declared["document"], indent=2),
            "declaration.vc.jwt": declared["signed"],
            "declaration.html": html,
            "bundle.json": json.dumps(bundle, indent=2),
            "verification-report.json": json.dumps(report, indent=2),
            "battery-pass.json": json.dumps(battery_pass, indent=2),
            "catenax-battery-pass.json": json.dumps(catenax, indent=2),
        }
        for name, text in files.items():
            (results / name).write_text(text + ("\n" if not text.endswith("\n") else ""))
        return {"declaration": declared["document"], "report": report, "results": results}
