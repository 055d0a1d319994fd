"""Per-process cache of GET answers of the DTS API (rendered bytes), keyed by the credentials presented and the
query: a hit answers without a session, so it skips the API-key and token look-ups and the reads.

An entry is served only while no write that could change an answer (or the credentials: API keys, user tokens) has
been committed in this process since it was read (``storage.write_generation``), and for at most
``Settings.pact_read_cache_ttl`` seconds (the same bound as PACT's answer cache on how long a write by another
process, e.g. the CLI revoking a key, can go unseen; 0 disables both). An access token that expires is refused at
most that long after its expiry. See docs/decisions/0021.
"""

from __future__ import annotations

from ...storage.answer_cache import AnswerCache

__all__ = ["AnswerCache"]
