"""Pausing the cyclic garbage collector around work that builds many objects and makes no cycles.

A full collection walks every live container object. Work that allocates millions of them (verifying a 10,000-
attestation bundle, computing a 50,000-line bill of materials) would trigger many collections that find nothing to
free and make the work grow faster than its size. :func:`gc_paused` switches collection off for the duration and
back on afterwards. It nests and is thread-safe: the collector comes back on when the last paused section ends, and
only if it was on when the first began. Reference counting still frees everything that is not in a cycle meanwhile.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
