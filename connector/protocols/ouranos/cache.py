"""Per-process cache of GET answers of the DTS API (rendered bytes), keyed by the credentials presented and the
query: a hit answers without a session, so it skips the API-key and token look-ups and the reads.

An entry is served only while no write that could change an answer (or the credentials: API keys, user tokens) has
been committed in this process since it was read (``storage.write_generation``), and for at most
``Settings.pact_read_cache_ttl`` seconds (the same bound as PACT's answer cache on how long a write by another
process, e.g. the CLI revoking a key, can go unseen; 0 disables both). An access token that expires is refused at
most that long after its expiry. See docs/decisions/0021.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Hashable

from ...storage import write_generation

MAX_ENTRIES = 4096
MAX_BYTES = 32 * 1_048_576
_clock = time.monotonic


class AnswerCache:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[int, float, bytes]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        gen, at, body = entry
        if gen != write_generation.generation() or _clock() - at >= self.ttl:
            return None
        return body

    def put(self, key: Hashable, body: bytes, read_generation: int) -> None:
        """Keep ``body`` read under ``read_generation`` (taken before its read began), unless a write committed since."""
        if self.ttl <= 0 or len(body) > MAX_BYTES // 4:
            return
        with self._lock:
            if read_generation != write_generation.generation():
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old[2])
            self._entries[key] = (read_generation, _clock(), body)
            self._bytes += len(body)
            while len(self._entries) > MAX_ENTRIES or self._bytes > MAX_BYTES:
                _, (_, _, dropped) = self._entries.popitem(last=False)
                self._bytes -= len(dropped)
