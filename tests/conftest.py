"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

``CONNECTOR_TEST_DB`` picks the back ends: ``sqlite``, ``postgresql`` or ``all`` (default). PostgreSQL is found at
``CONNECTOR_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``); each test gets its own
schema, dropped afterwards. When PostgreSQL cannot be reached its tests are skipped, unless
``CONNECTOR_TEST_REQUIRE_POSTGRES=1`` (as in CI), which turns that into an error.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from connector.demo.chains import DEFAULT_CHAIN
from connector.storage.db import create_schema, make_engine, normalize_url
from connector.storage.prepared import keep_prepared

PG_URL = os.environ.get("CONNECTOR_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("CONNECTOR_TEST_REQUIRE_POSTGRES") == "1"
WANTED = os.environ.get("CONNECTOR_TEST_DB", "all")
BACKENDS = ["sqlite", "postgresql"] if WANTED == "all" else [WANTED]

FIXTURE_FILE = DEFAULT_CHAIN


def _pg_available() -> bool:
    try:
        engine = make_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


_PG_OK: bool | None = None


def _require_backend(name: str) -> None:
    global _PG_OK
    if name != "postgresql":
        return
    if _PG_OK is None:
        _PG_OK = _pg_available()
    if not _PG_OK:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say plainly, at the end of the run, when the PostgreSQL half did not run."""
    if "postgresql" not in BACKENDS:
        terminalreporter.write_line(f"PostgreSQL half not run: CONNECTOR_TEST_DB={WANTED}", yellow=True, bold=True)
    elif _PG_OK is False:
        terminalreporter.write_line(
            f"PostgreSQL half SKIPPED: not reachable at {PG_URL} (start it, or set "
            "CONNECTOR_TEST_POSTGRES_URL; CI requires it)",
            yellow=True,
            bold=True,
        )


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    _require_backend(request.param)
    return request.param


@pytest.fixture
def make_db(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[], Engine]]:
    """A factory of fresh, migrated databases on the chosen back end (one per node in multi-node tests).

    SQLite databases are files (as in production), so concurrent sessions get their own connections.
    """
    made: list[tuple[Engine, str | None]] = []

    def factory() -> Engine:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db") / "node.sqlite"
            engine = make_engine(f"sqlite:///{path}")
            schema = None
        else:
            schema = "t_" + uuid.uuid4().hex[:16]
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            admin.dispose()
            from sqlmodel import create_engine

            engine = create_engine(
                normalize_url(PG_URL), connect_args={"options": f"-csearch_path={schema}"}, pool_size=5, max_overflow=10
            )
            keep_prepared(engine)  # as make_engine does
        create_schema(engine)
        made.append((engine, schema))
        return engine

    yield factory
    for engine, schema in made:
        engine.dispose()
        if schema:
            admin = make_engine(PG_URL)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture
def engine(make_db: Callable[[], Engine]) -> Engine:
    return make_db()


@pytest.fixture(scope="session")
def chain() -> dict:
    """The 8-company NMC811 fixture with its expected values."""
    return json.loads(FIXTURE_FILE.read_text())
