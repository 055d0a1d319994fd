"""Engine creation for SQLite (default) and PostgreSQL (psycopg 3), and the schema set-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

from ..errors import TextWithNul

# every table on SQLModel.metadata; write_generation's engine events (every committed write counted, decision 0026)
from . import accounts, console_reports, ouranos_links, part_links, tables, write_generation  # noqa: F401
from .prepared import keep_prepared
from .private import DIR_MODE, create_private


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


READ_ONLY = "connector_read_only"


def _holds_nul(parameters: Any) -> bool:
    if isinstance(parameters, str):
        return "\x00" in parameters
    if isinstance(parameters, dict):
        return any(_holds_nul(v) for v in parameters.values())
    if isinstance(parameters, (list, tuple)):
        return any(_holds_nul(v) for v in parameters)
    return False


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_nul(_conn: Any, _cursor: Any, _statement: str, parameters: Any, _context: Any, _many: bool) -> None:
    """Every engine (and so every surface: operator API, protocols, console, CLI): a text parameter holding U+0000
    is a client's error (``TextWithNul``), on SQLite as on PostgreSQL, where psycopg would refuse it with a
    DataError that became a 500."""
    if _holds_nul(parameters):
        raise TextWithNul()


def read_only(engine: Engine) -> Engine:
    """The same engine (and pool) for transactions that only read: on SQLite they begin DEFERRED instead of
    IMMEDIATE, so they neither take nor wait for the write lock. Never write through it (a deferred transaction
    that upgrades can fail with SQLITE_BUSY); PostgreSQL transactions are unchanged."""
    return engine.execution_options(**{READ_ONLY: True})


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        memory = url in ("sqlite://", "sqlite:///:memory:")
        if not memory:
            path = Path(url.split("sqlite:///", 1)[1])
            path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            create_private(path)  # 0600 before SQLite makes it 0644; its -wal and -shm copy that mode
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            poolclass=StaticPool if memory else None,
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            # let SQLAlchemy emit BEGIN itself: pysqlite's own transaction handling breaks SAVEPOINTs
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if not memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn) -> None:  # pragma: no cover - trivial
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")  # a reader: WAL readers never wait for the writer
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # take the write lock up front: no upgrade deadlocks

        return engine
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    keep_prepared(engine)
    return engine


def create_schema(engine: Engine) -> None:
    """Bring the database to the current schema (Alembic migrations; see storage/migrations)."""
    from .migrate import upgrade

    upgrade(engine)
