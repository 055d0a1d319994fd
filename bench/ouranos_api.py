"""8. Ouranos GET /api/v1/datatransport?dataTarget=cfp&traceIds={id}: requests/s and p50/p99 latency, against a bare
FastAPI endpoint on the same uvicorn answering the same path with the very bytes the node returned (bench/api_case.py,
as bench 4 does for PACT), in alternating rounds with both servers up.

The node is seeded with N products, each with own emissions and a computed footprint, one operator account logged in
(bearer token) and one API key (``apiKey`` header); every request carries both, as DTS requires. SQLite (a file) and
PostgreSQL (``BENCH_POSTGRES_URL``; a database ``bench_ouranos`` is made) when reachable. The node runs with its
answer cache (decision 0021; ``pact_read_cache_ttl``, default 5 s): set ``BENCH_PACT_CACHE_TTL=0`` to measure every
request read from the database.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from . import api_case
from .api_case import Kind
from .common import Row

NAME = "ouranos_api"
COMPANY = api_case.COMPANY
PASSWORD = "bench-password-123"


def seed(data_dir: Path, database_url: str | None, n: int) -> tuple[dict[str, Any], str, list[str]]:
    """Node config (Settings fields), the API key, and the products' traceIds."""
    from connector.services import accounts, api_keys

    config = api_case.node_config(data_dir, database_url, corporate_number="1234567890123", company_address="1-1 Bench")
    with api_case.node_session(config) as ctx:
        ids = api_case.add_products(
            ctx,
            n,
            lambda i: [("raw_material_acquisition", Decimal(i) / 100 + 1), ("main_production", Decimal(2))],
            dqr={"technological": "2", "geographical": "1.5", "temporal": "3"},
        )
        _, key = api_keys.create_key(ctx.session, "bench app", "viewer")
        accounts.create_user(ctx, "bench@example.com", PASSWORD, "viewer")
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


def _prepare(data_dir: Path, database_url: str | None, n: int) -> tuple[dict[str, Any], api_case.Client]:
    config, key, ids = seed(data_dir, database_url, n)
    kind = Kind("get", "GET datatransport?dataTarget=cfp", [_path(i) for i in ids], ("one.json", "list.json"))
    return config, lambda base: ({"apiKey": key, "Authorization": f"Bearer {_login(base, key)}"}, [kind])


def run(
    quick: bool = False,
    n: int | None = None,
    seconds: float | None = None,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
) -> list[Row]:
    n, seconds = api_case.sizes(quick, n, seconds)
    measured = api_case.measure(NAME, "bench_ouranos", _prepare, n, seconds, backends)
    return api_case.rows(NAME, measured, {"parts": n, "cache_ttl": api_case.cache_ttl()})


def show(rows: list[Row]) -> None:
    api_case.show("8. Ouranos GET cfp: node vs bare FastAPI endpoint (same bytes, same uvicorn)", rows)
