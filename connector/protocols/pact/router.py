"""PACT v3: ListFootprints, GetFootprint and Events, with PACT error bodies."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ...api.deps import write_session
from ...errors import NotFound
from ...exchange import grants
from ...services.context import NodeContext
from ...storage import pact_reads
from ...storage import repositories as repo
from ...strict_json import strict_json_loads
from . import events as events_model
from . import inbound, render_cache
from .deps import CallerDep, get_caller
from .query import BadRequest, ListQuery, matches, parsed_query
from .reads import cached_renderings, close, reads_of, render_window, serve_read

__all__ = ["close", "render_window", "router", "routes_first"]

router = APIRouter(prefix="/3", tags=["peer: PACT v3"])


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
            methods=sorted(route.methods or ()),
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
    answer's cost), and parsed once per distinct query string (:func:`.query.parsed_query`). Served by
    :func:`routes_first`; ``list_footprints`` documents the parameters."""
    caller = await get_caller(request)  # first, as a dependency would be (called here: one FastAPI layer less)
    return await _answer_list(request, caller, parsed_query(request.scope["query_string"]))


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
    reads = reads_of(request.app)
    key = ("list", caller.company_id, size, *query.key())

    def read(ctx: NodeContext, issue_missing: bool) -> tuple[str, dict[str, Any], int, list[bytes]]:
        selected = [
            (fp, p)
            for fp, p in grants.visible_footprints(ctx, caller.company_id)
            if matches(fp, p, ctx.company_id, **filters)
        ]
        window = selected[start : start + size]
        rendered = render_window(ctx, window, caller.company_id, issue_missing=issue_missing)
        return "", {"returned": len(window)}, len(selected), rendered

    async def read_answer() -> tuple[tuple[int, int, bytes], int, bool]:
        _, details, total, rendered, audited = await run_in_threadpool(
            serve_read, request.app, caller.company_id, "pact.list", read
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
    reads = reads_of(request.app)
    key = ("get", caller.company_id, footprint_id.lower())

    def read(ctx: NodeContext, issue_missing: bool) -> tuple[str, dict[str, Any], None, list[bytes]]:
        # the render key from a few columns first: the footprint and its product are loaded only to render anew
        visible = pact_reads.visible_footprint(ctx.session, caller.company_id, footprint_id)
        if visible is None:
            raise NotFound("footprint not found")
        raw = cached_renderings(ctx, [visible], caller.company_id)[0]
        if raw is None:
            fp, product = grants.visible_footprint(ctx, caller.company_id, footprint_id)
            raw = render_cache.rendered_json(ctx, fp, product, caller.company_id, issue_missing=issue_missing)
        return visible.id, {}, None, [raw]

    async def read_answer() -> tuple[tuple[str, bytes], int, bool]:
        subject, _, _, rendered, audited = await run_in_threadpool(
            serve_read, request.app, caller.company_id, "pact.get", read
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
    JSON parser and checked against the model of its event type (``protocols.pact.events``) before anything is stored."""
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
        inbound.handle_event(ctx, caller, event)  # else delivered before (or twice at the same moment): nothing
