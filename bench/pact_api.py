"""4. PACT GET /3/footprints/{id} and GET /3/footprints: requests/s and p50/p99 latency.

The connector node against a bare FastAPI endpoint serving the same bytes (bench/api_case.py: both on uvicorn, one
worker, loaded in alternating rounds, SQLite and PostgreSQL, a database ``bench_pact``), then the PACT reference host
on its own:

* the node is seeded with N products, each with a footprint granted to one PACT customer (client_secret_basic
  credentials, bearer token); every footprint is fetched once first so its attestation exists (issued on first read);
* the PACT reference host (wbcsd/pact-demo-api-ts, Express, Node) with N footprints, when built at ``PACT_DEMO_DIR``
  (default /tmp/pact-demo): see docs/benchmarks.md for how; skipped and said so when absent.

The load generator (bench/load.py) runs in this process: 16 keep-alive connections for a few seconds.
The node runs with its default settings, so with its PACT answer cache (``pact_read_cache_ttl``, default 5 s; set
``BENCH_PACT_CACHE_TTL`` to run it with another value, 0 to measure without the cache): each answer is read from the
database again after that many seconds, and every request still commits its audit entry before it is answered.
"""

from __future__ import annotations

import base64
import os
import shutil
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connector.demo.dataspace import free_ports

from . import api_case
from .api_case import ROOT, Kind, Skip, serve
from .common import Row
from .load import LoadResult, load

NAME = "pact_api"
COMPANY = api_case.COMPANY
CUSTOMER = "urn:pact:bench-customer.example:company:bench-customer"
PACT_DEMO_DIR = Path(os.environ.get("PACT_DEMO_DIR", "/tmp/pact-demo"))
LIST_LIMIT = 10
TARGET = ">= 0.70 of bare and > reference host"


def seed(data_dir: Path, database_url: str | None, n: int) -> tuple[dict[str, Any], str, str]:
    """Node config (Settings fields), client id and secret of the customer."""
    from datetime import UTC, datetime

    from connector.exchange import grants
    from connector.services import tokens
    from tests.pki import make_pki, write_node_files

    pki = make_pki("Bench", at=datetime.now(UTC) - timedelta(days=1))
    issued = pki.company(COMPANY, "supplier", name="Bench Node", at=datetime.now(UTC) - timedelta(hours=1))
    files = write_node_files(pki, issued, data_dir)
    config = api_case.node_config(
        data_dir,
        database_url,
        cert_file=str(files["cert_file"]),
        key_file=str(files["key_file"]),
        trust_anchor_files=[str(files["trust_anchor"])],
        token_secret=base64.b64encode(os.urandom(32)).decode(),
        access_token_ttl=3600,
    )
    with api_case.node_session(config) as ctx:
        for product_id in api_case.add_products(ctx, n, lambda i: [("raw_material_acquisition", Decimal(i) / 100 + 1)]):
            grants.grant(ctx, product_id, CUSTOMER)
        client_id, secret = tokens.create_client(ctx.session, CUSTOMER)
    return config, client_id, secret


def _token(base: str, client_id: str, secret: str) -> str:
    r = httpx.post(f"{base}/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    r.raise_for_status()
    return r.json()["access_token"]


def _prepare(data_dir: Path, database_url: str | None, n: int) -> tuple[dict[str, Any], api_case.Client]:
    config, client_id, secret = seed(data_dir, database_url, n)

    def client(base: str) -> tuple[dict[str, str], list[Kind]]:
        headers = {"Authorization": f"Bearer {_token(base, client_id, secret)}"}
        listing = httpx.get(f"{base}/3/footprints", params={"limit": 500}, headers=headers, timeout=60)
        listing.raise_for_status()
        return headers, _kinds([fp["id"] for fp in listing.json()["data"]])

    return config, client


def _kinds(ids: list[str]) -> list[Kind]:
    """GET by id over ``ids`` in turn, and the first page of the list."""
    return [
        Kind("get", "GET /3/footprints/{id}", [f"/3/footprints/{i}" for i in ids], ("one.json",)),
        Kind("list", f"GET /3/footprints?limit={LIST_LIMIT}", [f"/3/footprints?limit={LIST_LIMIT}"], ("list.json",)),
    ]


def _measure(port: int, ids: list[str], headers: dict[str, str], seconds: float) -> dict[str, LoadResult]:
    return {kind.key: load("127.0.0.1", port, kind.paths, headers, seconds=seconds) for kind in _kinds(ids)}


def _reference(n: int, seconds: float) -> dict[str, LoadResult] | str:
    if not (PACT_DEMO_DIR / "dist" / "app.js").exists():
        return f"skipped: the PACT reference host is not built at {PACT_DEMO_DIR} (see docs/benchmarks.md)"
    node = shutil.which("node")
    if node is None:
        return "skipped: node is not installed"
    port = free_ports(1)[0]
    base = f"http://127.0.0.1:{port}"
    env = {"PORT": str(port), "NODE_ENV": "production", "JWT_VERIFY_SECRET": "bench-secret", "BENCH_FOOTPRINTS": str(n)}
    try:
        with serve(
            [node, str(ROOT / "bench" / "pact_reference_seed.js"), str(PACT_DEMO_DIR)],
            env,
            f"{base}/health-check",
            cwd=PACT_DEMO_DIR,
        ):
            r = httpx.post(
                f"{base}/auth/token",
                data={"grant_type": "client_credentials"},
                auth=("test_client_id", "test_client_secret"),
            )
            r.raise_for_status()
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            ids = [fp["id"] for fp in httpx.get(f"{base}/3/footprints", headers=headers).json()["data"]]
            return _measure(port, ids, headers, seconds)
    except Skip as exc:
        return f"skipped: {exc}"


def run(
    quick: bool = False,
    n: int | None = None,
    seconds: float | None = None,
    backends: tuple[str, ...] = ("sqlite", "postgresql"),
    reference: bool = True,
) -> list[Row]:
    n, seconds = api_case.sizes(quick, n, seconds)
    measured = api_case.measure(NAME, "bench_pact", _prepare, n, seconds, backends)
    ref = _reference(n, seconds) if reference else "skipped (not asked)"
    rows: list[Row] = []
    for m in measured:
        if isinstance(m, Row):
            rows.append(m)
            continue
        extra: dict[str, Any] = {"footprints": n, "cache_ttl": api_case.cache_ttl()}
        beats = True
        if isinstance(ref, dict):
            host = ref[m.kind.key]
            extra.update(
                reference_rps=host.rps,
                reference_p50_ms=host.p50_ms,
                reference_p99_ms=host.p99_ms,
                reference_bytes=host.body_bytes,
            )
            beats = m.node.rps > host.rps
        else:
            extra["reference"] = ref
        rows.append(m.row(NAME, extra, TARGET, beats))
    if isinstance(ref, str):
        rows.append(Row(NAME, "PACT reference host", 0, "req/s", floor_label=ref))
    return rows


def _reference_text(e: dict[str, Any]) -> str:
    if "reference_rps" not in e:
        return ""
    return (
        f"; reference host {e['reference_rps']:,.0f} req/s p50 {e['reference_p50_ms']:.1f} ms p99 "
        f"{e['reference_p99_ms']:.1f} ms ({e['reference_bytes']:,} B)"
    )


def show(rows: list[Row]) -> None:
    api_case.show(
        "4. PACT GET: node vs bare FastAPI endpoint (same bytes, same uvicorn) vs PACT reference host",
        rows,
        _reference_text,
    )
