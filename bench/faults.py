"""Fault harness: kill -9 and restart a random middle node at a random moment of a propagation, many times.

``python -m bench.faults --cycles 100 --db sqlite|postgresql [--seed N] [--json out.json]``

One real HTTPS node process per company of the example chain (as ``connector demo``), with every product line copied
once per cycle, so each cycle is a propagation through products no node has computed yet while the processes (and
whatever they had in flight) carry on from the cycle before. A cycle: the automaker asks for its battery's pack; a
middle node (one with both suppliers and customers) is killed with SIGKILL, and after a random delay restarted; the
cycle ends when the pack footprint is held at the automaker. Even cycles kill a random middle node after a random
delay; odd cycles kill the first middle node seen holding a committed, unsent outgoing message (the window a crash
of the outbox hits: before leases were reclaimed at start-up, such a message waited out its 60 s lease). Reported
per cycle:

- completed: the pack footprint reached the automaker within the timeout, and the seconds it took; a cycle over
  ``STALL_S`` (half the outbox lease) counts as stalled: something waited for a lease to run out;
- active: the automaker's Active footprints of that pack (exactly 1; 0 is a lost answer, 2 a fork);
- forks: products of any node with more than one Active footprint, or a version number used twice;
- duplicates: events or footprints a node processed more than once (audit ``event.received`` / ``footprint.received``
  entries for one subject), new since the cycle before;
- audit: the killed node's audit hash chain still valid after its restart.

Not part of the test suite (tests/unit/test_bench_smoke.py runs one cycle); the table goes in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import math
import random
import statistics
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from connector.demo.chain import customers_of
from connector.demo.chains import DEFAULT_CHAIN
from connector.demo.dataspace import DemoDataspace
from connector.services.audit import check_chain
from connector.storage.db import make_engine, read_only

from .common import console

PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
STALL_S = 30.0


def copied_chain(document: dict[str, Any], copies: int) -> dict[str, Any]:
    """``document`` with every product made ``copies`` times (``-r0``, ``-r1``, ...; BOM lines follow their copy),
    and the automaker making one battery per copy of the pack."""
    out = copy.deepcopy(document)

    def suffixed(product_id: str, k: int) -> str:
        return f"{product_id}-r{k}"

    for company in out["companies"]:
        products = []
        for k in range(copies):
            for product in company["products"]:
                made = copy.deepcopy(product)
                made["productId"] = suffixed(product["productId"], k)
                for line in made["bom"]:
                    if "supplierProductId" in line:
                        line["supplierProductId"] = suffixed(line["supplierProductId"], k)
                products.append(made)
        company["products"] = products
    decl = out["declaration"]
    pack, oem = decl["packProductId"], decl["issuerCompanyId"]
    pack_maker = next(
        c["companyId"] for c in document["companies"] if any(p["productId"] == pack for p in c["products"])
    )
    automaker = next(c for c in out["companies"] if c["companyId"] == oem)
    automaker["products"] = [
        {
            "productId": battery_of(oem, k),
            "name": f"Battery {k}",
            "declaredUnit": "piece",
            "plant": decl["plant"],
            "ownEmissions": {"main_production": "1"},
            "primaryDataShare": "100",
            "bom": [
                {
                    "supplierCompanyId": pack_maker,
                    "supplierProductId": suffixed(pack, k),
                    "quantity": "1",
                    "unit": "piece",
                }
            ],
        }
        for k in range(copies)
    ]
    decl["packProductId"] = suffixed(pack, 0)
    out.pop("expected", None)
    return out


def battery_of(oem: str, k: int) -> str:
    return f"urn:pact:{oem.rsplit(':', 1)[-1]}.example:product:fault-battery-r{k}"


def middle_nodes(document: dict[str, Any]) -> list[str]:
    """Companies with both suppliers and customers: a crash there cuts the chain in two."""
    customers = customers_of(document)
    return sorted(
        c["companyId"]
        for c in document["companies"]
        if c["companyId"] in customers and any("supplierCompanyId" in line for p in c["products"] for line in p["bom"])
    )


@dataclass
class Cycle:
    cycle: int
    mode: str
    killed: str
    kill_after_s: float
    down_s: float
    completed: bool
    seconds: float
    active: int
    forks: int
    duplicates: int
    audit_valid: bool


_FORKS = text("""
    SELECT (SELECT count(*) FROM (SELECT product_id FROM footprint WHERE status = 'Active'
                                  GROUP BY product_id HAVING count(*) > 1) a)
         + (SELECT count(*) FROM (SELECT product_id, version FROM footprint
                                  GROUP BY product_id, version HAVING count(*) > 1) v)""")
_UNSENT = text("SELECT count(*) FROM outboxmessage WHERE state = 'pending'")
_DUPLICATES = text("""
    SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM auditentry
        WHERE action IN ('event.received', 'footprint.received') GROUP BY action, subject HAVING count(*) > 1) d""")


class Harness:
    def __init__(self, work: Path, cycles: int, db: str, seed: int, timeout: float) -> None:
        self.rng = random.Random(seed)
        self.cycles = cycles
        self.timeout = timeout
        self.document = copied_chain(json.loads(DEFAULT_CHAIN.read_text()), cycles)
        fixture = work / "chain.json"
        fixture.write_text(json.dumps(self.document))
        self.schemas: list[str] = []
        self.space = DemoDataspace(fixture, work / "space", database_url=self._pg_url if db == "postgresql" else None)
        self.middle = middle_nodes(self.document)
        self.duplicates_seen = 0

    def _pg_url(self, company_id: str) -> str:
        schema = "fault_" + uuid.uuid4().hex[:12]
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        self.schemas.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    def drop_schemas(self) -> None:
        if not self.schemas:
            return
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            for schema in self.schemas:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

    def _scalar(self, company_id: str, query: Any) -> int:
        engine = make_engine(self.space.database_url_of(company_id))
        try:
            with read_only(engine).connect() as conn:
                return int(conn.execute(query).scalar() or 0)
        finally:
            engine.dispose()

    def _audit_valid(self, company_id: str) -> bool:
        engine = make_engine(self.space.database_url_of(company_id))
        try:
            with Session(read_only(engine)) as session:
                return check_chain(session).valid
        finally:
            engine.dispose()

    async def _active_packs(self, k: int) -> int:
        pack = self.document["declaration"]["packProductId"].rsplit("-r", 1)[0] + f"-r{k}"
        async with self.space.client(self.space.oem_id) as oem:
            r = await oem.get("/upstream-footprints", params={"limit": 500})
            return sum(1 for u in r.json()["items"] if u["productId"] == pack and u["status"] == "Active")

    async def _request(self, k: int) -> None:
        async with self.space.client(self.space.oem_id) as oem:
            products = (await oem.get("/products", params={"limit": 500})).json()["items"]
            product = next(p for p in products if battery_of(self.space.oem_id, k) in p["productIds"])
            line = (await oem.get(f"/products/{product['id']}/bom")).json()[0]
            r = await oem.post(
                "/requests",
                json={
                    "bomLineId": line["id"],
                    "message": f"fault cycle {k}",
                    "verifierCertificates": [self.space.verifier_pem],
                },
            )
            r.raise_for_status()

    async def _holding_a_message(self, limit: float) -> str | None:
        """The first middle node seen with a committed outgoing message not yet sent (None after ``limit`` s)."""
        engines = {cid: make_engine(self.space.database_url_of(cid)) for cid in self.middle}
        try:
            deadline = time.monotonic() + limit
            while time.monotonic() < deadline:
                for cid, engine in engines.items():
                    with read_only(engine).connect() as conn:
                        if conn.execute(_UNSENT).scalar():
                            return cid
                await asyncio.sleep(0.002)
            return None
        finally:
            for engine in engines.values():
                engine.dispose()

    async def cycle(self, k: int) -> Cycle:
        targeted = k % 2 == 1
        victim = self.rng.choice(self.middle)
        kill_after = self.rng.uniform(0, 1.5)
        down = self.rng.uniform(0, 1.0)
        t0 = time.monotonic()
        await self._request(k)
        if targeted:
            victim = await self._holding_a_message(5.0) or victim
            kill_after = time.monotonic() - t0
        else:
            await asyncio.sleep(kill_after)
        self.space.kill(victim)
        await asyncio.sleep(down)
        self.space.start(victim)
        await self.space.wait_healthy([victim], timeout=60)
        completed, active = False, 0
        while time.monotonic() - t0 < self.timeout:
            try:
                active = await self._active_packs(k)
            except Exception:  # noqa: BLE001 - the automaker is not the victim, but keep polling on a hiccup
                active = 0
            if active:
                completed = True
                break
            await asyncio.sleep(0.1)
        seconds = time.monotonic() - t0
        await asyncio.sleep(0.3)  # a late duplicate answer would land now
        active = await self._active_packs(k)
        forks = sum(self._scalar(cid, _FORKS) for cid in self.space.nodes)
        duplicates = sum(self._scalar(cid, _DUPLICATES) for cid in self.space.nodes)
        new_duplicates, self.duplicates_seen = duplicates - self.duplicates_seen, duplicates
        return Cycle(
            k,
            "unsent message" if targeted else "random",
            self.space.nodes[victim].name,
            round(kill_after, 3),
            round(down, 3),
            completed,
            round(seconds, 2),
            active,
            forks,
            new_duplicates,
            self._audit_valid(victim),
        )

    def run(self) -> list[Cycle]:
        self.space.prepare()
        results = []
        try:
            self.space.start_all()
            asyncio.run(self.space.wait_healthy(timeout=120))
            for k in range(self.cycles):
                result = asyncio.run(self.cycle(k))
                results.append(result)
                mark = "ok" if _clean(result) else "[red]FAILED[/]"
                console.print(
                    f"cycle {k:3d} ({result.mode:14s}): killed {result.killed:32s} after {result.kill_after_s:5.2f} s, "
                    f"down {result.down_s:4.2f} s: {result.seconds:6.2f} s, active {result.active}, "
                    f"forks {result.forks}, duplicates {result.duplicates}, audit "
                    f"{'valid' if result.audit_valid else 'BROKEN'} {mark}"
                )
        finally:
            self.space.stop_all()
            self.drop_schemas()
        return results


def _clean(c: Cycle) -> bool:
    return (
        c.completed and c.seconds < STALL_S and c.active == 1 and c.forks == 0 and c.duplicates == 0 and c.audit_valid
    )


def summary(results: list[Cycle], db: str) -> dict[str, Any]:
    seconds = [c.seconds for c in results if c.completed]
    return {
        "db": db,
        "cycles": len(results),
        "completed": sum(c.completed for c in results),
        "lost": sum(1 for c in results if c.completed and c.active == 0) + sum(not c.completed for c in results),
        "stalled": sum(1 for c in results if c.completed and c.seconds >= STALL_S),
        "forks": sum(c.forks for c in results) + sum(1 for c in results if c.active > 1),
        "duplicates": sum(c.duplicates for c in results),
        "audit_broken": sum(not c.audit_valid for c in results),
        "median_s": round(statistics.median(seconds), 2) if seconds else None,
        "p90_s": round(sorted(seconds)[math.ceil(0.9 * len(seconds)) - 1], 2) if seconds else None,  # nearest rank
        "max_s": round(max(seconds), 2) if seconds else None,
        "clean": all(_clean(c) for c in results),
    }


def run(cycles: int, db: str = "sqlite", seed: int = 1, timeout: float = 120) -> tuple[list[Cycle], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        results = Harness(Path(tmp), cycles, db, seed, timeout).run()
    return results, summary(results, db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=120, help="seconds a cycle may take before it counts lost")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    results, totals = run(args.cycles, args.db, args.seed, args.timeout)
    console.print(totals)
    if args.json:
        args.json.write_text(json.dumps({"summary": totals, "cycles": [asdict(c) for c in results]}, indent=2))
    return 0 if totals["clean"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
