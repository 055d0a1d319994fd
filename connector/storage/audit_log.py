"""The audit log's statements (``AuditEntry``): read the chain, lock it, read its last hash, append rows.

The chaining itself (what a row holds, how its hash is computed) is :mod:`connector.services.audit`'s; this module
only moves rows, each statement exactly as the audit log issues it (the append path is benchmarked).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from .tables import AuditEntry

PG_LOCK = 7243001  # pg_advisory_xact_lock key serialising every append on PostgreSQL

COLUMNS = ("at", "actor", "action", "subject", "details", "prev_hash", "hash")
"""The columns of a row to append, in the order of the tuples the chain builds."""
_ROWS_PER_INSERT = 100  # 700 parameters: under SQLite's oldest limit of 999

Rows = list[tuple[Any, ...]]


def entries(session: Session) -> Iterator[AuditEntry]:
    """Every entry, in chain order."""
    yield from session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))


def lock_and_read_last_hash(conn: Connection) -> str | None:
    """Take the append lock (PostgreSQL's advisory lock; SQLite's writer already holds the database's write lock)
    in the connection's transaction, then read the hash of the last entry (None: the log is empty)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({PG_LOCK})"))
    return conn.execute(select(AuditEntry.hash).order_by(col(AuditEntry.seq).desc()).limit(1)).scalar()


def insert_rows(conn: Connection, rows: Rows) -> None:
    """One INSERT per row (executemany without RETURNING runs them one after the other, so seq follows the order
    of ``rows``)."""
    conn.execute(insert(AuditEntry.__table__), [dict(zip(COLUMNS, row, strict=True)) for row in rows])  # type: ignore[attr-defined]


def _multirow(dialect: Any, rows: Rows) -> list[tuple[str, tuple[Any, ...]]]:
    """(SQL, parameters) of one multi-row INSERT ... RETURNING seq, hash per 100 rows, the values bound as
    SQLAlchemy would bind them."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    procs = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS]
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    one = "(" + ",".join([mark] * len(COLUMNS)) + ")"
    out = []
    for start in range(0, len(rows), _ROWS_PER_INSERT):
        chunk = rows[start : start + _ROWS_PER_INSERT]
        params = tuple(proc(value) if proc else value for row in chunk for proc, value in zip(procs, row, strict=True))
        # only our table's and columns' names and placeholders go into the text; every value is a parameter
        sql = (
            f"INSERT INTO {table.name} ({','.join(COLUMNS)}) VALUES {','.join([one] * len(chunk))} "  # noqa: S608
            "RETURNING seq, hash"
        )
        out.append((sql, params))
    return out


def insert_rows_numbered(conn: Connection, rows: Rows) -> dict[str, int]:
    """Multi-row INSERTs of ``rows`` (100 a statement); the seq each row got, by its hash."""
    seqs: dict[str, int] = {}
    for sql, params in _multirow(conn.dialect, rows):
        seqs.update((h, s) for s, h in conn.exec_driver_sql(sql, params))
    return seqs


_PG_INSERT = (
    f"INSERT INTO {AuditEntry.__table__.name} ({','.join(COLUMNS)}) "  # type: ignore[attr-defined]  # noqa: S608
    f"SELECT {','.join(c + '::json' if c == 'details' else c for c in COLUMNS)} FROM unnest("
    "%s::timestamptz[],%s::text[],%s::text[],%s::text[],%s::text[],%s::text[],%s::text[]) "
    f"WITH ORDINALITY AS t({','.join(COLUMNS)},n) ORDER BY n RETURNING seq, hash"
)
"""One text for any batch size (one array per column, the rows inserted in the batch's order; the order is checked
all the same): psycopg converts it once and the server prepares it once per connection."""


def _pg_columns(dialect: Any, rows: Rows) -> tuple[list[Any], ...]:
    """The batch's values column by column, each bound as SQLAlchemy would bind it (``details`` as its JSON text)."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    procs = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS]
    return tuple([proc(row[i]) for row in rows] if proc else [row[i] for row in rows] for i, proc in enumerate(procs))


def append_in_own_transaction_pg(
    conn: Connection, chain: Callable[[str | None], Rows], check: Callable[[Rows, dict[str, int]], None]
) -> None:
    """Append on PostgreSQL in three round trips instead of five: ``BEGIN``, the advisory lock and the last hash in
    one simple-protocol query (each statement its own snapshot: the hash is read after the lock is held), the
    INSERT, ``COMMIT``. Directly on the psycopg connection, put back in its non-autocommit mode after.

    ``chain(last_hash)`` builds the rows once the last hash is known; ``check(rows, seqs)`` may raise to refuse how
    they were numbered: the transaction is rolled back and the exception propagates.
    """
    raw = conn.connection.driver_connection
    table = AuditEntry.__table__.name  # type: ignore[attr-defined]
    from psycopg import ClientCursor  # simple query protocol: several statements in one query

    raw.autocommit = True  # type: ignore[union-attr]
    with ClientCursor(raw) as first:  # type: ignore[arg-type]
        first.execute(
            f"BEGIN; SELECT pg_advisory_xact_lock({PG_LOCK}); "  # noqa: S608 - constants only
            f"SELECT hash FROM {table} ORDER BY seq DESC LIMIT 1"
        )
        last: list[Any] = []
        while True:
            if first.description is not None:
                last = first.fetchall()
            if not first.nextset():
                break
    with raw.cursor() as cur:  # type: ignore[union-attr]
        rows = chain(last[0][0] if last else None)
        cur.execute(_PG_INSERT, _pg_columns(conn.dialect, rows), prepare=True)
        seqs = {h: s for s, h in cur.fetchall()}
        try:
            check(rows, seqs)
        except Exception:
            cur.execute("ROLLBACK")
            raw.autocommit = False  # type: ignore[union-attr]
            raise
        cur.execute("COMMIT")
    raw.autocommit = False  # type: ignore[union-attr]
