"""``connector serve --workers 2`` on PostgreSQL: a node of two worker processes on one socket answers PACT reads,
operator writes and reads and console pages whichever worker takes the connection, delivers an outbox message once,
keeps one valid audit chain and stops cleanly; on SQLite several workers are refused."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from connector.demo.dataspace import DemoDataspace
from connector.storage.db import make_engine
from tests.conftest import FIXTURE_FILE

pytestmark = pytest.mark.e2e

PACK = "urn:pact:kyushu-pack.example:company:kyushu-pack"
"""The automaker's supplier: it receives the request the automaker's outbox sends."""
TRIES = 8
"""Requests sent on a new connection each: the kernel hands each connection to either worker."""


def _count(url: str, sql: str) -> int:
    engine = make_engine(url)
    with engine.connect() as conn:
        found = int(conn.execute(text(sql)).scalar() or 0)
    engine.dispose()
    return found


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def _connector(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")}
    return subprocess.run(
        [sys.executable, "-m", "connector", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def test_two_workers_on_postgresql_serve_one_node(tmp_path: Path, pg_schema_url: Callable[[], str]) -> None:
    space = DemoDataspace(FIXTURE_FILE, tmp_path / "demo")
    on_postgresql = {space.oem_id, PACK}
    space.database_url = lambda cid: pg_schema_url() if cid in on_postgresql else None  # type: ignore[assignment,return-value]  # noqa: E501 - the others: SQLite, never started
    space.prepare()
    oem = space.nodes[space.oem_id]
    try:
        space.start(space.oem_id, "--workers", "2")
        space.start(PACK)
        asyncio.run(space.wait_healthy([space.oem_id, PACK]))
        request_id = asyncio.run(_drive(space))

        received = "SELECT count(*) FROM auditentry WHERE action = 'event.received'"
        sent = "SELECT count(*) FROM outboxmessage WHERE state = 'sent'"
        for _ in range(300):  # the request reaches the pack maker (the outbox of either worker sends it)
            if _count(space.database_url_of(PACK), received) and _count(space.database_url_of(space.oem_id), sent):
                break
            asyncio.run(asyncio.sleep(0.1))
        else:
            raise AssertionError(space.log_tail(space.oem_id, 40))
        assert _count(space.database_url_of(space.oem_id), "SELECT count(*) FROM outboxmessage") == 1, request_id
        assert _count(space.database_url_of(PACK), received) == 1  # delivered once, not once per worker

        parent = oem.process
        assert parent is not None
        parent.send_signal(signal.SIGTERM)  # what a service manager sends: every worker stops gracefully
        assert parent.wait(30) == 0
    finally:
        space.stop_all()
    log = (oem.data_dir / "node.log").read_text()
    assert log.count("Started server process") == 2 and log.count("Finished server process") == 2, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    checked = _connector("audit", "check", "--data-dir", str(oem.data_dir))
    assert checked.returncode == 0 and "audit chain valid" in checked.stdout, checked.stdout + checked.stderr


async def _drive(space: DemoDataspace) -> str:
    """Operator, PACT and console requests, each on a new connection; returns the request made."""
    oem = space.nodes[space.oem_id]
    one_shot = httpx.Limits(max_keepalive_connections=0)  # every request opens its own connection
    async with httpx.AsyncClient(base_url=oem.url, verify=space.ssl_context(), timeout=30, limits=one_shot) as client:
        api = {"X-API-Key": oem.api_key}
        product = (await client.get("/api/v1/products", headers=api)).json()["items"][0]
        line = (await client.get(f"/api/v1/products/{product['id']}/bom", headers=api)).json()[0]
        body = {"bomLineId": line["id"], "message": "two workers", "verifierCertificates": [space.verifier_pem]}
        made = await client.post("/api/v1/requests", json=body, headers=api)
        assert made.status_code == 201, made.text
        request_id = made.json()["id"]
        for _ in range(TRIES):  # the write, read back by whichever worker
            r = await client.get(f"/api/v1/requests/{request_id}", headers=api)
            assert r.status_code == 200 and r.json()["id"] == request_id, r.text

        creds = (await client.post("/api/v1/pact-clients", json={"companyId": PACK}, headers=api)).json()
        basic = base64.b64encode(f"{creds['clientId']}:{creds['clientSecret']}".encode()).decode()
        r = await client.post(
            "/auth/token", data={"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"}
        )
        assert r.status_code == 200, r.text
        bearer = {"authorization": f"Bearer {r.json()['access_token']}"}
        for _ in range(TRIES):  # a token issued by one worker holds on the other
            r = await client.get("/3/footprints", headers=bearer)
            assert r.status_code == 200 and "data" in r.json(), r.text

        page = await client.get("/console/login")
        r = await client.post(
            "/console/login",
            data={"login": oem.console_login, "password": oem.console_password, "csrf": _csrf(page.text)},
        )
        assert r.status_code == 303 and not r.headers["location"].startswith("/console/login"), r.text
        for _ in range(TRIES):  # the session cookie, and the user's tokens, hold on either worker
            r = await client.get("/console/")
            assert r.status_code == 200, (r.status_code, r.headers.get("location"))
        return str(request_id)


def test_several_workers_on_sqlite_are_refused(tmp_path: Path) -> None:
    data = tmp_path / "node"
    made = _connector(
        "init", "--data-dir", str(data), "--company-id", "urn:pact:a.example:company:a", "--company-name", "A"
    )
    assert made.returncode == 0, made.stderr
    refused = _connector("serve", "--data-dir", str(data), "--insecure-dev", "--workers", "2")
    said = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode != 0 and "--workers 2 needs PostgreSQL" in said, said
    assert "Traceback" not in said


def test_workers_that_fail_to_start_end_serve_with_an_error(tmp_path: Path, pg_schema_url: Callable[[], str]) -> None:
    """A worker that cannot start (here: its worker slot cannot be taken, the data dir's worker-slots is a file)
    makes uvicorn's supervisor stop every worker and end; `connector serve` then exits non-zero, saying so, so a
    service manager sees a failed node rather than one that stopped cleanly."""
    data = tmp_path / "node"
    made = _connector(
        "init",
        "--data-dir",
        str(data),
        "--company-id",
        "urn:pact:a.example:company:a",
        "--company-name",
        "A",
        "--database-url",
        pg_schema_url(),
    )
    assert made.returncode == 0, made.stderr
    (data / "worker-slots").write_text("not a folder\n")  # every worker fails in runtime.claim_process
    serve = ("serve", "--data-dir", str(data), "--insecure-dev", "--workers", "2", "--port", "0")
    ended = _connector(*serve, timeout=240)  # uvicorn notices a dead worker within its health-check timeout (30 s)
    said = " ".join(ended.stderr.split())
    assert ended.returncode == 3, said[-3000:]
    assert "failed to start" in said and "every worker was stopped" in said, said[-3000:]
