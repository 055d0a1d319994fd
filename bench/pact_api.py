"""4. PACT GET /3/footprints/{id} and GET /3/footprints: requests/s and p50/p99 latency.

Three servers, each ``uvicorn`` (one worker, no access log) on 127.0.0.1 in its own process:

* the connector node, seeded with N products, each with a footprint granted to one PACT customer (client_secret_basic
  credentials, bearer token); every footprint is fetched once first so its attestation exists (issued on first read);
* the floor: a bare FastAPI app on the same uvicorn answering the same paths with the very bytes the node returned;
* the PACT reference host (wbcsd/pact-demo-api-ts, Express, Node) with N footprints, when built at ``PACT_DEMO_DIR``
  (default /tmp/pact-demo): see docs/benchmarks.md for how; skipped and said so when absent.

The node and its bare endpoint are up together and loaded in alternating rounds (:data:`ROUNDS`), the reference host
afterwards on its own.

The node runs on SQLite (a file) and on PostgreSQL (``BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres; a database ``bench_pact`` is made) when reachable.
The load generator (bench/load.py) runs in this process: 16 keep-alive connections for a few seconds.
The node runs with its default settings, so with its PACT answer cache (``pact_read_cache_ttl``, default 5 s; set
``BENCH_PACT_CACHE_TTL`` to run it with another value, 0 to measure without the cache): each answer is read from the
database again after that many seconds, and every request still commits its audit entry before it is answered.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from connector.demo.dataspace import free_ports

from .common import Row, print_table
from .load import LoadResult, combine, load

NAME = "pact_api"
COMPANY = "urn:pact:bench-node.example:company:bench-node"
CUSTOMER = "urn:pact:bench-customer.example:company:bench-customer"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PACT_DEMO_DIR = Path(os.environ.get("PACT_DEMO_DIR", "/tmp/pact-demo"))
LIST_LIMIT = 10
ROOT = Path(__file__).resolve().parents[1]


class Skip(Exception):
    pass


def _wait(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise Skip(
                f"server exited with {proc.returncode}: {proc.stderr.read().decode()[-800:] if proc.stderr else ''}"
            )
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise Skip(f"server did not answer {url} within {timeout} s")


@contextmanager
def _serve(cmd: list[str], env: dict[str, str], health: str, cwd: Path = ROOT) -> Any:
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait(health, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _uvicorn(factory: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"bench._servers:{factory}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
        "--workers",
        "1",
    ]


def fresh_pg_database(name: str) -> str | None:
    """The URL of a new, empty PostgreSQL database ``name`` (dropped first if left by an earlier run); None when
    PostgreSQL cannot be reached."""
    try:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except Exception:
        return None
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def _pg_database() -> str | None:
    return fresh_pg_database("bench_pact")


def seed(data_dir: Path, database_url: str | None, n: int) -> tuple[dict[str, Any], str, str]:
    """Node config (Settings fields), client id and secret of the customer."""
    from datetime import UTC, datetime

    from sqlmodel import Session

    from connector.api import schemas as s
    from connector.config import Settings
    from connector.exchange import grants
    from connector.services import catalog, footprints, tokens
    from connector.services.context import NodeContext
    from connector.services.identity import load_identity
    from connector.storage.db import create_schema, make_engine
    from tests.pki import make_pki, write_node_files

    pki = make_pki("Bench", at=datetime.now(UTC) - timedelta(days=1))
    issued = pki.company(COMPANY, "supplier", name="Bench Node", at=datetime.now(UTC) - timedelta(hours=1))
    files = write_node_files(pki, issued, data_dir)
    config: dict[str, Any] = {
        "company_id": COMPANY,
        "company_name": "Bench Node",
        "data_dir": str(data_dir),
        "run_workers": False,
        "cert_file": str(files["cert_file"]),
        "key_file": str(files["key_file"]),
        "trust_anchor_files": [str(files["trust_anchor"])],
        "token_secret": base64.b64encode(os.urandom(32)).decode(),
        "access_token_ttl": 3600,
        "public_url": "http://127.0.0.1:0",
    }
    if database_url:
        config["database_url"] = database_url
    if os.environ.get("BENCH_PACT_CACHE_TTL"):
        config["pact_read_cache_ttl"] = float(os.environ["BENCH_PACT_CACHE_TTL"])
    settings = Settings(**config)
    engine = make_engine(str(settings.database_url))
    create_schema(engine)
    identity = load_identity(settings)
    with Session(engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings, identity)
        for i in range(n):
            product = catalog.create_product(
                ctx,
                s.ProductCreate.model_validate(
                    {
                        "productIds": [f"urn:pact:bench-node.example:product:p{i}"],
                        "name": f"Product {i}",
                        "declaredUnit": "kilogram",
                        "plant": {"name": "Plant", "country": "JP"},
                    }
                ),
            )
            catalog.add_emission(
                ctx,
                product.id,
                s.EmissionCreate.model_validate(
                    {"stage": "raw_material_acquisition", "value": str(Decimal(i) / 100 + 1)}
                ),
            )
            footprints.compute(ctx, product.id)
            grants.grant(ctx, product.id, CUSTOMER)
        client_id, secret = tokens.create_client(session, CUSTOMER)
        session.commit()
    engine.dispose()
    return config, client_id, secret


def _token(base: str, client_id: str, secret: str) -> str:
    r = httpx.post(f"{base}/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret))
    r.raise_for_status()
    return r.json()["access_token"]


def _measure(port: int, ids: list[str], headers: dict[str, str], seconds: float) -> dict[str, LoadResult]:
    one = load("127.0.0.1", port, [f"/3/footprints/{i}" for i in ids], headers, seconds=seconds)
    many = load("127.0.0.1", port, [f"/3/footprints?limit={LIST_LIMIT}"], headers, seconds=seconds)
    return {"get": one, "list": many}


ROUNDS = 3
"""Node and bare endpoint are measured in alternating rounds (node, bare, node, bare ...), both servers up, so that
a change of load on the box during the run weighs on both sides of the ratio alike."""


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _interleaved(
    node: subprocess.Popen,
    node_port: int,
    bare: subprocess.Popen,
    bare_port: int,
    ids: list[str],
    headers: dict[str, str],
    seconds: float,
) -> dict[str, Any]:
    """``seconds`` of load per server and kind, split into :data:`ROUNDS` alternating rounds: the merged results
    (``node``, ``bare``), the ratio of each round (``round_ratios``) and the server's CPU time per request
    (``cpu_us``: a figure that moves less than rates with other load on the box; the database server's excluded)."""
    rounds: dict[str, dict[str, list[LoadResult]]] = {"node": {"get": [], "list": []}, "bare": {"get": [], "list": []}}
    cpu: dict[str, dict[str, float]] = {"node": {"get": 0.0, "list": 0.0}, "bare": {"get": 0.0, "list": 0.0}}
    for _ in range(ROUNDS):
        for side, proc, port in (("node", node, node_port), ("bare", bare, bare_port)):
            for kind, path_of in (
                ("get", lambda i: f"/3/footprints/{i}"),
                ("list", lambda _: f"/3/footprints?limit={LIST_LIMIT}"),
            ):
                before = _cpu_seconds(proc.pid)
                paths = list(dict.fromkeys(path_of(i) for i in ids))
                rounds[side][kind].append(load("127.0.0.1", port, paths, headers, seconds=seconds / ROUNDS))
                cpu[side][kind] += _cpu_seconds(proc.pid) - before
    merged = {side: {k: combine(v) for k, v in kinds.items()} for side, kinds in rounds.items()}
    return {
        **merged,
        "round_ratios": {
            kind: [n.rps / b.rps for n, b in zip(rounds["node"][kind], rounds["bare"][kind], strict=True)]
            for kind in ("get", "list")
        },
        "cpu_us": {
            side: {kind: cpu[side][kind] / merged[side][kind].requests * 1e6 for kind in ("get", "list")}
            for side in ("node", "bare")
        },
    }


def _node_case(backend: str, database_url: str | None, n: int, seconds: float, tmp: Path) -> dict[str, Any]:
    data_dir = tmp / f"node-{backend}"
    data_dir.mkdir()
    config, client_id, secret = seed(data_dir, database_url, n)
    (data_dir / "config.json").write_text(json.dumps(config))
    port, bare_port = free_ports(2)
    base = f"http://127.0.0.1:{port}"
    with _serve(
        _uvicorn("node_app", port), {"BENCH_NODE_CONFIG": str(data_dir / "config.json")}, f"{base}/health"
    ) as node_proc:
        token = _token(base, client_id, secret)
        headers = {"Authorization": f"Bearer {token}"}
        listing = httpx.get(f"{base}/3/footprints", params={"limit": 500}, headers=headers, timeout=60)
        listing.raise_for_status()
        ids = [fp["id"] for fp in listing.json()["data"]]
        for i in ids:  # warm: attestation issued on first read
            httpx.get(f"{base}/3/footprints/{i}", headers=headers, timeout=30).raise_for_status()
        one = httpx.get(f"{base}/3/footprints/{ids[0]}", headers=headers).content
        many = httpx.get(f"{base}/3/footprints", params={"limit": LIST_LIMIT}, headers=headers).content
        bare_dir = data_dir / "bare"
        bare_dir.mkdir()
        (bare_dir / "one.json").write_bytes(one)
        (bare_dir / "list.json").write_bytes(many)
        with _serve(
            _uvicorn("bare_app", bare_port), {"BENCH_BARE_DIR": str(bare_dir)}, f"http://127.0.0.1:{bare_port}/health"
        ) as bare_proc:
            measured = _interleaved(node_proc, port, bare_proc, bare_port, ids, headers, seconds)
    return {**measured, "ids": ids, "one_bytes": len(one), "list_bytes": len(many)}


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
        with _serve(
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
    n = n or (20 if quick else 100)
    seconds = seconds or (1.5 if quick else 4.0)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-pact-") as tmp:
        results: dict[str, Any] = {}
        for backend in backends:
            url = None
            if backend == "postgresql":
                url = _pg_database()
                if url is None:
                    rows.append(Row(NAME, "postgresql", 0, "req/s", floor_label=f"skipped: {PG_URL} not reachable"))
                    continue
            results[backend] = _node_case(backend, url, n, seconds, Path(tmp))
        ref = _reference(n, seconds) if reference else "skipped (not asked)"
    for backend, res in results.items():
        for kind, label in (("get", "GET /3/footprints/{id}"), ("list", f"GET /3/footprints?limit={LIST_LIMIT}")):
            node, bare = res["node"][kind], res["bare"][kind]
            ratio = node.rps / bare.rps
            extra = {
                "p50_ms": node.p50_ms,
                "p99_ms": node.p99_ms,
                "bare_p50_ms": bare.p50_ms,
                "bare_p99_ms": bare.p99_ms,
                "errors": node.errors + bare.errors,
                "body_bytes": node.body_bytes,
                "footprints": n,
                "cache_ttl": os.environ.get("BENCH_PACT_CACHE_TTL", "default"),
                "round_ratios": [round(r, 3) for r in res["round_ratios"][kind]],
                "cpu_us_per_request": round(res["cpu_us"]["node"][kind], 1),
                "bare_cpu_us_per_request": round(res["cpu_us"]["bare"][kind], 1),
            }
            met = ratio >= 0.7
            if isinstance(ref, dict):
                extra.update(
                    reference_rps=ref[kind].rps,
                    reference_p50_ms=ref[kind].p50_ms,
                    reference_p99_ms=ref[kind].p99_ms,
                    reference_bytes=ref[kind].body_bytes,
                )
                met = met and node.rps > ref[kind].rps
            else:
                extra["reference"] = ref
            rows.append(
                Row(
                    NAME,
                    f"{label} ({backend})",
                    node.rps,
                    "req/s",
                    bare.rps,
                    "bare FastAPI, same bytes",
                    ratio,
                    target=">= 0.70 of bare and > reference host",
                    met=met,
                    extra=extra,
                )
            )
    if isinstance(ref, str):
        rows.append(Row(NAME, "PACT reference host", 0, "req/s", floor_label=ref))
    return rows


def show(rows: list[Row]) -> None:
    print_table("4. PACT GET: node vs bare FastAPI endpoint (same bytes, same uvicorn) vs PACT reference host", rows)
    for r in rows:
        e = r.extra
        if "p50_ms" in e:
            ref = (
                (
                    f"; reference host {e['reference_rps']:,.0f} req/s p50 {e['reference_p50_ms']:.1f} ms p99 "
                    f"{e['reference_p99_ms']:.1f} ms ({e['reference_bytes']:,} B)"
                )
                if "reference_rps" in e
                else ""
            )
            print(
                f"  {r.case}: p50 {e['p50_ms']:.1f} ms p99 {e['p99_ms']:.1f} ms ({e['body_bytes']:,} B); bare p50 "
                f"{e['bare_p50_ms']:.1f} ms p99 {e['bare_p99_ms']:.1f} ms{ref}; errors {e['errors']}; ratio per "
                f"round {', '.join(f'{x:.2f}' for x in e['round_ratios'])}; server CPU per request "
                f"{e['cpu_us_per_request']:.0f} us (bare {e['bare_cpu_us_per_request']:.0f} us)"
            )
