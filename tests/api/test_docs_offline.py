"""/docs and /redoc load every script, style sheet and icon from the node itself: they render without internet."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest
import pytest_asyncio

from connector.api.app import create_app

from .conftest import make_settings

pytestmark = pytest.mark.asyncio

EXPECTED_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


class _Assets(HTMLParser):
    """The URLs a browser fetches to render the page: scripts, style sheets and icons."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")


def assets_of(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest_asyncio.fixture
async def client(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """A node on its own SQLite file (the pages do not touch the database)."""
    app = create_app(make_settings(tmp_path))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as c:
        yield c
    app.state.engine.dispose()


async def _assert_local_assets(client: httpx.AsyncClient, html: str, wanted: set[str]) -> None:
    urls = assets_of(html)
    assert {url.rsplit("/", 1)[-1] for url in urls} >= wanted, urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), f"{url} is not served by the node"
        resp = await client.get(url)
        assert resp.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert resp.headers["content-type"].startswith(EXPECTED_TYPES[suffix]), (url, resp.headers["content-type"])
        assert len(resp.content) > 1000, url
    # nothing else on the page names another host either (an inline import, a font, the online validator)
    assert not re.search(r"https?://", html), re.findall(r"https?://[^\s'\"]+", html)


async def test_swagger_ui_loads_its_assets_from_the_node(client):
    resp = await client.get("/docs")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    await _assert_local_assets(client, resp.text, {"swagger-ui-bundle.js", "swagger-ui.css", "favicon.png"})
    assert "url: '/openapi.json'" in resp.text
    assert '"validatorUrl": null' in resp.text
    assert (await client.get("/openapi.json")).status_code == 200


async def test_redoc_loads_its_assets_from_the_node(client):
    resp = await client.get("/redoc")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    await _assert_local_assets(client, resp.text, {"redoc.standalone.js", "favicon.png"})
    assert 'spec-url="/openapi.json"' in resp.text
    assert "fonts.googleapis.com" not in resp.text


async def test_the_oauth2_redirect_page_is_served(client):
    resp = await client.get("/docs/oauth2-redirect")
    assert resp.status_code == 200 and "oauth2" in resp.text
    assert not re.search(r"https?://", resp.text)


def _policy(resp: httpx.Response) -> dict[str, list[str]]:
    header = resp.headers["content-security-policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


def _hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


@pytest.mark.parametrize("page", ["/docs", "/docs/oauth2-redirect"])
async def test_swagger_pages_allow_only_their_own_inline_script(client, page):
    """A policy of the page's own: the node's assets, and the inline start-up script by its hash (no 'unsafe-inline',
    no other host); a changed script (another root path, another FastAPI template) gets its own hash."""
    resp = await client.get(page)
    policy = _policy(resp)
    inline = re.findall(r"<script>(.*?)</script>", resp.text, re.S)
    assert inline, "the page has an inline script"
    assert policy["script-src"] == ["'self'", *(_hash(s) for s in inline)]
    assert policy["default-src"] == ["'none'"] and policy["style-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert not re.search(r"https?:|\*|unsafe", resp.headers["content-security-policy"])


async def test_redoc_policy_names_no_other_host(client):
    policy = _policy(await client.get("/redoc"))
    assert policy["script-src"] == ["'self'"]  # no inline script on this page
    assert policy["img-src"] == ["'self'", "data:"]  # ReDoc's footer logo from cdn.redoc.ly is refused
    assert not any(re.search(r"https?:|\*", source) for sources in policy.values() for source in sources)


async def test_pages_follow_the_root_path(tmp_path):
    """Behind a proxy that mounts the node under a path, the page asks for its assets under that path."""
    app = create_app(make_settings(tmp_path))
    transport = httpx.ASGITransport(app=app, root_path="/node")
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as c:
        html = (await c.get("/docs")).text
    app.state.engine.dispose()
    assert "/node/docs/assets/swagger-ui-bundle.js" in assets_of(html)
    assert "url: '/node/openapi.json'" in html


async def test_asset_folder_serves_only_its_files(client):
    assert (await client.get("/docs/assets/../app.py")).status_code == 404
    assert (await client.get("/docs/assets/")).status_code == 404
