"""6. Catena-X GET /catenax/submodel/{productId}: requests/s and p50/p99 latency, against a bare endpoint.

Two servers, each ``uvicorn`` (one worker, no access log) on 127.0.0.1 in its own process, up together and loaded in
alternating rounds (as bench/pact_api.py does):

* the connector node, seeded as for the PACT benchmark (N products, each footprint granted to one customer), the
  customer registered as a Catena-X partner with a BPNL; each PCF is fetched once first so the attestation exists.
  Requests carry what a Tractus-X data plane adds: ``Edc-Bpn`` and the asset's proxy secret (``X-Api-Key``);
* the floor: a bare FastAPI app answering the same path with the very bytes the node returned.

The node runs on SQLite (a file) and on PostgreSQL (``BENCH_POSTGRES_URL``; a database ``bench_catenax`` is made)
when reachable.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import httpx

from connector.demo.dataspace import free_ports

from .common import Row, print_table
from .load import combine, load
from .pact_api import CUSTOMER, PG_URL, ROUNDS, _cpu_seconds, _serve, _uvicorn, seed

NAME = "catenax_api"
BPNL = "BPNL0000000CUST1"
SECRET = "bench-proxy-secret"


def _register_partner(config: dict[str, Any]) -> None:
    from sqlmodel import Session

    from connector.config import Settings
    from connector.services import catalog
    from connector.services.context import NodeContext
    from connector.storage.db import make_engine

    settings = Settings(**config)
    engine = make_engine(str(settings.database_url))
    with Session(engine) as session:
        partner = catalog.ensure_partner(NodeContext(session, settings, None), CUSTOMER, "Customer", customer=True)
        partner.bpnl, partner.protocol = BPNL, "catenax"
        session.add(partner)
        session.commit()
    engine.dispose()


def _pg_database() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_catenax WITH (FORCE)")
            conn.execute("CREATE DATABASE bench_catenax")
    except Exception:
        return None
    return PG_URL.rsplit("/", 1)[0] + "/bench_catenax"


def run(
    quick: bool = False,
    n: int | None = None,
    seconds: float | None = None,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
) -> list[Row]:
    n = n or (20 if quick else 100)
    seconds = seconds or (1.5 if quick else 4.0)
    rows: list[Row] = []
    for backend in backends:
        url = _pg_database() if backend == "postgresql" else None
        if backend == "postgresql" and url is None:
            rows.append(Row(NAME, "postgresql", 0, "req/s", floor_label=f"skipped: {PG_URL} not reachable"))
            continue
        rows.append(_case(backend, url, n, seconds))
    return rows


def _case(backend: str, database_url: str | None, n: int, seconds: float) -> Row:
    with tempfile.TemporaryDirectory(prefix="bench-catenax-") as tmp:
        data_dir = Path(tmp) / "node"
        data_dir.mkdir()
        config, _, _ = seed(data_dir, database_url, n)
        config["catenax"] = {"bpnl": "BPNL00000000BNCH", "api_key": SECRET}
        _register_partner(config)
        (data_dir / "config.json").write_text(json.dumps(config))
        port, bare_port = free_ports(2)
        base = f"http://127.0.0.1:{port}"
        headers = {"Edc-Bpn": BPNL, "X-Api-Key": SECRET}
        paths = [f"/catenax/submodel/urn:pact:bench-node.example:product:p{i}" for i in range(n)]
        with _serve(
            _uvicorn("node_app", port), {"BENCH_NODE_CONFIG": str(data_dir / "config.json")}, f"{base}/health"
        ) as node:
            for path in paths:  # warm: attestation issued on first read
                httpx.get(f"{base}{path}", headers=headers, timeout=30).raise_for_status()
            one = httpx.get(f"{base}{paths[0]}", headers=headers).content
            bare_dir = data_dir / "bare"
            bare_dir.mkdir()
            for name in ("one.json", "list.json", "cx.json"):
                (bare_dir / name).write_bytes(one)
            bare_health = f"http://127.0.0.1:{bare_port}/health"
            with _serve(_uvicorn("bare_app", bare_port), {"BENCH_BARE_DIR": str(bare_dir)}, bare_health) as bare:
                rounds: dict[str, list[Any]] = {"node": [], "bare": []}
                cpu = {"node": 0.0, "bare": 0.0}
                for _ in range(ROUNDS):
                    for side, proc, p in (("node", node, port), ("bare", bare, bare_port)):
                        before = _cpu_seconds(proc.pid)
                        rounds[side].append(load("127.0.0.1", p, paths, headers, seconds=seconds / ROUNDS))
                        cpu[side] += _cpu_seconds(proc.pid) - before
    node_r, bare_r = combine(rounds["node"]), combine(rounds["bare"])
    ratio = node_r.rps / bare_r.rps
    extra = {
        "p50_ms": node_r.p50_ms,
        "p99_ms": node_r.p99_ms,
        "bare_p50_ms": bare_r.p50_ms,
        "bare_p99_ms": bare_r.p99_ms,
        "errors": node_r.errors + bare_r.errors,
        "body_bytes": node_r.body_bytes,
        "footprints": n,
        "round_ratios": [round(a.rps / b.rps, 3) for a, b in zip(rounds["node"], rounds["bare"], strict=True)],
        "cpu_us_per_request": round(cpu["node"] / node_r.requests * 1e6, 1),
        "bare_cpu_us_per_request": round(cpu["bare"] / bare_r.requests * 1e6, 1),
    }
    return Row(
        NAME,
        f"GET /catenax/submodel/{{productId}} ({backend})",
        node_r.rps,
        "req/s",
        bare_r.rps,
        "bare FastAPI, same bytes",
        ratio,
        target=">= 0.70 of bare",
        met=ratio >= 0.7 and extra["errors"] == 0,
        extra=extra,
    )


def show(rows: list[Row]) -> None:
    print_table("6. Catena-X PCF submodel GET: node vs bare FastAPI endpoint (same bytes, same uvicorn)", rows)
    for r in rows:
        e = r.extra
        if "p50_ms" not in e:
            continue
        print(
            f"  {r.case}: p50 {e['p50_ms']:.1f} ms p99 {e['p99_ms']:.1f} ms ({e['body_bytes']:,} B); bare p50 "
            f"{e['bare_p50_ms']:.1f} ms p99 {e['bare_p99_ms']:.1f} ms; errors {e['errors']}; ratio per round "
            f"{', '.join(f'{x:.2f}' for x in e['round_ratios'])}; server CPU per request "
            f"{e['cpu_us_per_request']:.0f} us (bare {e['bare_cpu_us_per_request']:.0f} us)"
        )
