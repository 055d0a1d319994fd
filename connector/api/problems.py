"""Errors to responses: RFC 9457 problem+json on the operator API, each protocol's own error body on its paths (PACT
and Catena-X ``{code, message}``, Ouranos DTS ``{code, message, detail}``), for the errors raised before a
protocol's handler runs too (an unknown path or method, a body over the limit)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ConnectorError, InvalidSignature, Unavailable
from ..protocols.ouranos.wire import DtsError, error_response

log = logging.getLogger("connector.api")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://battery-cfp-connector.dev/problems/"

_STATUS_PACT = {
    400: "BadRequest",
    401: "AccessDenied",
    403: "AccessDenied",
    404: "NotFound",
    405: "BadRequest",
    413: "BadRequest",
    415: "BadRequest",
    422: "BadRequest",
    500: "InternalError",
    501: "NotImplemented",
}


def is_pact_path(request: Request) -> bool:
    return request.url.path.startswith("/3/") or request.url.path == "/3"


_DTS_PATHS = ("/api/v1/datatransport", "/api/v1/authInfo")
_DTS_LOGIN = {"/auth/login": "login", "/auth/refresh": "refresh", "/auth/change": "change"}


def protocol_error(path: str, method: str, query: str, status: int, detail: str) -> Response | None:
    """The error in the form of the protocol whose path this is: Catena-X's ``{code, message}`` under
    ``/catenax``, DTS's ``{code, message, detail}`` on the Ouranos routes; None elsewhere (PACT is ``problem``'s)."""
    if path == "/catenax" or path.startswith("/catenax/"):
        code = _STATUS_PACT.get(status, "BadRequest")
        return JSONResponse({"code": code, "message": detail}, status_code=status)
    dts = path in _DTS_LOGIN or any(path == p or path.startswith(p + "/") for p in _DTS_PATHS)
    if dts:
        target = _DTS_LOGIN.get(path) or (parse_qs(query).get("dataTarget") or [""])[0][:100]
        source = "auth" if path in _DTS_LOGIN else "dataspace"
        return error_response(DtsError(status, detail, source=source), target, method)
    return None


def problem(
    request: Request,
    status: int,
    type_: str,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    pact_code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if is_pact_path(request):
        code = pact_code or _STATUS_PACT.get(status, "BadRequest")
        return JSONResponse({"code": code, "message": detail}, status_code=status, headers=headers)
    own = protocol_error(request.url.path, request.method, request.url.query, status, detail)
    if own is not None:
        own.headers.update(headers or {})
        return own
    body: dict[str, Any] = {
        "type": TYPE_BASE + type_,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        message = err.get("msg", "invalid")
        reason = (err.get("ctx") or {}).get("error") if err.get("type") == "json_invalid" else None
        if reason:  # what the (strict) parser refused: a duplicate member, NaN, a number out of range, ...
            message = f"{message}: {reason}"
        out.append({"field": ".".join(loc) or "body", "message": message, "type": err.get("type")})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ConnectorError)
    async def _connector_error(request: Request, exc: ConnectorError) -> Response:
        if isinstance(exc, InvalidSignature):
            log.warning("refused: %s", exc.reason)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        retry_after = getattr(exc, "retry_after", None)  # Unavailable, TooManyLogins
        if retry_after is not None:
            headers = {"Retry-After": str(retry_after)}
        return problem(request, exc.status, exc.type_, exc.title, exc.detail, exc.errors, exc.pact_code, headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        errors = _field_errors(exc)
        invalid = [e for e in errors if e["type"] == "json_invalid"]
        if invalid:
            why = invalid[0]["message"].removeprefix("JSON decode error").lstrip(": ")
            return problem(
                request,
                400,
                "malformed-json",
                "Malformed JSON",
                "the request body is not valid JSON" + (f": {why}" if why else ""),
                errors,
            )
        return problem(
            request,
            422,
            "validation-error",
            "Invalid input",
            f"{len(errors)} invalid field(s): " + ", ".join(e["field"] for e in errors),
            errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        title = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}.get(
            exc.status_code, "Error"
        )
        return problem(
            request,
            exc.status_code,
            title.lower().replace(" ", "-"),
            title,
            str(exc.detail),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> Response:
        if not (exc.connection_invalidated or isinstance(exc, OperationalError)):
            return await _unexpected(request, exc)
        log.warning("database unavailable on %s: %s", request.url.path, exc.orig)
        return await _connector_error(request, Unavailable("the database cannot be reached; retry shortly"))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path)
        return problem(
            request, 500, "internal-error", "Internal error", "an unexpected error occurred; see the node log"
        )
