"""Per-process cache of submodel answers (``GET /catenax/submodel/...``), on the rule of the PACT read cache
(docs/decisions/0007): an entry is served only while no write that could change an answer was committed in this
process since it was read, and for at most ``Settings.pact_read_cache_ttl`` seconds (the bound on writes made by
another process). Its own generation, bumped by SQLAlchemy session events on any relevant commit."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

IGNORED_TABLES = frozenset(
    {"auditentry", "outboxmessage", "inboxevent", "usedassertion", "apikey", "peerclient", "alembic_version"}
)
_DIRTY = "connector.catenax_cache.dirty"
_lock = threading.Lock()
_generation = 0


def generation() -> int:
    return _generation


def invalidate_all() -> None:
    global _generation
    with _lock:
        _generation += 1


def _relevant(obj: Any) -> bool:
    name = getattr(getattr(type(obj), "__table__", None), "name", None)
    return name is None or name not in IGNORED_TABLES


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if not session.info.get(_DIRTY) and any(_relevant(o) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_DIRTY] = True


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_DIRTY):
        return
    stmt = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        name = getattr(getattr(stmt, "table", None), "name", None)
        if name is None or name not in IGNORED_TABLES:
            state.session.info[_DIRTY] = True
    elif isinstance(stmt, TextClause) and not stmt.text.lstrip().lower().startswith("select"):
        state.session.info[_DIRTY] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        invalidate_all()


class AnswerCache:
    def __init__(self, ttl: float, max_entries: int = 4096) -> None:
        self.ttl, self.max_entries = ttl, max_entries
        self._entries: OrderedDict[Hashable, tuple[int, float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any:
        entry = self._entries.get(key)
        if entry is None or entry[0] != _generation or time.monotonic() - entry[1] >= self.ttl:
            return None
        return entry[2]

    def put(self, key: Hashable, value: Any, read_generation: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if read_generation != _generation:
                return
            self._entries.pop(key, None)
            self._entries[key] = (read_generation, time.monotonic(), value)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


def cache_of(app: Any) -> AnswerCache:
    found = getattr(app.state, "catenax_cache", None)
    if found is None:
        found = app.state.catenax_cache = AnswerCache(app.state.settings.pact_read_cache_ttl)
    return found
