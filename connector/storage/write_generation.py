"""A process-wide counter bumped by every committed write that may change what a reader is answered: the answer
caches of the read paths (PACT's, protocols/pact/cache.py; the Ouranos DTS GETs' and the Catena-X submodel GET's,
storage/answer_cache.py) keep an answer only while it has not moved. See docs/decisions/0026-write-generation.md.

It learns of writes where every statement of the process passes, whoever issued it: SQLAlchemy's engine events,
registered on the ``Engine`` class (every engine of the process, on purpose: CONTRIBUTING.md). A write committed
through an ORM flush, a bulk or Core statement on a session's connection (``repositories.execute``), ``text()`` or
``exec_driver_sql`` on a bare ``Connection`` is seen alike:

* ``before_cursor_execute`` marks the connection dirty when the statement writes a relevant table. Compiled
  statements say what they are (``context.isinsert`` ...; a compiled SELECT costs two attribute reads); a text
  statement is read from its first words, and one that is neither a read, transaction control nor DML on a named
  table counts as relevant (fail closed: DDL, ``WITH`` with DML, anything unknown).
* ``commit`` (before the database commits) bumps, kills what was read before, and owes this thread a second bump;
  ``rollback`` forgets the mark: a rolled-back write moves nothing.
* The owed bump is paid *after* the database committed, by the first of: the ORM session's ``after_commit`` (every
  session-driven commit), the connection's next ``begin``, its return to the pool. So an answer read while the
  commit was under way, against the old rows, is never kept past it (a reader takes the generation before its
  transaction begins, and an entry is stored only if it has not moved since).

Writes to tables that never change an answer (the audit log, the outbox, the inbox, used assertions, stored
idempotent responses) leave it alone; anything else bumps it, API keys, PACT clients and user tokens included, so a
revoked key or a logout is seen at once. Statements sent on the DBAPI connection itself, past SQLAlchemy (the audit
group commit's on PostgreSQL), are not seen: only the audit log is written that way. A write by another process
(the CLI, another worker) is not seen either: each cache's TTL bounds how long it can go unseen.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

IGNORED_TABLES = frozenset(
    {"auditentry", "outboxmessage", "inboxevent", "usedassertion", "idempotentresponse", "alembic_version"}
)
_DIRTY = "connector.write_generation.dirty"
_lock = threading.Lock()
_generation = 0
_owed = threading.local()  # a bump this thread owes for a commit it began (paid once the database has committed)


def generation() -> int:
    return _generation


def bump() -> None:
    global _generation
    with _lock:
        _generation += 1


# the first words of a text statement that writes nothing: reads and transaction control
_READS = ("select", "begin", "commit", "rollback", "savepoint", "release", "pragma", "set ", "show ", "end")
_NAME = r'(?:"[^"]+"|\w+)'
_DML = re.compile(
    rf"(?:insert\s+(?:or\s+\w+\s+)?into|replace\s+into|update(?:\s+or\s+\w+)?(?:\s+only)?|delete\s+from(?:\s+only)?)"
    rf"\s+(?:{_NAME}\.)?({_NAME})",
    re.IGNORECASE,
)
_WRITE_WORD = re.compile(r"\b(?:insert|update|delete|merge)\b", re.IGNORECASE)


def writes_relevant(sql: str) -> bool:
    """Whether the text statement ``sql`` may write a table that can change an answer (unknown: it may)."""
    sql = sql.lstrip()
    head = sql[:9].lower()
    if head.startswith(_READS):
        return False
    if head.startswith("with"):
        return _WRITE_WORD.search(sql) is not None  # a CTE that writes: its table is not worth finding
    found = _DML.match(sql)
    if found is None:
        return True  # DDL, COPY, MERGE, anything unknown: assume it matters
    return found.group(1).strip('"').lower() not in IGNORED_TABLES


def _relevant(table: Any) -> bool:
    name = getattr(table, "name", None)
    return name is None or name not in IGNORED_TABLES


@event.listens_for(Engine, "before_cursor_execute")
def _on_statement(conn: Connection, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
    if context.isinsert or context.isupdate or context.isdelete:
        if not _relevant(context.compiled.compile_state.dml_table):
            return
    elif not (context.is_text or context.isddl) or not writes_relevant(statement):
        return  # a compiled SELECT (the read path), or a text statement that writes nothing relevant
    conn.info[_DIRTY] = True


def _was_dirty(conn: Connection) -> bool:
    """Take the connection's mark. An invalidated connection is left alone: ``conn.info`` would try to reconnect
    it (or raise, mid-transaction); its pool record keeps the mark until checkin (below) or a reconnect clears it."""
    if conn.invalidated or conn.closed:
        return False
    return bool(conn.info.pop(_DIRTY, False))


@event.listens_for(Engine, "commit")
def _on_commit(conn: Connection) -> None:
    if _was_dirty(conn):
        bump()  # before the database commits: whatever was read until now is not kept
        _owed.bump = True  # and once more after it committed (below)


@event.listens_for(Engine, "rollback")
def _on_rollback(conn: Connection) -> None:
    _was_dirty(conn)


def _pay() -> None:
    if getattr(_owed, "bump", False):
        _owed.bump = False
        bump()


@event.listens_for(Session, "after_commit")
def _after_session_commit(_session: Session) -> None:
    _pay()


@event.listens_for(Engine, "begin")
def _on_begin(_conn: Connection) -> None:
    _pay()  # a bare connection's next transaction: its previous commit is done


@event.listens_for(Pool, "checkin")
def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
    _pay()  # a bare connection closed after its commit
    if record is not None and record.info.pop(_DIRTY, False):
        bump()  # wrote, then neither committed nor rolled back through SQLAlchemy (autocommit?): assume it did
