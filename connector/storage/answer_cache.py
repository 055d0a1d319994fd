"""A per-process cache of rendered answers that a protocol's read path serves without a session (the Ouranos DTS
GETs, the Catena-X submodel GET): an entry is served only while no write that could change an answer has been
committed in this process, through any session or connection, since it was read (:mod:`.write_generation`), and for
at most ``ttl`` seconds, the bound on how long a write made by another process (a CLI command, another worker) can
go unseen; ``ttl`` 0 disables it.

Least recently stored entries go first once there are more than ``max_entries`` or their sizes add up to more than
``max_bytes``; an answer larger than a quarter of that is never kept.
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
