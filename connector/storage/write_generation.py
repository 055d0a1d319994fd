"""A process-wide counter bumped by every committed write that may change what a reader is answered: the Ouranos
answer cache (protocols/ouranos/cache.py) keeps an answer only while it has not moved.

Like the PACT answer cache's own counter (protocols/pact/cache.py, decision 0007), it listens on every ORM session of
the process, on purpose (CONTRIBUTING.md): a write committed through *any* session (the operator API, a CLI command,
a worker, a test's own session) must invalidate, and the counter is process-wide anyway. Writes to tables that never
change an answer (the audit log, the outbox, the inbox, used assertions, stored idempotent responses) leave it
alone; anything else bumps it, API keys and user tokens included, so a revoked key or a logout is seen at once.
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

IGNORED_TABLES = frozenset(
    {"auditentry", "outboxmessage", "inboxevent", "usedassertion", "idempotentresponse", "alembic_version"}
)
_DIRTY = "connector.write_generation.dirty"
_lock = threading.Lock()
_generation = 0


def generation() -> int:
    return _generation


def bump() -> None:
    global _generation
    with _lock:
        _generation += 1


def _relevant(table: Any) -> bool:
    name = getattr(table, "name", None)
    return name is None or name not in IGNORED_TABLES


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(_DIRTY):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _relevant(getattr(type(obj), "__table__", None)):
            session.info[_DIRTY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_DIRTY):
        return
    stmt = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        if _relevant(getattr(stmt, "table", None)):
            state.session.info[_DIRTY] = True
    elif isinstance(stmt, TextClause) and not stmt.text.lstrip().lower().startswith("select"):
        state.session.info[_DIRTY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        bump()
