"""Several node processes on one PostgreSQL database, the documented way to scale a node: the example chain with the
automaker's node split over two processes (peers reach one, the operator drives the other)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import Session

from connector.demo.dataspace import DemoDataspace, free_ports
from connector.services.audit import check_chain
from connector.storage.db import make_engine
from tests.conftest import FIXTURE_FILE

pytestmark = pytest.mark.e2e

DUPLICATES = text("""SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM auditentry
                     WHERE action IN ('event.received', 'footprint.received') GROUP BY action, subject
                     HAVING count(*) > 1) d""")


def test_the_automaker_split_over_two_processes_on_one_database(tmp_path: Path, pg_schema_url) -> None:
    database_url = lambda _company_id: pg_schema_url()  # noqa: E731 - a schema per company

    space = DemoDataspace(FIXTURE_FILE, tmp_path / "demo", database_url=database_url)
    space.prepare()
    oem = space.nodes[space.oem_id]
    (second_port,) = free_ports(1)
    log = open(tmp_path / "second.log", "ab")  # noqa: SIM115 - handed to the child process
    second = None
    try:
        space.start_all()
        second = subprocess.Popen(
            [sys.executable, "-m", "connector", "serve", "--data-dir", str(oem.data_dir), "--port", str(second_port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        asyncio.run(space.wait_healthy())

        async def flow() -> dict:
            base = f"https://127.0.0.1:{second_port}"
            async with httpx.AsyncClient(
                base_url=f"{base}/api/v1", headers={"X-API-Key": oem.api_key}, verify=space.ssl_context(), timeout=30
            ) as other:
                for _ in range(200):  # the second process: the same company, the same database
                    try:
                        if (await other.get(f"{base}/health")).json().get("companyId") == space.oem_id:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError((tmp_path / "second.log").read_text()[-2000:])
                product = (await other.get("/products")).json()["items"][0]
                line = (await other.get(f"/products/{product['id']}/bom")).json()[0]
                r = await other.post(
                    "/requests",
                    json={
                        "bomLineId": line["id"],
                        "message": "two processes",
                        "verifierCertificates": [space.verifier_pem],
                    },
                )
                assert r.status_code == 201, r.text
                pack = space.document["declaration"]["packProductId"]
                for _ in range(1200):  # the answer reaches the first process (the public URL), seen by the second
                    items = (await other.get("/upstream-footprints")).json()["items"]
                    if any(u["productId"] == pack and u["status"] == "Active" for u in items):
                        break
                    await asyncio.sleep(0.1)
                else:
                    raise AssertionError("the pack footprint never reached the automaker")
                r = await other.post("/declarations", json=space.document["declaration"])
                assert r.status_code == 201, r.text
                return (await other.get(f"/declarations/{r.json()['id']}/bundle")).json()

        bundle = asyncio.run(flow())

        async def verify() -> dict:
            async with space.client(space.verifier_id) as nb:
                return (await nb.post("/verify", json=bundle)).json()

        report = asyncio.run(verify())
        assert report["valid"] is True, report["failures"]
        for cid in space.nodes:  # no event nor footprint handled twice by any node, the split automaker included
            engine = make_engine(space.database_url_of(cid))
            with engine.connect() as conn:
                assert conn.execute(DUPLICATES).scalar() == 0, cid
            with Session(engine) as session:  # both processes appended to one hash chain
                assert check_chain(session).valid, cid
            engine.dispose()
    finally:
        if second is not None:
            second.terminate()
            try:
                second.wait(10)
            except subprocess.TimeoutExpired:
                second.kill()
        log.close()
        space.stop_all()
