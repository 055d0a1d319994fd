"""The DTS routes: ``/api/v1/datatransport`` (one URL, multiplexed by ``dataTarget``), ``/api/v1/authInfo`` and
``/auth/login|refresh|change``. Every call but the health checks carries both the ``apiKey`` header (one of the
node's API keys: the application's) and ``Authorization: Bearer`` (an operator account's access token, from
``/auth/login``); the login routes carry the API key only. Every answer, errors included, is in DTS's shapes: the
handlers parse the query and body themselves, so no FastAPI validation error or problem+json ever reaches these
paths."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from ...api.deps import write_session
from ...errors import ConnectorError, Forbidden, Unauthenticated, Unavailable
from ...services import api_keys
from ...services.context import NodeContext
from ...services.login_throttle import client_address, throttle_of
from ...storage import write_generation
from . import authinfo, cfp, login, mapping, parts, trades
from .cache import AnswerCache
from .call import Call
from .wire import DtsError, error_response, json_response

log = logging.getLogger("connector.ouranos")
router = APIRouter(include_in_schema=False)
ALL = ["GET", "PUT", "DELETE", "POST", "PATCH"]

Handler = Callable[[Call], Response]
DATATRANSPORT: dict[tuple[str, str], Handler] = {
    ("GET", "parts"): parts.get_parts,
    ("PUT", "parts"): parts.put_parts,
    ("DELETE", "parts"): parts.delete_parts,
    ("GET", "partsStructure"): parts.get_structure,
    ("PUT", "partsStructure"): parts.put_structure,
    ("GET", "tradeRequest"): trades.get_trade_requests,
    ("PUT", "tradeRequest"): trades.put_trade_request,
    ("GET", "tradeResponse"): trades.get_trade_responses,
    ("PUT", "tradeResponse"): trades.put_trade_response,
    ("GET", "status"): trades.get_status,
    ("PUT", "status"): trades.put_status,
    ("GET", "cfp"): cfp.get_cfp,
    ("PUT", "cfp"): cfp.put_cfp,
    ("GET", "cfpCertification"): cfp.get_certifications,
}
AUTHINFO: dict[tuple[str, str], Handler] = {
    ("GET", "operator"): authinfo.get_operator,
    ("PUT", "operator"): authinfo.put_operator,
    ("GET", "plant"): authinfo.get_plant,
    ("PUT", "plant"): authinfo.put_plant,
}


def _from_core(exc: ConnectorError) -> DtsError:
    if isinstance(exc, Unauthenticated):
        return DtsError(401, "Invalid or expired token", source="auth")
    if isinstance(exc, Forbidden):
        return DtsError(403, "You do not have the necessary privileges", source="auth")
    if isinstance(exc, Unavailable):
        return DtsError(503, exc.detail, source="dataspace")
    return DtsError(400, exc.detail, source="traceability")


def _one_api_key(request: Request) -> DtsError | None:
    """A 403 for a request carrying ``apiKey`` more than once, as for a missing or wrong key (the Catena-X API refuses
    its repeated secret alike): which copy is the application's is unknowable, and a first-wins read would let a
    proxy's or a caller's copy choose."""
    if len(request.headers.getlist("apiKey")) > 1:
        return DtsError(403, "more than one apiKey header", source="auth")
    return None


def _authenticate(call: Call, request: Request, *, bearer: bool) -> Any:
    """The API key (403 when missing or wrong), then the access token (401); the token's user, or None."""
    presented = request.headers.get("apiKey")
    if not presented:
        raise DtsError(403, "You do not have the necessary privileges", source="auth")
    try:
        api_keys.authenticate(call.ctx.session, presented)
    except Unauthenticated:
        raise DtsError(403, "Invalid key", source="auth") from None
    if not bearer:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise DtsError(401, "Authentication required", source="auth")
    found = login.bearer_role(call, token.strip())
    if found is None:
        raise DtsError(401, "Invalid or expired token", source="auth")
    call.role, user = found
    return user


def _answers(request: Request) -> AnswerCache[bytes]:
    found = getattr(request.app.state, "ouranos_answers", None)
    if found is None:
        found = request.app.state.ouranos_answers = AnswerCache(request.app.state.settings.pact_read_cache_ttl)
    return found


def _cache_key(request: Request) -> tuple[str, str, bytes]:
    headers = request.headers
    return (headers.get("apiKey", ""), headers.get("Authorization", ""), request.scope.get("query_string", b""))


async def _serve(request: Request, target: str, run: Callable[[Call, Request], Response | DtsError]) -> Response:
    method = request.method
    settings = request.app.state.settings
    if not settings.corporate_number:
        return error_response(
            DtsError(404, "Endpoint Not Found (the Ouranos API is off: set CONNECTOR_CORPORATE_NUMBER)"), target, method
        )
    if (repeated := _one_api_key(request)) is not None:  # before the answer cache, which is keyed by the key
        return error_response(repeated, target, method)
    cacheable = method == "GET" and request.url.path == "/api/v1/datatransport"
    if cacheable:
        hit = _answers(request).get(_cache_key(request))
        if hit is not None:  # the same credentials and query, no relevant write since: no session at all
            return Response(hit, media_type="application/json", headers={"x-track": str(uuid.uuid4())})
        read_generation = write_generation.generation()  # before the read's transaction begins
    raw = await request.body() if method in ("PUT", "POST") else b""
    query = {key: value for key, value in request.query_params.items()}
    base = str(request.base_url).rstrip("/")

    def work() -> Response:
        failure: DtsError | None = None
        with write_session(request.app) as session:
            ctx = NodeContext(session=session, settings=settings, identity=request.app.state.identity)
            call = Call(ctx, method, target, query, raw, base)
            result = run(call, request)
            if isinstance(result, DtsError):
                failure = result  # committed first: a failed login's counter is part of the answer
            else:
                return result
        raise failure

    try:
        response = await run_in_threadpool(work)
        if cacheable and response.status_code == 200 and "link" not in response.headers:
            body = bytes(response.body)
            _answers(request).put(_cache_key(request), body, read_generation, len(body))
        return response
    except DtsError as exc:
        return error_response(exc, target, method)
    except ConnectorError as exc:
        return error_response(_from_core(exc), target, method)
    except Exception:  # noqa: BLE001 - an answer in DTS's form, never problem+json, on these paths
        log.exception("unhandled error on %s %s", method, request.url.path)
        return error_response(DtsError(500, "Unexpected error occurred"), target, method)


def _dispatch(table: dict[tuple[str, str], Handler], known: set[str]) -> Callable[[Call, Request], Response]:
    def run(call: Call, request: Request) -> Response:
        target = call.query.get("dataTarget", "")
        if call.method not in ("GET", "PUT", "DELETE") or (call.method, target) not in table:
            _authenticate(call, request, bearer=True)
            if target not in known:
                raise DtsError(400, "Invalid request parameters, dataTarget: Unexpected query parameter")
            raise DtsError(404, "Endpoint Not Found")
        _authenticate(call, request, bearer=True)
        return table[(call.method, target)](call)

    return run


_DT_TARGETS = {target for _, target in DATATRANSPORT}
_AI_TARGETS = {target for _, target in AUTHINFO}


@router.api_route("/api/v1/datatransport", methods=ALL)
async def datatransport(request: Request) -> Response:
    return await _serve(request, request.query_params.get("dataTarget", ""), _dispatch(DATATRANSPORT, _DT_TARGETS))


@router.api_route("/api/v1/authInfo", methods=ALL)
async def auth_info(request: Request) -> Response:
    return await _serve(request, request.query_params.get("dataTarget", ""), _dispatch(AUTHINFO, _AI_TARGETS))


@router.get("/api/v1/datatransport/cfpCertificationFiles/{file_id}")
async def certification_file(request: Request, file_id: str) -> Response:
    """Not a DTS route (DTS has no download): the file a ``cfpCertificationFileInfo`` names, with both credentials."""

    def run(call: Call, request: Request) -> Response:
        _authenticate(call, request, bearer=True)
        return cfp.certification_file(call, mapping.require_uuid(file_id, "fileId"))

    return await _serve(request, "cfpCertificationFiles", run)


@router.get("/api/v1/datatransport/health")
@router.get("/api/v1/authInfo/health")
async def health(request: Request) -> Response:
    return json_response({"isSystemHealthy": True})


def _login_route(handler: Callable[[Call], Response | DtsError]) -> Callable[[Call, Request], Response | DtsError]:
    def run(call: Call, request: Request) -> Response | DtsError:
        if call.method != "POST":
            raise DtsError(404, "Endpoint Not Found", source="auth")
        _authenticate(call, request, bearer=False)
        return handler(call)

    return run


def _change(call: Call, request: Request) -> Response:
    if call.method != "POST":
        raise DtsError(404, "Endpoint Not Found", source="auth")
    user = _authenticate(call, request, bearer=True)
    return login.change(call, user)


@router.api_route("/auth/login", methods=ALL)
async def auth_login(request: Request) -> Response:
    throttle, address = throttle_of(request.app), client_address(request)
    return await _serve(request, "login", _login_route(lambda call: login.login(call, throttle, address)))


@router.api_route("/auth/refresh", methods=ALL)
async def auth_refresh(request: Request) -> Response:
    return await _serve(request, "refresh", _login_route(login.refresh))


@router.api_route("/auth/change", methods=ALL)
async def auth_change(request: Request) -> Response:
    return await _serve(request, "change", _change)


def install(app: FastAPI) -> None:
    """Add the routes to the app itself, at the front of its route table (PACT's adapter puts its own before them
    when the app starts): tried in order, a DTS read would otherwise first fail to match the whole operator API."""
    ours = [route for route in router.routes if isinstance(route, APIRoute)]
    for route in ours:
        app.router.add_api_route(
            route.path, route.endpoint, methods=sorted(route.methods or ()), name=route.name, include_in_schema=False
        )
    routes = app.router.routes
    added = routes[len(routes) - len(ours) :]
    del routes[len(routes) - len(ours) :]
    routes[0:0] = added
