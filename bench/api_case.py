"""The node-vs-bare case that the API benchmarks share (bench/pact_api.py, catenax_api.py, ouranos_api.py).

For each back end (SQLite, a file; PostgreSQL at ``BENCH_POSTGRES_URL``, default
postgresql://postgres@127.0.0.1:5432/postgres, in a fresh database, when reachable) a benchmark's ``prepare`` seeds a
node and says how a client reaches it; then two servers, each ``uvicorn`` (one worker, no access log) on 127.0.0.1 in
its own process, are up together:

* the connector node (``bench._servers:node_app``); every path to be loaded is fetched once first, so what is issued
  on a first read (the attestation) exists and the answer cache is filled;
* the floor: a bare FastAPI app on the same uvicorn (``bench._servers:bare_app``) answering the same paths with the
  very bytes the node returned.

Each kind of request is loaded on both in :data:`ROUNDS` alternating rounds (bench/load.py, in this process), and
the server's CPU time per request is read from /proc. A row per back end and kind: the node's rate against the
bare one's (target: >= 0.70 of bare, no errors), latencies, the ratio of each round, CPU per request.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from connector.demo.dataspace import free_ports

from .common import Row, print_table
from .load import LoadResult, combine, load

if TYPE_CHECKING:
    from connector.services.context import NodeContext

COMPANY = "urn:pact:bench-node.example:company:bench-node"
PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ROOT = Path(__file__).resolve().parents[1]
FLOOR = "bare FastAPI, same bytes"
TARGET = ">= 0.70 of bare"

ROUNDS = 3
"""Node and bare endpoint are measured in alternating rounds (node, bare, node, bare ...), both servers up, so that
a change of load on the box during the run weighs on both sides of the ratio alike."""


class Skip(Exception):
    """A server could not be started here."""


def sizes(quick: bool, n: int | None, seconds: float | None) -> tuple[int, float]:
    """Products seeded and seconds of load per server and kind, unless given: 20 and 1.5 s quick, else 100 and 4 s."""
    return n or (20 if quick else 100), seconds or (1.5 if quick else 4.0)


def cache_ttl() -> str:
    """The node's answer cache TTL as the rows record it: ``BENCH_PACT_CACHE_TTL`` or "default"."""
    return os.environ.get("BENCH_PACT_CACHE_TTL", "default")


def node_config(data_dir: Path, database_url: str | None, **fields: Any) -> dict[str, Any]:
    """Settings fields of a bench node, ``fields`` added. Runs with its answer caches (``pact_read_cache_ttl``,
    default 5 s) unless ``BENCH_PACT_CACHE_TTL`` sets another value (0 disables them)."""
    config: dict[str, Any] = {
        "company_id": COMPANY,
        "company_name": "Bench Node",
        "data_dir": str(data_dir),
        "run_workers": False,
        "public_url": "http://127.0.0.1:0",
        **fields,
    }
    if database_url:
        config["database_url"] = database_url
    if os.environ.get("BENCH_PACT_CACHE_TTL"):
        config["pact_read_cache_ttl"] = float(os.environ["BENCH_PACT_CACHE_TTL"])
    return config


@contextmanager
def node_session(config: dict[str, Any]) -> Iterator[NodeContext]:
    """A context on the node's database (schema brought up to date), with its identity when the config names a key;
    committed when the block ends without an exception."""
    from sqlmodel import Session

    from connector.config import Settings
    from connector.services.context import NodeContext
    from connector.services.identity import load_identity
    from connector.storage.db import create_schema, make_engine

    settings = Settings(**config)
    engine = make_engine(str(settings.database_url))
    try:
        create_schema(engine)
        identity = load_identity(settings) if settings.key_file else None
        with Session(engine, expire_on_commit=False) as session:
            yield NodeContext(session, settings, identity)
            session.commit()
    finally:
        engine.dispose()


def add_products(
    ctx: NodeContext, n: int, stages: Callable[[int], list[tuple[str, Decimal]]], **fields: Any
) -> list[str]:
    """``n`` products (``urn:pact:bench-node.example:product:p{i}``, ``fields`` added), each with the emissions
    ``stages(i)`` and a computed footprint; their ids."""
    from connector.services import catalog, footprints
    from connector.services import models as m

    ids = []
    for i in range(n):
        product = catalog.create_product(
            ctx,
            m.ProductCreate.model_validate(
                {
                    "productIds": [f"urn:pact:bench-node.example:product:p{i}"],
                    "name": f"Product {i}",
                    "declaredUnit": "kilogram",
                    "plant": {"name": "Plant", "country": "JP"},
                    **fields,
                }
            ),
        )
        for stage, value in stages(i):
            catalog.add_emission(
                ctx, product.id, m.EmissionCreate.model_validate({"stage": stage, "value": str(value)})
            )
        footprints.compute(ctx, product.id)
        ids.append(product.id)
    return ids


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
def serve(cmd: list[str], env: dict[str, str], health: str, cwd: Path = ROOT) -> Iterator[subprocess.Popen]:
    """Run ``cmd`` until the block ends, once ``health`` answers (:class:`Skip` when it never does)."""
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


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Kind:
    """One kind of request loaded: ``paths`` in turn; the bare app answers it from ``bare_files`` (bench/_servers.py),
    written with the node's answer to the first path."""

    key: str
    label: str
    paths: list[str]
    bare_files: tuple[str, ...]


Client = Callable[[str], tuple[dict[str, str], list[Kind]]]
"""Given the node's base URL once it is up: the headers of every request, and the kinds of request to load."""

Prepare = Callable[[Path, str | None, int], tuple[dict[str, Any], Client]]
"""Seed a node in a data folder, on a database URL (None: SQLite in the folder), with ``n`` products: its config
(Settings fields) and its :data:`Client`."""


@dataclass
class Measured:
    """One back end and kind: node and bare results (rounds merged), each round's ratio, CPU us per request."""

    backend: str
    kind: Kind
    node: LoadResult
    bare: LoadResult
    round_ratios: list[float]
    cpu_us: dict[str, float]

    def row(self, benchmark: str, extra: dict[str, Any], target: str = TARGET, met: bool = True) -> Row:
        """The row: met when the ratio is >= 0.70, no request failed, and ``met``."""
        ratio = self.node.rps / self.bare.rps
        errors = self.node.errors + self.bare.errors
        return Row(
            benchmark,
            f"{self.kind.label} ({self.backend})",
            self.node.rps,
            "req/s",
            self.bare.rps,
            FLOOR,
            ratio,
            target=target,
            met=met and ratio >= 0.7 and errors == 0,
            extra={
                "p50_ms": self.node.p50_ms,
                "p99_ms": self.node.p99_ms,
                "bare_p50_ms": self.bare.p50_ms,
                "bare_p99_ms": self.bare.p99_ms,
                "errors": errors,
                "body_bytes": self.node.body_bytes,
                "round_ratios": [round(r, 3) for r in self.round_ratios],
                "cpu_us_per_request": round(self.cpu_us["node"], 1),
                "bare_cpu_us_per_request": round(self.cpu_us["bare"], 1),
                **extra,
            },
        )


def _interleaved(
    servers: dict[str, tuple[subprocess.Popen, int]], kinds: list[Kind], headers: dict[str, str], seconds: float
) -> list[tuple[LoadResult, LoadResult, list[float], dict[str, float]]]:
    """``seconds`` of load per server and kind, split into :data:`ROUNDS` alternating rounds; per kind: the merged
    node and bare results, the ratio of each round and the server's CPU time per request (a figure that moves less
    than rates with other load on the box; the database server's excluded)."""
    rounds: dict[str, list[list[LoadResult]]] = {side: [[] for _ in kinds] for side in servers}
    cpu = {side: [0.0 for _ in kinds] for side in servers}
    for _ in range(ROUNDS):
        for side, (proc, port) in servers.items():
            for k, kind in enumerate(kinds):
                before = _cpu_seconds(proc.pid)
                rounds[side][k].append(load("127.0.0.1", port, kind.paths, headers, seconds=seconds / ROUNDS))
                cpu[side][k] += _cpu_seconds(proc.pid) - before
    out = []
    for k in range(len(kinds)):
        node, bare = combine(rounds["node"][k]), combine(rounds["bare"][k])
        ratios = [a.rps / b.rps for a, b in zip(rounds["node"][k], rounds["bare"][k], strict=True)]
        cpu_us = {"node": cpu["node"][k] / node.requests * 1e6, "bare": cpu["bare"][k] / bare.requests * 1e6}
        out.append((node, bare, ratios, cpu_us))
    return out


def _case(
    backend: str, database_url: str | None, prepare: Prepare, n: int, seconds: float, tmp: Path
) -> list[Measured]:
    data_dir = tmp / f"node-{backend}"
    data_dir.mkdir()
    config, client = prepare(data_dir, database_url, n)
    (data_dir / "config.json").write_text(json.dumps(config))
    port, bare_port = free_ports(2)
    base = f"http://127.0.0.1:{port}"
    node_env = {"BENCH_NODE_CONFIG": str(data_dir / "config.json")}
    with serve(_uvicorn("node_app", port), node_env, f"{base}/health") as node:
        headers, kinds = client(base)
        for kind in kinds:  # warm: attestations issued on the first read
            for path in dict.fromkeys(kind.paths):
                httpx.get(f"{base}{path}", headers=headers, timeout=30).raise_for_status()
        bare_dir = data_dir / "bare"
        bare_dir.mkdir()
        for kind in kinds:
            answer = httpx.get(f"{base}{kind.paths[0]}", headers=headers, timeout=30)
            answer.raise_for_status()
            for name in kind.bare_files:
                (bare_dir / name).write_bytes(answer.content)
        bare_env = {"BENCH_BARE_DIR": str(bare_dir)}
        with serve(_uvicorn("bare_app", bare_port), bare_env, f"http://127.0.0.1:{bare_port}/health") as bare:
            for kind in kinds:  # and the answer caches filled (a write empties them: the first reads kept nothing),
                for path in dict.fromkeys(kind.paths):  # once the bare app is up, right before the rounds
                    httpx.get(f"{base}{path}", headers=headers, timeout=30).raise_for_status()
            results = _interleaved({"node": (node, port), "bare": (bare, bare_port)}, kinds, headers, seconds)
    return [Measured(backend, kind, *result) for kind, result in zip(kinds, results, strict=True)]


def measure(
    benchmark: str, database: str, prepare: Prepare, n: int, seconds: float, backends: tuple[str, ...]
) -> list[Measured | Row]:
    """Each back end in turn, each of its kinds; PostgreSQL in a fresh database ``database``, or a row saying it was
    skipped when it cannot be reached."""
    out: list[Measured | Row] = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{benchmark}-") as tmp:
        for backend in backends:
            url = None
            if backend == "postgresql":
                url = fresh_pg_database(database)
                if url is None:
                    out.append(Row(benchmark, "postgresql", 0, "req/s", floor_label=f"skipped: {PG_URL} not reachable"))
                    continue
            out.extend(_case(backend, url, prepare, n, seconds, Path(tmp)))
    return out


def rows(benchmark: str, measured: list[Measured | Row], extra: dict[str, Any]) -> list[Row]:
    """The rows of :func:`measure`'s results, against the default target, ``extra`` added to each."""
    return [m if isinstance(m, Row) else m.row(benchmark, extra) for m in measured]


def show(title: str, rows: list[Row], more: Callable[[dict[str, Any]], str] = lambda e: "") -> None:
    """The table, then a line per measured row: latencies, errors, ratio per round, CPU per request (``more`` adds
    to the bare figures)."""
    print_table(title, rows)
    for r in rows:
        e = r.extra
        if "p50_ms" not in e:
            continue
        print(
            f"  {r.case}: p50 {e['p50_ms']:.1f} ms p99 {e['p99_ms']:.1f} ms ({e['body_bytes']:,} B); bare p50 "
            f"{e['bare_p50_ms']:.1f} ms p99 {e['bare_p99_ms']:.1f} ms{more(e)}; errors {e['errors']}; ratio per "
            f"round {', '.join(f'{x:.2f}' for x in e['round_ratios'])}; server CPU per request "
            f"{e['cpu_us_per_request']:.0f} us (bare {e['bare_cpu_us_per_request']:.0f} us)"
        )
