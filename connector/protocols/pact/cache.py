"""Per-process cache of PACT read answers (rendered bytes, and so the access decision behind them).

See docs/decisions/0007-pact-read-path.md. An entry is served only while

* no write that could change any PACT answer has been committed *in this process* since the entry was read: every
  such commit bumps the process-wide write generation (:mod:`connector.storage.write_generation`, decision 0026:
  the one counter of every answer cache, fed by SQLAlchemy's engine events, so a write through a session's Core
  connection or a bare one counts as much as an ORM flush), which kills every entry at once;
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

from ...storage import write_generation
from ...storage.write_generation import generation

_clock = time.monotonic  # module attribute, so tests can move time


def invalidate_all() -> None:
    """Kill every cached answer in this process (what a committed relevant write does)."""
    write_generation.bump()


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
        if gen != write_generation.generation() or _clock() - at >= self.ttl:
            return None
        return value

    def put(self, key: Hashable, value: Any, read_generation: int, size: int) -> None:
        """Store ``value`` read under ``read_generation`` (taken before the read began): not if a relevant write
        committed since, nor when larger than a quarter of the byte budget."""
        if not self.enabled or size > self.max_bytes // 4:
            return
        with self._lock:
            if read_generation != write_generation.generation():
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


__all__ = ["ReadCache", "generation", "invalidate_all"]
