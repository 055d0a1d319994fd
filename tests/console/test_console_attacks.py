"""Hostile use of the console over HTTP: every state-changing form without its CSRF token, with another session's,
or from a role that may not use it; a session cookie planted before login; redirects off the console; partner text
holding markup; the headers of every page; uploads that are no bundle. Each case here holds; kept so it stays held."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlmodel import Session

from connector.console import routes_auth, routes_declare, routes_exchange, routes_products, routes_verify
from connector.console import session as console_session
from connector.console.render import PREFIX
from connector.services import accounts, catalog
from connector.services import models as m
from connector.services.context import NodeContext

from .test_session import Console, _csrf, _emissions, _log_in, console  # noqa: F401 - console is a fixture

pytestmark = pytest.mark.asyncio
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
OPEN_OFF = ("login", "logout")


def _forms(app: Any) -> list[tuple[str, str]]:
    """Every POST route of the console but login and logout: (path with its parameters filled in, role needed)."""
    out = []
    for module in (routes_auth, routes_products, routes_exchange, routes_declare, routes_verify):
        for route in module.router.routes:
            if not isinstance(route, APIRoute) or "POST" not in (route.methods or ()):
                continue
            if route.path.rsplit("/", 1)[1] in OPEN_OFF:
                continue
            path = PREFIX + re.sub(r"\{[^}]+\}", "x", route.path)
            out.append((path, "verify" if path == f"{PREFIX}/verify" else "editor"))
    return out


@asynccontextmanager
async def _logged_in(console: Console, login: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:  # noqa: F811
    async with console.client() as client:
        assert (await _log_in(client, login)).status_code == 303
        yield client, _csrf((await client.get("/console/")).text)


async def test_there_are_forms_to_attack(console: Console) -> None:  # noqa: F811
    paths = {p for p, _ in _forms(console.app)}
    assert len(paths) >= 15 and "/console/grants" in paths and "/console/verify" in paths


async def test_every_form_refuses_a_missing_or_foreign_csrf_token(console: Console) -> None:  # noqa: F811
    async with _logged_in(console, "editor") as (editor, _), _logged_in(console, "verifier") as (_, foreign):
        for path, _role in _forms(console.app):
            for data in ({}, {"csrf": ""}, {"csrf": "x" * 32}, {"csrf": foreign}):
                r = await editor.post(path, data=data)
                assert r.status_code == 403, (path, data, r.status_code)
                assert "did not come from this console" in r.text
                assert r.headers["content-security-policy"] == console_session_csp()
            r = await editor.post(path, json={"csrf": foreign})  # not a form at all
            assert r.status_code == 403, path
    assert _emissions(console) == []


def console_session_csp() -> str:
    from connector.console.render import CSP

    return CSP


@pytest.mark.parametrize("login", ["viewer", "verifier", "editor"])
async def test_every_form_refuses_a_role_that_may_not_use_it(console: Console, login: str) -> None:  # noqa: F811
    async with _logged_in(console, login) as (client, csrf):
        for path, role in _forms(console.app):
            r = await client.post(path, data={"csrf": csrf})
            if accounts.role_allows(login, role):
                assert r.status_code != 403 or "role does not allow" not in r.text, path
            else:
                assert r.status_code == 403 and "role does not allow" in r.text, (login, path, r.status_code)
    assert _emissions(console) == []


async def test_a_cookie_planted_before_login_is_worth_nothing_after(console: Console) -> None:  # noqa: F811
    async with console.client() as attacker:
        planted = (await attacker.get("/console/login")).cookies[console_session.COOKIE]
        planted_csrf = _csrf((await attacker.get("/console/login")).text)
    async with console.client() as victim:
        victim.cookies.set(console_session.COOKIE, planted, domain="node.test", path="/console")
        page = await victim.get("/console/login")
        assert _csrf(page.text) == planted_csrf  # the anonymous session is kept until login...
        r = await victim.post(
            "/console/login", data={"login": "editor", "password": "a long enough password", "csrf": planted_csrf}
        )
        assert r.status_code == 303
        after = victim.cookies[console_session.COOKIE]
        assert after != planted
        assert _csrf((await victim.get("/console/")).text) != planted_csrf  # ...and replaced at login
    async with console.client() as attacker:  # the planted cookie itself never became a session
        attacker.cookies.set(console_session.COOKIE, planted, domain="node.test", path="/console")
        r = await attacker.get("/console/")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")


OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/console\\@evil.example",
    "javascript:alert(1)",
    "data:text/html,x",
    " https://evil.example",
    "https:evil.example",
    "/%2F%2Fevil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
async def test_no_next_parameter_leads_off_the_console(console: Console, target: str) -> None:  # noqa: F811
    async with console.client() as client:
        r = await client.get("/console/lang/ja", params={"next": target})
        assert r.status_code == 303 and r.headers["location"] == "/console/"
        page = await client.get("/console/login", params={"next": target})
        assert 'name="next" value="/console/"' in page.text
        r = await client.post(
            "/console/login",
            data={"login": "editor", "password": "a long enough password", "csrf": _csrf(page.text), "next": target},
        )
        assert r.headers["location"] == "/console/"


async def test_a_line_break_in_next_never_splits_the_header(console: Console) -> None:  # noqa: F811
    async with console.client() as client:
        r = await client.get("/console/lang/en", params={"next": "/console/\r\nSet-Cookie: a=b"})
        assert "\n" not in r.headers["location"] and "a" not in client.cookies


def _hostile_data(console: Console) -> str:  # noqa: F811
    with Session(console.engine) as session:
        ctx = NodeContext(session, console.app.state.settings, console.app.state.identity)
        product = catalog.create_product(
            ctx,
            m.ProductCreate.model_validate(
                {"productIds": ["urn:pact:test.example:product:hostile"], "name": HOSTILE, "declaredUnit": "piece"}
            ),
        )
        catalog.create_partner(
            ctx,
            m.PartnerCreate.model_validate(
                {"companyId": "urn:pact:evil.example:company:evil", "name": HOSTILE, "isCustomer": True}
            ),
        )
        session.commit()
        return product.id


async def test_partner_and_product_text_is_escaped_everywhere_it_shows(console: Console) -> None:  # noqa: F811
    product = _hostile_data(console)
    async with _logged_in(console, "editor") as (client, _):
        for path in (
            "/console/",
            "/console/products",
            f"/console/products/{product}",
            "/console/partners",
            "/console/requests",
            f"/console/products?q={HOSTILE}",
            f"/console/products?done={HOSTILE}",
            f"/console/products?page={HOSTILE}",
            f"/console/products/{HOSTILE.replace('/', '%2F')}",
        ):
            r = await client.get(path)
            if r.headers["content-type"].startswith("text/html"):
                assert "<script>alert" not in r.text and "<img src=x" not in r.text, path
                assert r.headers["content-security-policy"] == console_session_csp(), path
            else:  # an unknown path: a JSON problem, never rendered as a page
                assert r.headers["content-type"].startswith("application/problem+json"), path
        assert "&lt;script&gt;" in (await client.get("/console/partners")).text


@pytest.mark.parametrize("path", ["/console/login", "/console/", "/console/products", "/console/verify"])
async def test_every_page_carries_the_private_page_headers(console: Console, path: str) -> None:  # noqa: F811
    async with _logged_in(console, "editor") as (client, _), console.client() as stranger:
        r = await client.get(path)
        anonymous = await stranger.get(path)
    for resp in (r, anonymous):
        headers = resp.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    ("content", "ctype"),
    [
        (b"not json", "application/json"),
        (b"\xff\xfe\x00", "application/octet-stream"),
        (b"[]", "application/json"),
        (b'{"a": 1, "a": 2}', "application/json"),
        (b'{"declaration": NaN}', "application/json"),
        (b"[" * 100_000, "application/json"),
        (HOSTILE.encode(), "text/html"),
    ],
    ids=["text", "binary", "list", "duplicate", "nan", "deep", "html"],
)
async def test_an_upload_that_is_no_bundle_is_a_form_error(console: Console, content: bytes, ctype: str) -> None:  # noqa: F811
    async with _logged_in(console, "verifier") as (client, csrf):
        r = await client.post("/console/verify", data={"csrf": csrf}, files={"bundle": (HOSTILE, content, ctype)})
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "not an evidence bundle" in r.text and "<script>alert" not in r.text


def _private_headers(resp: httpx.Response, *, static: bool = False) -> None:
    from connector.console.render import PRIVATE

    for name, value in PRIVATE.items():
        if static and name == "Cache-Control":
            assert "no-store" not in resp.headers.get(name, ""), resp.headers
        else:
            assert resp.headers.get(name) == value, (name, resp.status_code, resp.headers)


async def _too_large(client: httpx.AsyncClient, limit: int, *, chunked: bool) -> httpx.Response:
    big = b"login=" + b"x" * (limit + 10)

    async def chunks() -> Any:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    headers = {"content-type": "application/x-www-form-urlencoded"}
    return await client.post("/console/login", content=chunks() if chunked else big, headers=headers)


ERROR_CASES = [
    ("GET", "/console/no-such-page", 404, "There is no page at this address.", "このアドレスにはページがありません。"),
    ("GET", "/console/static/no-such-file.css", 404, "There is no page at this address.", "ページが見つかりません"),
    ("PUT", "/console/login", 405, "This address does not take this kind of request.", "この種類のリクエスト"),
    ("DELETE", "/console/", 405, "This address does not take this kind of request.", "ここではできません"),
]


@pytest.mark.parametrize(("lang", "accept_language"), [("en", "en-US"), ("ja", "ja-JP,ja;q=0.9")])
async def test_a_browser_gets_the_consoles_error_pages_in_its_language(
    console: Console,  # noqa: F811
    lang: str,
    accept_language: str,
) -> None:
    """An unknown path or method, or a body over the limit (refused on its length, or counted as it streams), raised
    before any console route ran: a page in the console's style and language, with the private page's headers."""
    browser = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8", "accept-language": accept_language}
    async with console.client(**browser) as client:
        answers = [(await client.request(m, p), s, en, ja) for m, p, s, en, ja in ERROR_CASES]
        limit = console.app.state.settings.max_body_bytes
        for chunked in (False, True):
            too_large = await _too_large(client, limit, chunked=chunked)
            answers.append((too_large, 413, "larger than this node accepts", "受け付けられる大きさを超えて"))
    for r, status, en, ja in answers:
        assert r.status_code == status, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("text/html"), r.headers["content-type"]
        assert f'<html lang="{lang}">' in r.text and "/console/static/console.css" in r.text
        assert (ja if lang == "ja" else en) in r.text, r.text
        _private_headers(r)
        if status == 405:
            assert r.headers["allow"], r.headers


async def test_another_client_gets_problem_json_with_the_consoles_headers(console: Console) -> None:  # noqa: F811
    async with console.client(accept="application/json") as client:
        answers = [(await client.request(m, p), s) for m, p, s, _, _ in ERROR_CASES]
        limit = console.app.state.settings.max_body_bytes
        answers += [(await _too_large(client, limit, chunked=c), 413) for c in (False, True)]
    for r, status in answers:
        assert r.status_code == status, (r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers["content-type"]
        assert r.json()["status"] == status
        _private_headers(r)


async def test_the_static_files_carry_the_consoles_headers_and_stay_cacheable(console: Console) -> None:  # noqa: F811
    async with console.client() as client:
        for name in ("console.css", "console.js"):
            r = await client.get(f"/console/static/{name}")
            assert r.status_code == 200, name
            _private_headers(r, static=True)


async def test_the_api_next_to_the_console_gets_none_of_its_headers(console: Console) -> None:  # noqa: F811
    async with console.client(accept="text/html") as client:
        for path in ("/consolex", "/api/v1/nothing", "/health"):
            r = await client.get(path)
            assert "content-security-policy" not in r.headers, path
            assert not r.headers["content-type"].startswith("text/html"), path
