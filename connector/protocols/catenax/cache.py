"""Per-process cache of submodel answers (``GET /catenax/submodel/...``): the shared answer cache
(:mod:`connector.storage.answer_cache`), on the rule of the PACT read cache (docs/decisions/0007): an entry is served
only while no write that could change an answer was committed in this process since it was read, and for at most
``Settings.pact_read_cache_ttl`` seconds (the bound on writes made by another process)."""

from __future__ import annotations

from typing import Any

from ...storage.answer_cache import AnswerCache
from ...storage.write_generation import generation

Answer = tuple[str, str, bytes]
"""(the caller's company id, the audited subject, the body)."""


def cache_of(app: Any) -> AnswerCache[Answer]:
    found = getattr(app.state, "catenax_cache", None)
    if found is None:
        found = app.state.catenax_cache = AnswerCache[Answer](app.state.settings.pact_read_cache_ttl)
    return found


__all__ = ["Answer", "cache_of", "generation"]
