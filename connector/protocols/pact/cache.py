"""Per-process cache of PACT read answers (rendered bytes, and so the access decision behind them).

See docs/decisions/0007-pact-read-path.md. An entry is served only while

* no write that could change any PACT answer has been committed *in this process* since the entry was read: every
  such commit bumps a process-wide generation (SQLAlchemy session events, below), which kills every entry at once;
* it is younger than ``Settings.pact_read_cache_ttl`` seconds: the bound on how long a write made by another
  process on the same database (the CLI, another worker) can go unseen. ``0`` disables the cache.

A read stores its answer only if the generation did not move while it read (it is taken before the read's
transaction begins), so an answer read before a concurrent commit is never stored after that commit's bump.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

# tables whose rows never change a PACT answer: writes to them leave the cache alone (everything else clears it)
IGNORED_TABLES = frozenset(
    {"auditentry", "outboxmessage", "inboxevent", "usedassertion", "apikey", "peerclient", "alembic_version"}
)
_DIRTY = "connector.pact_cache.dirty"

_lock = threading.Lock()
_generation = 0
_clock = time.monotonic  # module attribute, so tests can move time


def generation() -> int:
    return _generation


def invalidate_all() -> None:
    """Kill every cached answer in this process (what a committed relevant write does)."""
    global _generation
    with _lock:
        _generation += 1


def _table_of(obj: Any) -> str | None:
    table = getattr(type(obj), "__table__", None)
    return getattr(table, "name", None)


def _relevant(name: str | None) -> bool:
    return name is None or name not in IGNORED_TABLES  # unknown: assume it matters


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _flush: UOWTransaction) -> None:
    if session.info.get(_DIRTY):
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        if _relevant(_table_of(obj)):
            session.info[_DIRTY] = True
            return


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.session.info.get(_DIRTY):
        return
    stmt = state.statement
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(stmt, "table", None)
        if _relevant(getattr(table, "name", None)):
            state.session.info[_DIRTY] = True
    elif isinstance(stmt, TextClause) and not stmt.text.lstrip().lower().startswith("select"):
        state.session.info[_DIRTY] = True  # raw SQL that may write: assume it matters


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    # after the database committed: a reader that began before this point took the old generation and cannot store
    if session.info.pop(_DIRTY, False):
        invalidate_all()


class ReadCache:
    """Answers by key, each with the generation it was read under and when; bounded in entries and bytes."""

    def __init__(self, ttl: float, *, max_entries: int = 4096, max_bytes: int = 64 * 1_048_576) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[int, float, int, Any]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def get(self, key: Hashable) -> Any:
        """The value, or None when absent, stale (older than the TTL) or read before a relevant commit."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        gen, at, _, value = entry
        if gen != _generation or _clock() - at >= self.ttl:
            return None
        return value

    def put(self, key: Hashable, value: Any, read_generation: int, size: int) -> None:
        """Store ``value`` read under ``read_generation`` (taken before the read began): not if a relevant write
        committed since, nor when larger than a quarter of the byte budget."""
        if not self.enabled or size > self.max_bytes // 4:
            return
        with self._lock:
            if read_generation != _generation:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            self._entries[key] = (read_generation, _clock(), size, value)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, _, dropped, _) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)
