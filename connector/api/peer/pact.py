"""PACT v3: ListFootprints, GetFootprint and Events, with PACT error bodies."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from ...errors import ConnectorError, NotFound
from ...exchange import events as events_model
from ...exchange import pact
from ...services import attesting, audit, exchange
from ...services.context import NodeContext
from ...storage import pact_reads
from ...storage import repositories as repo
from ...storage.db import read_only
from ...storage.tables import Footprint, Product
from ...strict_json import strict_json_loads
from ..deps import write_session
from .cache import ReadCache
from .cache import generation as cache_generation
from .deps import CallerDep, get_caller

router = APIRouter(prefix="/3", tags=["peer: PACT v3"])


class BadRequest(ConnectorError):
    status = 400
    pact_code = "BadRequest"


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _lower(values: list[str] | None) -> frozenset[str]:
    """The values lower-cased; an empty value is no value (``?classification=`` filters nothing, as if absent)."""
    return frozenset(v.lower() for v in values or [] if v)


def _given(value: str | None) -> str | None:
    """A single-valued parameter: an empty value is the parameter absent."""
    return value or None


def matches(
    fp: Footprint,
    product: Product,
    company_id: str,
    *,
    product_ids: frozenset[str],
    company_ids: frozenset[str],
    geographies: frozenset[str],
    classifications: frozenset[str],
    statuses: frozenset[str],
    valid_on: datetime | None,
    valid_after: datetime | None,
    valid_before: datetime | None,
) -> bool:
    """PACT 3.0.1 filter semantics: OR within a repeated parameter, AND across parameters, case-insensitive."""
    if product_ids and not product_ids & _lower(product.product_ids):
        return False
    if company_ids and company_id.lower() not in company_ids:
        return False
    if geographies:
        where = pact.geography(product)  # the one field the footprint carries, matched exactly (case aside)
        if where is None or where[1].lower() not in geographies:
            return False
    if classifications and not classifications & _lower(product.classifications):
        return False
    if statuses and fp.status.lower() not in statuses:
        return False
    start, end = pact.validity_period(product, fp)  # the dates the footprint states
    if valid_on and not (start <= valid_on <= end):
        return False
    if valid_after and not start > valid_after:
        return False
    return not (valid_before and not end < valid_before)


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


def _reads(app: Any) -> _Reads:
    reads = getattr(app.state, "pact_reads", None)
    if reads is None:
        reads = app.state.pact_reads = _Reads(app)
    return reads


def routes_first(app: Any) -> None:
    """Put PACT's routes (the reads and the events) at the front of the app's route table, hidden from the OpenAPI
    document (where the included ones stay, in their place). FastAPI tries routes in order, through every included
    router: without this, each PACT read or event first failed to match the whole operator API. The endpoints, and so
    the answers, are the same."""
    first = [route for route in router.routes if isinstance(route, APIRoute)]
    for route in first:
        endpoint = _list_parsing_itself if route.endpoint is list_footprints else route.endpoint
        app.router.add_api_route(
            route.path,
            endpoint,
            methods=sorted(route.methods),
            name=f"{route.name}_first",
            include_in_schema=False,
            status_code=route.status_code,
            response_class=route.response_class,
            dependencies=route.dependencies,
        )
    routes = app.router.routes
    added = routes[len(routes) - len(first) :]
    del routes[len(routes) - len(first) :]
    routes[0:0] = added


def close(app: Any) -> None:
    """Write the audit entries still queued and stop the group-commit thread (the app's shutdown)."""
    reads = getattr(app.state, "pact_reads", None)
    if reads is not None:
        reads.audit.close()


def _serve_read(app: Any, caller: str, action: str, read: Any) -> tuple[str, dict[str, Any], Any, list[bytes], bool]:
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
    """For each footprint, the bytes ``exchange.rendered_json`` made for ``audience`` and still remembers under the
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
            key = exchange.render_key(ctx, item, audience, att[0], att[2], tokens, item.product)
            raw = exchange.cached_rendering(key)
        out.append(raw)
    return out


def render_window(
    ctx: NodeContext, window: list[tuple[Footprint, Product]], audience: str, *, issue_missing: bool
) -> list[bytes]:
    """``exchange.rendered_json`` for a page: the remembered renderings found by :func:`cached_renderings`, the
    others (not rendered yet, no attestation yet, a key that does not match) made by ``exchange.rendered_json``
    itself. So the bytes are always exactly its bytes."""
    cached = cached_renderings(
        ctx,
        [pact_reads.VisibleFootprint(fp.id, fp.status, p.id, fp.inputs, pact.product_key(p)) for fp, p in window],
        audience,
    )
    return [
        raw if raw is not None else exchange.rendered_json(ctx, fp, p, audience, issue_missing=issue_missing)
        for raw, (fp, p) in zip(cached, window, strict=True)
    ]


def _json(body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(content=body, media_type="application/json", headers=headers)


@router.get("/footprints", summary="ListFootprints")
async def list_footprints(
    request: Request,
    product_id: Annotated[list[str] | None, Query(alias="productId")] = None,
    company_id: Annotated[list[str] | None, Query(alias="companyId")] = None,
    geography: Annotated[list[str] | None, Query()] = None,
    classification: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query()] = None,
    valid_on: Annotated[str | None, Query(alias="validOn")] = None,
    valid_after: Annotated[str | None, Query(alias="validAfter")] = None,
    valid_before: Annotated[str | None, Query(alias="validBefore")] = None,
    limit: Annotated[str | None, Query()] = None,
    offset: Annotated[str | None, Query()] = None,
) -> Response:
    """The footprints the caller has been granted, filtered and paginated (RFC 8288 Link, rel=next)."""
    caller = await get_caller(request)  # first, as a dependency would be (called here: one FastAPI layer less)
    return await _answer_list(
        request,
        caller,
        ListQuery.parse(
            product_id,
            company_id,
            geography,
            classification,
            status,
            valid_on,
            valid_after,
            valid_before,
            limit,
            offset,
        ),
    )


async def _list_parsing_itself(request: Request) -> Response:
    """:func:`list_footprints` with its query parameters read here as FastAPI reads them (a repeated parameter: all
    values; a single one: the last; absent or none: None), without FastAPI's per-parameter machinery (most of a cached
    answer's cost), and parsed once per distinct query string (:func:`_parsed_query`). Served by
    :func:`routes_first`; ``list_footprints`` documents the parameters."""
    caller = await get_caller(request)  # first, as a dependency would be (called here: one FastAPI layer less)
    return await _answer_list(request, caller, _parsed_query(request.scope["query_string"]))


@dataclass(frozen=True)
class ListQuery:
    """The parameters of a ListFootprints request, checked: page ``size`` (before the node's maximum) and ``start``,
    and the PACT filters (lower-cased sets, aware datetimes), as :func:`matches` takes them."""

    size: int
    start: int
    filters: dict[str, Any]

    @classmethod
    def parse(
        cls,
        product_id: list[str] | None,
        company_id: list[str] | None,
        geography: list[str] | None,
        classification: list[str] | None,
        status: list[str] | None,
        valid_on: str | None,
        valid_after: str | None,
        valid_before: str | None,
        limit: str | None,
        offset: str | None,
    ) -> ListQuery:
        """BadRequest (PACT's error body) for a malformed limit, offset or date. An empty value counts as absent."""
        valid_on, valid_after, valid_before, limit, offset = map(
            _given, (valid_on, valid_after, valid_before, limit, offset)
        )
        try:
            size = int(limit) if limit is not None else 100
            start = int(offset) if offset is not None else 0
        except ValueError:
            raise BadRequest("limit and offset must be integers") from None
        if size < 1 or start < 0:
            raise BadRequest("limit must be at least 1 and offset not negative")
        return cls(
            size,
            start,
            {
                "product_ids": _lower(product_id),
                "company_ids": _lower(company_id),
                "geographies": _lower(geography),
                "classifications": _lower(classification),
                "statuses": _lower(status),
                "valid_on": _date(valid_on, "validOn"),
                "valid_after": _date(valid_after, "validAfter"),
                "valid_before": _date(valid_before, "validBefore"),
            },
        )

    def key(self) -> tuple[Any, ...]:
        """What the answer depends on besides the caller and the page size (hashable)."""
        return (self.start, *(tuple(sorted(v)) if isinstance(v, frozenset) else v for v in self.filters.values()))


@functools.lru_cache(maxsize=1024)
def _parsed_query(query_string: bytes) -> ListQuery:
    """:meth:`ListQuery.parse` of a raw query string, read as FastAPI reads it; remembered per distinct string (a
    client paging through the same list sends the same few). A malformed one raises every time (never cached)."""
    q = QueryParams(query_string)  # as Request.query_params reads it
    return ListQuery.parse(
        q.getlist("productId") or None,
        q.getlist("companyId") or None,
        q.getlist("geography") or None,
        q.getlist("classification") or None,
        q.getlist("status") or None,
        q.get("validOn"),
        q.get("validAfter"),
        q.get("validBefore"),
        q.get("limit"),
        q.get("offset"),
    )


_NEXT_LINKS_MAX = 1024
_next_links: dict[tuple[Any, ...], str] = {}


def _next_link(request: Request, size: int, start: int) -> str:
    """The RFC 8288 ``Link`` header to the next page: the request's URL with ``limit`` and ``offset`` replaced.
    Remembered per request line, host and page (building the URL and its query is most of a cached page's cost)."""
    scope = request.scope
    host = next((v for k, v in scope["headers"] if k == b"host"), None)
    key = (
        scope.get("scheme"),
        scope.get("server"),
        host,
        scope.get("root_path"),
        scope["path"],
        scope["query_string"],
        size,
        start,
    )
    link = _next_links.get(key)
    if link is None:
        link = f'<{request.url.include_query_params(limit=size, offset=start + size)}>; rel="next"'
        if len(_next_links) >= _NEXT_LINKS_MAX:
            _next_links.clear()  # many distinct URLs: start over, never grow
        _next_links[key] = link
    return link


async def _answer_list(request: Request, caller: Any, query: ListQuery) -> Response:
    settings = request.app.state.settings
    size = min(query.size, settings.page_size_max)
    start, filters = query.start, query.filters
    reads = _reads(request.app)
    key = ("list", caller.company_id, size, *query.key())

    def read(ctx: NodeContext, issue_missing: bool) -> tuple[str, dict[str, Any], int, list[bytes]]:
        selected = [
            (fp, p)
            for fp, p in exchange.visible_footprints(ctx, caller.company_id)
            if matches(fp, p, ctx.company_id, **filters)
        ]
        window = selected[start : start + size]
        rendered = render_window(ctx, window, caller.company_id, issue_missing=issue_missing)
        return "", {"returned": len(window)}, len(selected), rendered

    async def read_answer() -> tuple[tuple[int, int, bytes], int, bool]:
        _, details, total, rendered, audited = await run_in_threadpool(
            _serve_read, request.app, caller.company_id, "pact.list", read
        )
        body = b'{"data":[' + b",".join(rendered) + b"]}"
        return (total, details["returned"], body), len(body), audited

    (total, returned, body), audited = await reads.answer(key, read_answer)
    if not audited:  # committed before any byte of the answer leaves
        await reads.audit.append(caller.company_id, "pact.list", "", returned=returned)
    return _json(body, {"Link": _next_link(request, size, start)} if start + size < total else None)


@router.get("/footprints/{footprint_id}", summary="GetFootprint")
async def get_footprint(request: Request, footprint_id: str) -> Response:
    """One footprint the caller has been granted; anything else is 404."""
    caller = await get_caller(request)  # first, as a dependency would be (called here: one FastAPI layer less)
    try:
        uuid.UUID(footprint_id)
    except ValueError:
        raise BadRequest("footprint id must be a UUID") from None
    reads = _reads(request.app)
    key = ("get", caller.company_id, footprint_id.lower())

    def read(ctx: NodeContext, issue_missing: bool) -> tuple[str, dict[str, Any], None, list[bytes]]:
        # the render key from a few columns first: the footprint and its product are loaded only to render anew
        visible = pact_reads.visible_footprint(ctx.session, caller.company_id, footprint_id)
        if visible is None:
            raise NotFound("footprint not found")
        raw = cached_renderings(ctx, [visible], caller.company_id)[0]
        if raw is None:
            fp, product = exchange.visible_footprint(ctx, caller.company_id, footprint_id)
            raw = exchange.rendered_json(ctx, fp, product, caller.company_id, issue_missing=issue_missing)
        return visible.id, {}, None, [raw]

    async def read_answer() -> tuple[tuple[str, bytes], int, bool]:
        subject, _, _, rendered, audited = await run_in_threadpool(
            _serve_read, request.app, caller.company_id, "pact.get", read
        )
        body = b'{"data":' + rendered[0] + b"}"
        return (subject, body), len(body), audited

    (subject, body), audited = await reads.answer(key, read_answer)
    if not audited:  # committed before any byte of the answer leaves
        await reads.audit.append(caller.company_id, "pact.get", subject)
    return _json(body)


@router.post("/events", summary="Events", status_code=200)
async def events(request: Request, caller: CallerDep) -> Response:
    """Receive a CloudEvent (structured mode); a repeated event id changes nothing. The body is read by the strict
    JSON parser and checked against the model of its event type (``exchange.events``) before anything is stored."""
    try:
        event = events_model.parse_event(strict_json_loads(await request.body()))
    except events_model.InvalidEvent as exc:
        raise BadRequest(str(exc)) from None
    except (ValueError, RecursionError) as exc:  # malformed, a duplicate member, NaN, a number out of range
        raise BadRequest(f"the body is not valid JSON: {str(exc)[:200]}") from None
    # one hop to the thread pool for the whole unit of work (the session dependency would add two more); the worker
    # is woken by write_session once the transaction that left messages for it has committed
    await run_in_threadpool(_receive_event, request.app, caller.company_id, event)
    return Response(status_code=200)


def _receive_event(app: Any, caller: str, event: dict[str, Any]) -> None:
    with write_session(app) as session:
        _process_event(NodeContext(session, app.state.settings, app.state.identity), caller, event)


def _process_event(ctx: NodeContext, caller: str, event: dict[str, Any]) -> None:
    key = f"{caller}|{event['id']}"[:200]
    if repo.inbox_first(ctx.session, key, event["source"][:500], event["type"], ctx.now()):
        exchange.handle_event(ctx, caller, event)  # else delivered before (or twice at the same moment): nothing
