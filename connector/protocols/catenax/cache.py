"""Per-process cache of submodel answers (``GET /catenax/submodel/...``): the shared answer cache
(:mod:`connector.storage.answer_cache`), on the rule of the PACT read cache (docs/decisions/0007): an entry is served
only while no write that could change an answer was committed in this process since it was read, and for at most
``Settings.pact_read_cache_ttl`` seconds (the bound on writes made by another process).

Entries are confirmed ahead of their expiry (:func:`refresh`): once per sixth of the TTL, those older than a third of
it are read again in one background session with the shortcut of ``render.remembered_pcf`` and, when unchanged, served for
another TTL from that read. So a product read often never misses at once with all the others when their TTL runs out
(each miss a thread and a session of its own: docs/decisions/0032)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, cast

from sqlmodel import Session

from ...services.context import NodeContext
from ...storage.answer_cache import AnswerCache
from ...storage.db import read_only
from ...storage.write_generation import generation
from . import render

log = logging.getLogger("connector.exchange")

Answer = tuple[str, str, bytes]
"""(the caller's company id, the audited subject, the body)."""


def cache_of(app: Any) -> AnswerCache[Answer]:
    found = getattr(app.state, "catenax_cache", None)
    if found is None:
        found = app.state.catenax_cache = AnswerCache[Answer](app.state.settings.pact_read_cache_ttl)
    return found


def reader(app: Any) -> Any:
    """The app's engine for transactions that only read (``storage.db.read_only``)."""
    engine = getattr(app.state, "read_engine", None)
    if engine is None:
        engine = app.state.read_engine = read_only(app.state.engine)
    return engine


def refresh(app: Any) -> None:
    """Start confirming the stale entries on a thread of its own when it is due and not already under way (a thread,
    not a task of the loop: nothing is left pending when the app stops)."""
    running = getattr(app.state, "catenax_refresh", None)
    if not cache_of(app).refresh_due() or (running is not None and running.is_alive()):
        return
    app.state.catenax_refresh = thread = threading.Thread(target=_confirm, args=(app,), daemon=True)
    thread.start()


def _confirm(app: Any) -> None:
    try:
        confirm_stale(app)
    except Exception:  # a failed check confirms nothing: the entries expire as they would have
        log.exception("confirming the Catena-X answer cache failed")


def confirm_stale(app: Any) -> int:
    """Read the stale entries again in one session; each found unchanged is served for another TTL. How many were."""
    answers = cache_of(app)
    stale = answers.stale()
    if not stale:
        return 0
    read_generation, began = generation(), time.monotonic()
    confirmed = 0
    with Session(reader(app), expire_on_commit=False) as session:
        ctx = NodeContext(session, app.state.settings, app.state.identity)
        for key, value in stale:
            bpnl, product_urn, version = cast("tuple[str, str, str]", key)  # submodel_get's key
            if render.remembered_pcf(ctx, bpnl, product_urn, version) == value:
                answers.confirm(key, value, read_generation, began)
                confirmed += 1
    return confirmed


__all__ = ["Answer", "cache_of", "confirm_stale", "generation", "reader", "refresh"]
