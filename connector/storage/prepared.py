"""On PostgreSQL, a transaction that only read ends with ``COMMIT`` where SQLAlchemy would send ``ROLLBACK``, so
psycopg keeps the statements it has prepared on that connection (docs/decisions/0032-prepared-statements.md).

psycopg 3 prepares a statement on the server once a connection has run it five times, and then skips parsing and
planning it (~1.6 ms of the ~1.9 ms a submodel GET's query took in a fresh transaction here). But every
``ROLLBACK`` makes it forget all of them (``DEALLOCATE ALL``, counts reset to zero), and SQLAlchemy ends with a
rollback every session closed without a commit: each read path's transaction, and so every GET. The statements were
in effect never prepared.

For a transaction that ran only reads, ``COMMIT`` and ``ROLLBACK`` leave the database the same (locks and snapshots
are released alike). So the engine's ``do_rollback`` commits instead when no statement of the transaction could have
written: every compiled statement is a SELECT (no INSERT, UPDATE, DELETE or DDL) and every text statement starts
with ``SELECT`` or ``SHOW`` (``SET`` counts as a write: a rolled-back ``SET`` is undone). Anything else, a failed
transaction, or a statement sent on the psycopg connection past SQLAlchemy while a transaction is open (nothing here
does; the audit log's own transactions run in autocommit mode), gets the real rollback.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

_WROTE = "connector.prepared.wrote"
_READS = ("select", "show")


def _may_write(context: Any, statement: str) -> bool:
    """Whether a statement could write: DML or DDL, or a text statement that is not a plain read."""
    if context.isinsert or context.isupdate or context.isdelete or context.isddl:
        return True
    return bool(context.is_text) and not statement.lstrip()[:6].lower().startswith(_READS)


def keep_prepared(engine: Engine) -> None:
    """Install the read-only commit on a PostgreSQL engine (see the module's docstring)."""
    from psycopg.pq import TransactionStatus

    @event.listens_for(engine, "before_cursor_execute")
    def _mark(conn: Connection, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if _may_write(context, statement):
            conn.info[_WROTE] = True

    @event.listens_for(engine, "commit")
    def _committed(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)

    rollback = engine.dialect.do_rollback

    def do_rollback(dbapi_connection: Any) -> None:
        try:
            info = dbapi_connection.info  # the pool's connection: its record's dict
        except (AttributeError, NotImplementedError):  # the first connect's ad hoc wrapper has none
            info = None
        wrote = info.pop(_WROTE, False) if isinstance(info, dict) else True
        raw = getattr(dbapi_connection, "driver_connection", None)
        if not wrote and raw is not None and raw.info.transaction_status == TransactionStatus.INTRANS:
            raw.commit()
        else:
            rollback(dbapi_connection)

    engine.dialect.do_rollback = do_rollback  # type: ignore[method-assign]
