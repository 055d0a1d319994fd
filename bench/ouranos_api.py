"""8. Ouranos GET /api/v1/datatransport?dataTarget=cfp&traceIds={id}: requests/s and p50/p99 latency, against a bare
FastAPI endpoint on the same uvicorn answering the same path with the very bytes the node returned (as bench 4 does
for PACT), in alternating rounds with both servers up.

The node is seeded with N products, each with own emissions and a computed footprint, one operator account logged in
(bearer token) and one API key (``apiKey`` header); every request carries both, as DTS requires. SQLite (a file) and
PostgreSQL (``BENCH_POSTGRES_URL``; a database ``bench_ouranos`` is made) when reachable. The node runs with its
answer cache (decision 0021; ``pact_read_cache_ttl``, default 5 s): set ``BENCH_PACT_CACHE_TTL=0`` to measure every
request read from the database.
"""

from __future__ import annotations

import json
import os
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connector.demo.dataspace import free_ports

from .common import Row, print_table
from .load import LoadResult, combine, load
from .pact_api import PG_URL, ROUNDS, _cpu_seconds, _serve, _uvicorn

NAME = "ouranos_api"
COMPANY = "urn:pact:bench-node.example:company:bench-node"
PASSWORD = "bench-password-123"


def _pg_database() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute("DROP DATABASE IF EXISTS bench_ouranos WITH (FORCE)")
            conn.execute("CREATE DATABASE bench_ouranos")
    except Exception:
        return None
    return PG_URL.rsplit("/", 1)[0] + "/bench_ouranos"


def seed(data_dir: Path, database_url: str | None, n: int) -> tuple[dict[str, Any], str, list[str]]:
    """Node config (Settings fields), the API key, and the products' traceIds."""
    from sqlmodel import Session

    from connector.config import Settings
    from connector.services import accounts, api_keys, catalog, footprints
    from connector.services import models as m
    from connector.services.context import NodeContext
    from connector.storage.db import create_schema, make_engine

    config: dict[str, Any] = {
        "company_id": COMPANY,
        "company_name": "Bench Node",
        "data_dir": str(data_dir),
        "run_workers": False,
        "public_url": "http://127.0.0.1:0",
        "corporate_number": "1234567890123",
        "company_address": "1-1 Bench",
    }
    if database_url:
        config["database_url"] = database_url
    if os.environ.get("BENCH_PACT_CACHE_TTL"):  # the same setting bounds both answer caches; 0 disables them
        config["pact_read_cache_ttl"] = float(os.environ["BENCH_PACT_CACHE_TTL"])
    settings = Settings(**config)
    engine = make_engine(str(settings.database_url))
    create_schema(engine)
    ids = []
    with Session(engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings)
        for i in range(n):
            product = catalog.create_product(
                ctx,
                m.ProductCreate.model_validate(
                    {
                        "productIds": [f"urn:pact:bench-node.example:product:p{i}"],
                        "name": f"Product {i}",
                        "declaredUnit": "kilogram",
                        "plant": {"name": "Plant", "country": "JP"},
                        "dqr": {"technological": "2", "geographical": "1.5", "temporal": "3"},
                    }
                ),
            )
            for stage, value in (("raw_material_acquisition", Decimal(i) / 100 + 1), ("main_production", Decimal(2))):
                catalog.add_emission(
                    ctx, product.id, m.EmissionCreate.model_validate({"stage": stage, "value": str(value)})
                )
            footprints.compute(ctx, product.id)
            ids.append(product.id)
        _, key = api_keys.create_key(session, "bench app", "viewer")
        accounts.create_user(ctx, "bench@example.com", PASSWORD, "viewer")
        session.commit()
    engine.dispose()
    return config, key, ids


def _login(base: str, key: str) -> str:
    r = httpx.post(
        f"{base}/auth/login",
        json={"operatorAccountId": "bench@example.com", "accountPassword": PASSWORD},
        headers={"apiKey": key},
    )
    r.raise_for_status()
    return r.json()["accessToken"]


def _path(trace: str) -> str:
    return f"/api/v1/datatransport?dataTarget=cfp&traceIds={trace}"


def _node_case(backend: str, database_url: str | None, n: int, seconds: float, tmp: Path) -> dict[str, Any]:
    data_dir = tmp / f"node-{backend}"
    data_dir.mkdir()
    config, key, ids = seed(data_dir, database_url, n)
    (data_dir / "config.json").write_text(json.dumps(config))
    port, bare_port = free_ports(2)
    base = f"http://127.0.0.1:{port}"
    with _serve(
        _uvicorn("node_app", port), {"BENCH_NODE_CONFIG": str(data_dir / "config.json")}, f"{base}/health"
    ) as node_proc:
        headers = {"apiKey": key, "Authorization": f"Bearer {_login(base, key)}"}
        for i in ids:  # warm, as bench 4 does: each answer rendered once before the load
            httpx.get(base + _path(i), headers=headers, timeout=30).raise_for_status()
        body = httpx.get(base + _path(ids[0]), headers=headers).content
        bare_dir = data_dir / "bare"
        bare_dir.mkdir()
        (bare_dir / "one.json").write_bytes(body)
        (bare_dir / "list.json").write_bytes(body)
        with _serve(
            _uvicorn("bare_app", bare_port), {"BENCH_BARE_DIR": str(bare_dir)}, f"http://127.0.0.1:{bare_port}/health"
        ) as bare_proc:
            rounds: dict[str, list[LoadResult]] = {"node": [], "bare": []}
            cpu = {"node": 0.0, "bare": 0.0}
            for _ in range(ROUNDS):
                for side, proc, p in (("node", node_proc, port), ("bare", bare_proc, bare_port)):
                    before = _cpu_seconds(proc.pid)
                    rounds[side].append(
                        load("127.0.0.1", p, [_path(i) for i in ids], headers, seconds=seconds / ROUNDS)
                    )
                    cpu[side] += _cpu_seconds(proc.pid) - before
    merged = {side: combine(v) for side, v in rounds.items()}
    return {
        **merged,
        "round_ratios": [a.rps / b.rps for a, b in zip(rounds["node"], rounds["bare"], strict=True)],
        "cpu_us": {side: cpu[side] / merged[side].requests * 1e6 for side in ("node", "bare")},
        "bytes": len(body),
    }


def run(
    quick: bool = False,
    n: int | None = None,
    seconds: float | None = None,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
) -> list[Row]:
    n = n or (20 if quick else 100)
    seconds = seconds or (1.5 if quick else 4.0)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-ouranos-") as tmp:
        for backend in backends:
            url = None
            if backend == "postgresql":
                url = _pg_database()
                if url is None:
                    rows.append(Row(NAME, "postgresql", 0, "req/s", floor_label=f"skipped: {PG_URL} not reachable"))
                    continue
            res = _node_case(backend, url, n, seconds, Path(tmp))
            node, bare = res["node"], res["bare"]
            ratio = node.rps / bare.rps
            rows.append(
                Row(
                    NAME,
                    f"GET datatransport?dataTarget=cfp ({backend})",
                    node.rps,
                    "req/s",
                    bare.rps,
                    "bare FastAPI, same bytes",
                    ratio,
                    target=">= 0.70 of bare",
                    met=ratio >= 0.7,
                    extra={
                        "p50_ms": node.p50_ms,
                        "p99_ms": node.p99_ms,
                        "bare_p50_ms": bare.p50_ms,
                        "bare_p99_ms": bare.p99_ms,
                        "errors": node.errors + bare.errors,
                        "body_bytes": res["bytes"],
                        "parts": n,
                        "round_ratios": [round(r, 3) for r in res["round_ratios"]],
                        "cpu_us_per_request": round(res["cpu_us"]["node"], 1),
                        "cache_ttl": os.environ.get("BENCH_PACT_CACHE_TTL", "default"),
                        "bare_cpu_us_per_request": round(res["cpu_us"]["bare"], 1),
                    },
                )
            )
    return rows


def show(rows: list[Row]) -> None:
    print_table("8. Ouranos GET cfp: node vs bare FastAPI endpoint (same bytes, same uvicorn)", rows)
