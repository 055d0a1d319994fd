"""The PACT read path's machinery: the answer cache with shared reads, the audit group commit
(docs/decisions/0007-pact-read-path.md), read-only transactions, and a page's renderings from the render cache."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlmodel import Session

from ...services import attesting, audit
from ...services.context import NodeContext
from ...storage import pact_reads
from ...storage.db import read_only
from ...storage.tables import Footprint, Product
from . import render_cache
from .cache import ReadCache
from .cache import generation as cache_generation


def _reader(app: Any) -> Any:
    engine = getattr(app.state, "read_engine", None)
    if engine is None:
        engine = app.state.read_engine = read_only(app.state.engine)
    return engine


class _Reads:
    """A node's PACT read machinery: the answer cache and the audit group commit (docs/decisions/0007)."""

    def __init__(self, app: Any) -> None:
        self.cache = ReadCache(app.state.settings.pact_read_cache_ttl)
        self.audit = audit.AuditWriter(app.state.engine)
        self._flights: dict[Any, tuple[int, asyncio.Future[Any]]] = {}

    async def answer(self, key: Any, read: Callable[[], Awaitable[tuple[Any, int, bool]]]) -> tuple[Any, bool]:
        """(answer, audited): the cached answer for ``key``, or ``read()`` -> (answer, size, audited) stored.

        Concurrent misses of one key share one read (an entry expiring under 16 clients is read once, not 16
        times), but only while no relevant commit happened since that read began: a request never gets an answer
        read before a commit that completed before it arrived. Without the cache (TTL 0) every request reads.
        """
        hit = self.cache.get(key)
        if hit is not None:
            return hit, False
        if not self.cache.enabled:
            value, _, audited = await read()
            return value, audited
        generation = cache_generation()
        flight = self._flights.get(key)
        if flight is not None and flight[0] == generation:
            try:
                return await asyncio.shield(flight[1]), False
            except asyncio.CancelledError:
                if not flight[1].cancelled():
                    raise  # this request was cancelled
                # the request that was reading was cancelled: read here
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._flights[key] = (generation, future)
        try:
            value, size, audited = await read()
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()
            else:
                future.set_exception(exc)  # the requests waiting for it answer with it (a 404, a 500)
                future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        finally:
            if self._flights.get(key, (0, None))[1] is future:
                del self._flights[key]
        self.cache.put(key, value, generation, size)
        future.set_result(value)
        return value, audited


def reads_of(app: Any) -> _Reads:
    reads = getattr(app.state, "pact_reads", None)
    if reads is None:
        reads = app.state.pact_reads = _Reads(app)
    return reads


def close(app: Any) -> None:
    """Write the audit entries still queued and stop the group-commit thread (the app's shutdown)."""
    reads = getattr(app.state, "pact_reads", None)
    if reads is not None:
        reads.audit.close()


def serve_read(app: Any, caller: str, action: str, read: Any) -> tuple[str, dict[str, Any], Any, list[bytes], bool]:
    """Run ``read(ctx, issue_missing)`` -> (subject, audit details, result, rendered footprints) in a read-only
    transaction (on SQLite it neither takes nor waits for the write lock); the caller audits it then.

    Only when an attestation must be issued first (the first read of a footprint by this customer) is the read
    repeated in a write transaction, and then audited in that same transaction: the last item of the answer says so.
    """
    settings, identity = app.state.settings, app.state.identity
    with Session(_reader(app), expire_on_commit=False) as session:
        try:
            subject, details, result, rendered = read(NodeContext(session, settings, identity), False)
            session.rollback()
            return subject, details, result, rendered, False
        except attesting.NotIssuedYet:
            session.rollback()
    with Session(app.state.engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings, identity)
        subject, details, result, rendered = read(ctx, True)
        audit.append(session, caller, action, subject, **details)
        session.commit()
    return subject, details, result, rendered, True


def cached_renderings(
    ctx: NodeContext, items: Sequence[pact_reads.VisibleFootprint], audience: str
) -> list[bytes | None]:
    """For each footprint, the bytes ``render_cache.rendered_json`` made for ``audience`` and still remembers under the
    render key its rows give now (None when not rendered yet, no attestation yet, or a key that does not match): the
    key's look-ups done in three queries for all of them, and no footprint or product loaded."""
    if not items or ctx.identity is None or not ctx.identity.can_sign:
        return [None] * len(items)
    session = ctx.session
    verifiers = pact_reads.latest_verifiers(session, audience, list({item.product_id for item in items}))
    attestations = pact_reads.attestation_keys(session, audience, [item.id for item in items])
    held = pact_reads.upstream_certifications(session, list({i["footprintId"] for item in items for i in item.inputs}))
    out: list[bytes | None] = []
    for item in items:
        wanted = sorted(set(verifiers.get(item.product_id, [])))
        att = next((a for a in attestations.get(item.id, []) if sorted(a[1]) == wanted), None)
        raw = None
        if att is not None:
            # both read only id, status and inputs (pact_reads.RenderKeyFields): the row's columns serve
            tokens = [e["token"] for e in attesting.certifications_of_inputs(item, held)]
            key = render_cache.render_key(ctx, item, audience, att[0], att[2], tokens, item.product)
            raw = render_cache.cached_rendering(key)
        out.append(raw)
    return out


def render_window(
    ctx: NodeContext, window: list[tuple[Footprint, Product]], audience: str, *, issue_missing: bool
) -> list[bytes]:
    """``render_cache.rendered_json`` for a page: the remembered renderings found by :func:`cached_renderings`, the
    others (not rendered yet, no attestation yet, a key that does not match) made by ``render_cache.rendered_json``
    itself. So the bytes are always exactly its bytes."""
    cached = cached_renderings(
        ctx,
        [pact_reads.VisibleFootprint(fp.id, fp.status, p.id, fp.inputs, pact_reads.product_key(p)) for fp, p in window],
        audience,
    )
    return [
        raw if raw is not None else render_cache.rendered_json(ctx, fp, p, audience, issue_missing=issue_missing)
        for raw, (fp, p) in zip(cached, window, strict=True)
    ]
