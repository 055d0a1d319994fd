"""Rendering console pages: the Jinja2 environment, the language of a request, the headers every page carries."""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from . import charts, i18n
from .forms import NOTICES, Outcome
from .session import COOKIE, SessionData, Viewer, seal

PREFIX = "/console"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
"""No inline script or style anywhere in the console: the charts are inline SVG with presentation attributes."""
PRIVATE = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""The headers of a private page: every answer under the console carries them (``headers.ConsoleHeaders``)."""


def under_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("connector.console", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(charts=charts, stages=list(i18n.STAGE_NAMES), prefix=PREFIX)
    return env


def translator(request: Request) -> i18n.Translator:
    lang = getattr(request.state, "console_lang", None)
    if lang is None:
        lang = i18n.choose(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))
        request.state.console_lang = lang
    return i18n.Translator(lang)


def here(request: Request) -> str:
    """This page's path and query, for the language switch and the login page's way back.

    A refused form's page answers a POST, whose path has no page to GET (a 405): the way back is then the page the
    form was on (the Referer, sent within the site), else the dashboard."""
    if request.method in ("GET", "HEAD"):
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{request.url.path}{query}"
    came = urlsplit(request.headers.get("referer", ""))
    if came.netloc == request.url.netloc and came.path.startswith(PREFIX + "/"):
        return came.path + (f"?{came.query}" if came.query else "")
    return f"{PREFIX}/"


def finish(request: Request, response: Response) -> Response:
    """Every console response: the session cookie (renewed, or cleared) and the headers of a private page."""
    if hasattr(request.state, "console_cookie"):
        data: SessionData | None = request.state.console_cookie
        if data is None:
            response.delete_cookie(COOKIE, path=PREFIX, secure=True, httponly=True, samesite="strict")
        else:
            response.set_cookie(COOKIE, seal(request, data), path=PREFIX, secure=True, httponly=True, samesite="strict")
    response.headers.update(PRIVATE)
    return response


def page(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None = None,
    status: int = 200,
    outcome: Outcome | None = None,
    **values: Any,
) -> Response:
    """``template`` rendered for ``viewer``; a form's failed ``outcome`` makes it a 422 with the outcome's error.

    Messages (``error``, ``message``, the per-field ``errors``) are put in the reader's language here."""
    if outcome is not None and not outcome.ok:
        status = 422
    if outcome is not None:
        values.setdefault("error", outcome.error)
    t = translator(request)
    for key in ("error", "message"):
        if isinstance(values.get(key), i18n.Message):
            values[key] = t.message(values[key])
    if values.get("errors"):
        values["errors"] = {name: t.message(text) for name, text in values["errors"].items()}
    csrf = viewer.csrf if viewer else getattr(getattr(request.state, "console_cookie", None), "csrf", "")
    settings = request.app.state.settings
    html = (
        environment()
        .get_template(template)
        .render(
            t=t,
            _=t.gettext,
            lang=t.lang,
            viewer=viewer,
            csrf=csrf,
            here=here(request),
            here_quoted=quote(here(request), safe=""),
            company=settings.company_name,
            company_id=settings.company_id,
            node_role=request.app.state.identity.role if request.app.state.identity else None,
            notice=request.query_params.get("done"),
            **{"notices": NOTICES, "error": None, "active": "", "errors": {}, **values},
        )
    )
    return finish(request, HTMLResponse(html, status_code=status))


def redirect(request: Request, path: str, **query: str) -> Response:
    target = f"{PREFIX}{path}" + (f"?{urlencode(query)}" if query else "")
    return finish(request, RedirectResponse(target, status_code=303))
