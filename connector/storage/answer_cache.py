"""A per-process cache of rendered answers that a protocol's read path serves without a session (the Ouranos DTS
GETs, the Catena-X submodel GET): an entry is served only while no write that could change an answer has been
committed in this process, through any session or connection, since it was read (:mod:`.write_generation`), and for
at most ``ttl`` seconds, the bound on how long a write made by another process (a CLI command, another worker) can
go unseen; ``ttl`` 0 disables it.

Least recently stored entries go first once there are more than ``max_entries`` or their sizes add up to more than
``max_bytes``; an answer larger than a quarter of that is never kept.

Refresh ahead: a read path may confirm its entries before they expire (:meth:`AnswerCache.stale`, then
:meth:`AnswerCache.confirm` for each found unchanged by a read that began at ``at``), so entries read often are
checked in one batch instead of all missing at once when their TTL runs out. A confirmed entry is served for ``ttl``
seconds after the read that confirmed it began: the bound is the same.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

from . import write_generation

V = TypeVar("V")
MAX_ENTRIES = 4096
MAX_BYTES = 32 * 1_048_576


class AnswerCache(Generic[V]):
    def __init__(self, ttl: float, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.ttl, self.max_entries, self.max_bytes = ttl, max_entries, max_bytes
        self._entries: OrderedDict[Hashable, tuple[int, float, V, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._refresh_at = float("inf")  # no entry: nothing to confirm

    def get(self, key: Hashable) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        gen, at, value, _ = entry
        if gen != write_generation.generation() or time.monotonic() - at >= self.ttl:
            return None
        return value

    def put(self, key: Hashable, value: V, read_generation: int, size: int = 0) -> None:
        """Keep ``value`` (``size`` bytes) read under ``read_generation`` (taken before its read began), unless a
        write was committed since."""
        if self.ttl <= 0 or size > self.max_bytes // 4:
            return
        with self._lock:
            if read_generation != write_generation.generation():
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[3]
            self._entries[key] = (read_generation, time.monotonic(), value, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, _, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped
        self._refresh_at = min(self._refresh_at, time.monotonic() + self.ttl / 6)

    def refresh_due(self) -> bool:
        """True at most once per sixth of the TTL, and only when an entry may need confirming (the caller then confirms
        the :meth:`stale` ones): one float compared on every hit. So an entry is checked when a third to a half of
        its TTL has passed, and still before it expires after a lull of a third of the TTL without reads."""
        now = time.monotonic()
        if self.ttl <= 0 or now < self._refresh_at:
            return False
        with self._lock:
            if now < self._refresh_at:
                return False
            self._refresh_at = now + self.ttl / 6
        return True

    def stale(self) -> list[tuple[Hashable, V]]:
        """The entries still served (no write since they were read) that are older than a third of the TTL."""
        now, current = time.monotonic(), write_generation.generation()
        with self._lock:
            return [
                (key, value)
                for key, (gen, at, value, _) in self._entries.items()
                if gen == current and self.ttl / 3 <= now - at < self.ttl
            ]

    def confirm(self, key: Hashable, value: V, read_generation: int, at: float) -> None:
        """Serve the entry ``key`` for another TTL from ``at`` (``time.monotonic()`` when the read that found it
        unchanged began, ``read_generation`` taken before it), if it still holds ``value`` and nothing was written
        since."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[2] is not value or read_generation != write_generation.generation():
                return
            if entry[0] == read_generation and at > entry[1]:
                self._entries[key] = (entry[0], at, value, entry[3])
