"""The audit log's statements (``AuditEntry``): read the chain, lock it, read its tail, append numbered rows.

The chaining itself (what a row holds, how its hash is computed) is :mod:`connector.services.audit`'s; this module
only moves rows, each statement exactly as the audit log issues it (the append path is benchmarked).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import insert, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from .tables import AuditEntry

PG_LOCK = 7243001  # pg_advisory_xact_lock key serialising every append on PostgreSQL

COLUMNS = ("seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash")
"""The columns of a row to append, in the order of the tuples the chain builds. ``seq`` is given, never drawn from
the database: each append numbers its rows after the last entry, which it reads under the append lock, so the chain's
order is the rows' order by construction and two appenders that disagree on the tail collide on the primary key."""

Rows = list[tuple[Any, ...]]
Tail = tuple[int, str]
"""(seq, hash) of the last entry."""


def entries(session: Session) -> Iterator[AuditEntry]:
    """Every entry, in chain order."""
    yield from session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))


def lock_and_read_tail(conn: Connection) -> Tail | None:
    """Take the append lock (PostgreSQL's advisory lock; SQLite's writer already holds the database's write lock)
    in the connection's transaction, then read the last entry's (seq, hash) (None: the log is empty)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({PG_LOCK})"))
    row = conn.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    return None if row is None else (row[0], row[1])


def insert_rows(conn: Connection, rows: Rows) -> None:
    """INSERT ``rows`` (numbered already) in the connection's transaction."""
    conn.execute(insert(AuditEntry.__table__), [dict(zip(COLUMNS, row, strict=True)) for row in rows])  # type: ignore[attr-defined]


_TABLE = AuditEntry.__table__.name  # type: ignore[attr-defined]
_PG_CASTS = ("::bigint", "::timestamptz", "", "", "", "::json", "", "")
_PG_INSERT = (
    f"INSERT INTO {_TABLE} ({','.join(COLUMNS)}) "  # noqa: S608 - our table's and columns' names only
    f"SELECT {','.join(f'(e->>{i}){cast}' for i, cast in enumerate(_PG_CASTS))} "
    f"FROM json_array_elements(%s::json) AS e "
    f"WHERE (SELECT hash FROM {_TABLE} ORDER BY seq DESC LIMIT 1) IS NOT DISTINCT FROM %s"
)
"""One text for any batch size, the rows one JSON array of arrays (one parameter: quoting eight text arrays element
by element on the client cost ~45 us a row, the JSON ~6), inserting nothing unless the log still ends with the hash
the rows were chained after (the last parameter): the server prepares it once per connection."""
_PG_LOCK_SQL = f"SELECT pg_advisory_xact_lock({PG_LOCK})"
_PG_TAIL_SQL = f"SELECT seq, hash FROM {_TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608 - constants only


def _pg_rows(dialect: Any, rows: Rows) -> str:
    """The batch as one JSON array of rows, each value bound as SQLAlchemy would bind it (see :func:`_plain`)."""
    table = AuditEntry.__table__  # type: ignore[attr-defined]
    procs = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in COLUMNS]
    return json.dumps(
        [[proc(value) if proc else value for proc, value in zip(procs, row, strict=True)] for row in rows],
        default=_plain,
    )


def _plain(value: Any) -> str:
    """A bound value JSON cannot hold as it is: a time in ISO 8601, a JSON column's value (psycopg's ``Json``
    wrapper, as SQLAlchemy binds it) as its JSON text."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Json):
        text = (value.dumps or json.dumps)(value.obj)
        return text.decode() if isinstance(text, bytes) else text
    raise TypeError(f"an audit row holds a {type(value).__name__}")


def append_in_own_transaction_pg(conn: Connection, chain: Callable[[Tail | None], Rows], tail: Tail | None) -> Tail:
    """Append on PostgreSQL in its own transaction, directly on the psycopg connection (put back in its
    non-autocommit mode after); the new tail.

    ``chain(tail)`` numbers and chains the rows after ``tail``. Given the tail this connection's last append left
    (the group-commit writer keeps it), the whole append is one simple-protocol query, one round trip: ``BEGIN``, the
    advisory lock, the INSERT guarded by that tail, ``COMMIT`` (each statement its own snapshot: the guard reads the
    log after the lock is held). If another appender moved the tail meanwhile, the guard inserts nothing, and the
    append is done again in three round trips: the lock and the tail read in one query, the INSERT, ``COMMIT``.
    """
    from psycopg import ClientCursor  # simple query protocol: several statements in one query

    raw = conn.connection.driver_connection
    raw.autocommit = True  # type: ignore[union-attr]
    try:
        if tail is not None:
            rows = chain(tail)
            with ClientCursor(raw) as cur:  # type: ignore[arg-type]
                cur.execute(
                    f"BEGIN; {_PG_LOCK_SQL}; {_PG_INSERT}; COMMIT",
                    (_pg_rows(conn.dialect, rows), tail[1]),
                )
                cur.nextset()  # the lock's result
                cur.nextset()  # the INSERT's
                if cur.rowcount == len(rows):
                    return rows[-1][0], rows[-1][-1]
        with ClientCursor(raw) as cur:  # type: ignore[arg-type]
            cur.execute(f"BEGIN; {_PG_LOCK_SQL}; {_PG_TAIL_SQL}")
            cur.nextset()
            cur.nextset()
            found = cur.fetchone()
        tail = None if found is None else (found[0], found[1])
        rows = chain(tail)
        with raw.cursor() as cur:  # type: ignore[union-attr]
            cur.execute(_PG_INSERT, (_pg_rows(conn.dialect, rows), tail and tail[1]), prepare=True)
            if cur.rowcount != len(rows):  # cannot be: the lock is held since the tail was read
                raise RuntimeError(f"audit append inserted {cur.rowcount} of {len(rows)} rows")
            cur.execute("COMMIT")
        return rows[-1][0], rows[-1][-1]
    except BaseException:
        if raw.info.transaction_status != 0:  # type: ignore[union-attr]  # not idle: end what the failure left open
            raw.execute("ROLLBACK")  # type: ignore[union-attr]
        raise
    finally:
        raw.autocommit = False  # type: ignore[union-attr]


ASYNC_ATTEMPTS = 20
"""How often an event loop's append reads the tail again when other appenders keep moving it."""


async def append_in_own_transaction_pg_async(
    conn: Any, dialect: Any, chain: Callable[[Tail | None], Rows], tail: Tail | None
) -> Tail:
    """Append on a psycopg ``AsyncConnection`` in autocommit mode, for a writer that runs on the event loop (no
    thread, so no wait for the GIL between round trips); the new tail.

    Unlike :func:`append_in_own_transaction_pg`, the append lock is never held across an ``await``: every attempt is
    the one-query append guarded by the tail, and the tail, when unknown or moved, is read without the lock before
    the next attempt. So a task of the loop never holds the lock while the loop runs other code, which could block on
    it (a synchronous append on the loop's thread would then wait for a commit that only the loop can send)."""
    from psycopg import AsyncClientCursor

    known = tail is not None
    for _ in range(ASYNC_ATTEMPTS):
        if not known:
            async with AsyncClientCursor(conn) as cur:
                await cur.execute(_PG_TAIL_SQL)
                found = await cur.fetchone()
            tail, known = (None if found is None else (found[0], found[1])), True
        rows = chain(tail)
        async with AsyncClientCursor(conn) as cur:
            try:
                await cur.execute(
                    f"BEGIN; {_PG_LOCK_SQL}; {_PG_INSERT}; COMMIT",
                    (_pg_rows(dialect, rows), tail and tail[1]),
                )
            except BaseException:
                if conn.info.transaction_status != 0 and not conn.closed:  # the failed query left its BEGIN open
                    await conn.execute("ROLLBACK")
                raise
            cur.nextset()  # the lock's result
            cur.nextset()  # the INSERT's
            if cur.rowcount == len(rows):
                return rows[-1][0], rows[-1][-1]
        known = False  # another appender moved the tail: read it again
    raise RuntimeError(f"the audit log's last entry moved {ASYNC_ATTEMPTS} times while appending")
