"""The CX-0136 PCF API under ``/catenax``: the HTTP data address our EDC data plane proxies to.

* ``GET /catenax/footprintExchange/{requestId}?manufacturerPartId|customerPartId&message&dataModelVersion`` (1.2/1.3)
  and ``GET /catenax/productIds/{productId}?requestId&message`` (1.1, deprecated): a customer's request, answered 202;
  the PCF follows as a ``PUT`` to the customer's own PCF asset (the ``answer`` intent, through our EDC).
* ``PUT /catenax/footprintExchange/{requestId}[?update=true]`` and ``PUT /catenax/productIds/{productId}?requestId``:
  a supplier's PCF answering (or updating) our request, handed to the core's receipt.
* ``GET /catenax/submodel/{productId}[/$value]``: the synchronous PCF submodel of a product (digital twin href).

Every call needs the proxy secret the asset's data address sets (``catenax.api_key`` in the header
``catenax.api_key_header``: 401 otherwise) and the ``Edc-Bpn`` header the data plane sets (400 without it); the BPNL
names the partner, and so the grants, exactly as a PACT company id does: a product without a grant is 404 like a
missing one. Errors are ``{"code", "message"}`` JSON bodies, never a 500.
"""

from __future__ import annotations

import base64
import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ...api.deps import write_session
from ...errors import NotFound, ValidationFailed
from ...exchange import grants, receipt, requests
from ...services import attesting, audit
from ...services.context import NodeContext
from ...storage import bpn
from ...storage import repositories as repo
from . import api_doc, cache, pcf_model, reading, render
from .api_doc import ASK, ERROR_BODY, PART, PRODUCT_PATH, REQUEST_ID_PATH, VERSION, doc, param

PROTOCOL = "catenax"
router = APIRouter(prefix="/catenax", tags=["peer: Catena-X PCF API"])


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        body = pcf_model.json.dumps({"code": self.code, "message": self.message}).encode()
        return Response(content=body, status_code=self.status, media_type="application/json")


def _caller_bpnl(request: Request) -> str:
    """The calling company's BPNL, after the proxy secret is checked (ApiError otherwise)."""
    cx = request.app.state.settings.catenax
    secret = cx.api_key
    given = request.headers.getlist(cx.api_key_header)
    if secret is None:
        raise ApiError(401, "AccessDenied", "the PCF API is not enabled on this node (no proxy secret configured)")
    if len(given) != 1 or not hmac.compare_digest(given[0].encode(), secret.get_secret_value().encode()):
        raise ApiError(401, "AccessDenied", f"a valid {cx.api_key_header} header (the data plane's secret) is required")
    named = request.headers.getlist("edc-bpn")
    if len(named) > 1:  # which one the data plane set is unknowable: a caller's own copy must not choose the partner
        raise ApiError(400, "BadRequest", "more than one Edc-Bpn header")
    bpnl = (named[0] if named else "").strip().upper()
    if not bpnl:
        raise ApiError(400, "BadRequest", "the Edc-Bpn header (set by the EDC data plane) is required")
    if not api_doc.BPNL.match(bpnl):
        raise ApiError(400, "BadRequest", "the Edc-Bpn header is not a BPNL")
    return bpnl


def _version(request: Request) -> str:
    asked = request.query_params.get("dataModelVersion")
    if asked is None or asked == "":
        return pcf_model.DEFAULT_VERSION
    if asked not in pcf_model.SUPPORTED_VERSIONS:
        raise ApiError(
            400,
            "BadRequest",
            f"dataModelVersion {asked[:40]!r} is not supported; supported: {', '.join(pcf_model.SUPPORTED_VERSIONS)}",
        )
    return asked


def _request_id(value: str | None) -> str:
    if not value or not api_doc.REQUEST_ID.match(value):
        raise ApiError(400, "BadRequest", "requestId is required: letters, digits, ':', '.', '_' or '-', at most 200")
    return value


def _message(request: Request) -> str | None:
    message = request.query_params.get("message")
    if message is not None and len(message) > api_doc.MESSAGE_MAX:
        raise ApiError(400, "BadRequest", f"message is longer than {api_doc.MESSAGE_MAX} characters")
    return message or None


def encode_verifier(pem: str) -> str:
    return base64.urlsafe_b64encode(pem.encode()).decode().rstrip("=")


def _verifiers(request: Request) -> list[str]:
    values = request.query_params.getlist(api_doc.X_VERIFIERS)
    if len(values) > api_doc.VERIFIERS_MAX or any(len(v) > api_doc.VERIFIER_BYTES_MAX for v in values):
        raise ApiError(
            400,
            "BadRequest",
            f"at most {api_doc.VERIFIERS_MAX} {api_doc.X_VERIFIERS}, each at most {api_doc.VERIFIER_BYTES_MAX}",
        )
    out = []
    for value in values:
        try:
            pem = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "BadRequest", f"{api_doc.X_VERIFIERS} must be base64url PEM certificates") from None
        if "-----BEGIN CERTIFICATE-----" not in pem:
            raise ApiError(400, "BadRequest", f"{api_doc.X_VERIFIERS} must be base64url PEM certificates")
        out.append(pem)
    return out


def _partner(ctx: NodeContext, bpnl: str) -> Any:
    partner = bpn.partner_by_bpnl(ctx.session, bpnl)
    if partner is None:
        raise ApiError(403, "AccessDenied", f"{bpnl} is not a partner of this node")
    return partner


def _guarded(handler: Any) -> Any:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
        except NotFound as exc:
            return ApiError(404, "NotFound", str(getattr(exc, "detail", None) or exc)).response()
        except ValidationFailed as exc:
            return ApiError(400, "BadRequest", str(getattr(exc, "detail", None) or exc)).response()
        except ValueError as exc:
            return ApiError(400, "BadRequest", str(exc)[:300]).response()

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


# -- asynchronous requests ----------------------------------------------------------------------------------------


def _receive_request(
    app: Any, bpnl: str, request_id: str, part_id: str, message: str | None, verifiers: list[str]
) -> None:
    with write_session(app) as session:
        ctx = NodeContext(session, app.state.settings, app.state.identity)
        caller = _partner(ctx, bpnl).company_id
        if not repo.inbox_first(ctx.session, f"{caller}|{request_id}"[:200], bpnl, "catenax.request", ctx.now()):
            return  # the same request again: still accepted, nothing new
        audit.append(ctx.session, caller, "catenax.request.received", request_id, part=part_id)
        requests.receive_request(
            ctx,
            caller,
            request_id,
            product_ids=[part_id],
            message=message,
            due_date=None,
            verifier_certs=verifiers,
            protocol=PROTOCOL,
        )


async def _accepted(request: Request, bpnl: str, request_id: str, part_id: str) -> Response:
    _version(request)
    message = _message(request)
    verifiers = _verifiers(request)
    await run_in_threadpool(_receive_request, request.app, bpnl, request_id, part_id, message, verifiers)
    return Response(status_code=202)


@_guarded
async def footprint_exchange_get(request: Request) -> Response:
    """Ask for the PCF of one part (API 1.2/1.3): 202, the PCF follows as a PUT to the caller's PCF asset."""
    bpnl = _caller_bpnl(request)  # first: nothing is said to a caller without the data plane's secret
    request_id = _request_id(request.path_params.get("requestId"))
    query = request.query_params
    part = query.get("manufacturerPartId") or query.get("customerPartId")
    if not part:
        raise ApiError(400, "BadRequest", "manufacturerPartId or customerPartId is required")
    return await _accepted(request, bpnl, request_id, part)


@_guarded
async def product_ids_get(request: Request) -> Response:
    """Ask for the PCF of one product (API 1.1, deprecated): 202, the PCF follows as a PUT with the requestId."""
    bpnl = _caller_bpnl(request)
    request_id = _request_id(request.query_params.get("requestId"))
    return await _accepted(request, bpnl, request_id, request.path_params["productId"])


# -- answers -----------------------------------------------------------------------------------------------------


def _receive_pcf(app: Any, bpnl: str, request_id: str | None, document: dict[str, Any]) -> None:
    with write_session(app) as session:
        ctx = NodeContext(session, app.state.settings, app.state.identity)
        partner = _partner(ctx, bpnl)
        caller = partner.company_id
        audit.append(ctx.session, caller, "catenax.pcf.received", request_id or "")
        with reading.sent_by(bpnl, caller):
            if request_id is None:  # API 1.1 update: a new version of a PCF asked for before
                if not partner.is_supplier:
                    raise ApiError(403, "AccessDenied", "updates are taken from suppliers only")
                # a refusal, and one for a part we do not buy, is committed where our operator sees it (the audit)
                taken = receipt.receive_fetched(ctx, caller, document, protocol=PROTOCOL)
            else:
                try:
                    receipt.receive_answer(ctx, caller, request_id, [document], protocol=PROTOCOL)
                except requests.NotOurRequest:
                    raise ApiError(404, "NotFound", "requestId names no request this node sent to you") from None
                return
    if not taken.bought:
        raise ApiError(404, "NotFound", "no bill of materials line of ours buys this part from you")


async def _put(request: Request, bpnl: str, request_id: str | None) -> Response:
    try:
        document = pcf_model.loads(await request.body())
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise ApiError(400, "BadRequest", f"the body is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(document, dict):
        raise ApiError(400, "BadRequest", "the body must be a PCF JSON object")
    await run_in_threadpool(_receive_pcf, request.app, bpnl, request_id, document)
    return Response(status_code=200)


@_guarded
async def footprint_exchange_put(request: Request) -> Response:
    """A supplier's PCF for our request ``requestId`` (``update=true``: a new version of one sent before)."""
    bpnl = _caller_bpnl(request)
    return await _put(request, bpnl, _request_id(request.path_params.get("requestId")))


@_guarded
async def product_ids_put(request: Request) -> Response:
    """API 1.1: a PCF answering ``requestId``, or without it an update of one sent before."""
    bpnl = _caller_bpnl(request)
    raw = request.query_params.get("requestId")
    return await _put(request, bpnl, _request_id(raw) if raw is not None else None)


# -- synchronous submodel ----------------------------------------------------------------------------------------


def _read_submodel(app: Any, bpnl: str, product_urn: str, version: str) -> tuple[tuple[str, str, bytes], bool]:
    """((caller, footprint id, PCF bytes), audited) in a read-only transaction; again in a write one when the
    caller's attestation must be issued first (its first read), audited there."""
    settings, identity = app.state.settings, app.state.identity

    def read(ctx: NodeContext, issue_missing: bool) -> tuple[str, str, bytes]:
        partner = bpn.partner_by_bpnl(ctx.session, bpnl)
        products = repo.products_by_urns(ctx.session, [product_urn])
        if partner is None or not products:
            raise NotFound("no PCF for this product")
        product = products[0]
        granted = grants.has_grant(ctx, product.id, partner.company_id)
        fp = repo.active_footprint(ctx.session, product.id) if granted else None
        if fp is None:
            raise NotFound("no PCF for this product")  # not granted answers exactly like missing
        try:
            body = render.pcf_bytes(ctx, fp, product, partner.company_id, version=version, issue_missing=issue_missing)
        except pcf_model.NotExpressible as exc:
            raise ApiError(422, "NotExpressible", str(exc)) from None
        return partner.company_id, fp.id, body

    with Session(cache.reader(app), expire_on_commit=False) as session:
        try:
            ctx = NodeContext(session, settings, identity)
            found = render.remembered_pcf(ctx, bpnl, product_urn, version) or read(ctx, False)
            session.rollback()
            return found, False
        except attesting.NotIssuedYet:
            session.rollback()
    with write_session(app) as session:
        found = read(NodeContext(session, settings, identity), True)
        audit.append(session, found[0], "catenax.get", found[1])
    return found, True


def _audit_writer(app: Any) -> audit.AuditWriter:
    found = getattr(app.state, "catenax_audit", None)
    if found is None:
        found = app.state.catenax_audit = audit.AuditWriter(app.state.engine)
    return found


def close(app: Any) -> None:
    found = getattr(app.state, "catenax_audit", None)
    if found is not None:
        found.close()


@_guarded
async def submodel_get(request: Request) -> Response:
    """The PCF of a product we granted the caller (value-only JSON); 404 when there is none for it."""
    bpnl = _caller_bpnl(request)
    version = _version(request)
    product_urn = request.path_params["productId"]
    answers = cache.cache_of(request.app)
    key = (bpnl, product_urn.lower(), version)
    hit, audited = answers.get(key), False
    if hit is None:
        generation = cache.generation()
        found, audited = await run_in_threadpool(_read_submodel, request.app, bpnl, product_urn, version)
        answers.put(key, found, generation, len(found[2]))
    else:
        found = hit
        cache.refresh(request.app)  # confirm what is about to expire, in the background
    caller, subject, body = found
    if not audited:  # committed before any byte of the answer leaves (one group commit for many readers)
        await _audit_writer(request.app).append(caller, "catenax.get", subject)
    return Response(content=body, media_type="application/json")


_ROUTES = (
    ("/footprintExchange/{requestId}", "GET", footprint_exchange_get, "footprintExchange request (202)",
     doc(202, "accepted: the PCF follows as a PUT", [REQUEST_ID_PATH, *PART, VERSION, *ASK])),
    ("/footprintExchange/{requestId}", "PUT", footprint_exchange_put, "footprintExchange answer or update",
     doc(200, "taken", [REQUEST_ID_PATH, param("update", "query", "true: a new version")], body=True)),
    ("/productIds/{productId:path}", "GET", product_ids_get, "productIds request (API 1.1, 202)",
     doc(202, "accepted: the PCF follows as a PUT",
          [PRODUCT_PATH, param("requestId", "query", "the request id", True), *ASK])),
    ("/productIds/{productId:path}", "PUT", product_ids_put, "productIds answer or update (API 1.1)",
     doc(200, "taken", [PRODUCT_PATH, param("requestId", "query", "our request (none: an update)")], body=True)),
    ("/submodel/{productId}/$value", "GET", submodel_get, "PCF submodel, value-only",
     doc(200, "the PCF (value-only JSON)", [PRODUCT_PATH, VERSION])),
    ("/submodel/{productId:path}", "GET", submodel_get, "PCF submodel",
     doc(200, "the PCF (value-only JSON)", [PRODUCT_PATH, VERSION])),
)  # fmt: skip
for _path, _method, _endpoint, _summary, _extra in _ROUTES:
    if _endpoint is submodel_get:
        _extra["responses"]["422"] = {"description": "NotExpressible: io.catenax.pcf has no place for the footprint",
                                      "content": ERROR_BODY}  # fmt: skip
    router.add_api_route(
        _path,
        _endpoint,
        methods=[_method],
        summary=_summary,
        response_class=Response,
        status_code=202 if "202" in _extra["responses"] else 200,
        openapi_extra=_extra,
    )


def routes_first(app: Any) -> None:
    """The submodel GET early in the app's route table (after the routes other protocols put first, PACT's reads),
    before the operator API, hidden from the OpenAPI document."""
    first = [r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is submodel_get]
    for route in first:
        app.router.add_api_route(
            route.path, route.endpoint, methods=["GET"], name=f"{route.name}_first", include_in_schema=False
        )
    routes = app.router.routes
    added = routes[len(routes) - len(first) :]
    del routes[len(routes) - len(first) :]
    at = next((i for i, r in enumerate(routes) if not str(getattr(r, "name", "")).endswith("_first")), len(routes))
    routes[at:at] = added
