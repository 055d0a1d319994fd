"""The browser console at ``/console``: server-rendered pages over the node's use cases (docs/console.md).

``install(app)`` adds its routes, its static files and its error pages; ``/`` sends browsers here.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import ConnectorError
from . import routes_auth, routes_declare, routes_exchange, routes_products, routes_verify
from .forms import core_message
from .headers import ConsoleHeaders
from .i18n import N_
from .render import PREFIX, finish, page, under_console
from .session import LoginRequired, NotAllowed, anonymous, remember

STATIC = Path(__file__).parent / "static"
REFUSALS = {
    "csrf": N_("This form has expired or did not come from this console. Reload the page and try again."),
    "role": N_("Your role does not allow this change. Ask an administrator."),
}
HTTP_ERRORS = {
    404: (N_("Page not found"), N_("There is no page at this address.")),
    405: (N_("Not possible here"), N_("This address does not take this kind of request.")),
    413: (N_("Too large"), N_("What was sent is larger than this node accepts.")),
}
"""A browser's page for an error raised before any console route ran: an unknown path or method, a body too large."""
OTHER_ERROR = (N_("Not possible"), N_("This request could not be served."))
__all__ = ["ConsoleHeaders", "install"]


async def _call(handler: Any, request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    return await result if inspect.isawaitable(result) else result


def _console(request: Request) -> bool:
    return under_console(request.url.path)


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def install(app: FastAPI) -> None:
    for module in (routes_auth, routes_products, routes_exchange, routes_declare, routes_verify):
        app.include_router(module.router, prefix=PREFIX, include_in_schema=False)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")

    @app.get("/", include_in_schema=False)
    def root(request: Request) -> Response:
        """Browsers go to the console; anything else to the API documentation."""
        accept = request.headers.get("accept", "")
        return RedirectResponse(f"{PREFIX}/" if "text/html" in accept else "/docs", status_code=303)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        remember(request, None)
        query = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = f"{PREFIX}/login?next={quote(query if request.method == 'GET' else PREFIX + '/', safe='/')}"
        if exc.expired:
            target += "&expired=1"
        anonymous(request)
        return finish(request, RedirectResponse(target, status_code=303))

    @app.exception_handler(NotAllowed)
    async def _refused(request: Request, exc: NotAllowed) -> Response:
        return page(request, "refused.html.j2", status=403, message=REFUSALS[exc.reason])

    api_error = app.exception_handlers[ConnectorError]
    api_invalid = app.exception_handlers[RequestValidationError]
    api_http = app.exception_handlers[StarletteHTTPException]

    async def _error(request: Request, exc: Any) -> Response:
        if not _console(request):
            return await _call(api_error, request, exc)
        return page(request, "refused.html.j2", status=exc.status, message=core_message(exc))

    async def _invalid(request: Request, exc: Any) -> Response:
        if not _console(request):
            return await _call(api_invalid, request, exc)
        return page(request, "refused.html.j2", status=422, message=N_("The form was not complete or too long."))

    async def _http(request: Request, exc: Any) -> Response:
        """A browser gets a page in the console's style; another client the API's problem+json (the console's
        headers are added to that by ``ConsoleHeaders``)."""
        if not (_console(request) and _wants_html(request)):
            return await _call(api_http, request, exc)
        title, message = HTTP_ERRORS.get(exc.status_code, OTHER_ERROR)
        response = page(request, "error.html.j2", status=exc.status_code, title=title, message=message)
        response.headers.update(getattr(exc, "headers", None) or {})  # a 405's Allow
        return response

    app.add_exception_handler(ConnectorError, _error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
