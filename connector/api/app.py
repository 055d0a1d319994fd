"""``create_app(settings)``: one FastAPI app per node; many can live in one process."""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import re
import secrets
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import fastapi_offline
import httpx
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from .. import __version__, protocols, runtime
from ..config import Settings
from ..console import ConsoleHeaders
from ..console import install as install_console
from ..exchange.worker import OutboxWorker
from ..protocols.ouranos import poller as ouranos_poller
from ..protocols.ouranos import server as ouranos_server
from ..protocols.pact.client import PactClient
from ..services.identity import NodeIdentity, load_identity
from ..services.login_throttle import LoginThrottle
from ..storage.db import create_schema, make_engine
from . import idempotency, problems
from .data_plane import DataPlaneConfinement
from .hsts import StrictTransportSecurity
from .limits import BodySizeLimit
from .operator import router as operator_router
from .peer import router as peer_router


def _tls_verify(settings: Settings) -> Any:
    """Peers are checked against the dataspace trust anchors (their TLS certs come from the same CA)."""
    if not settings.trust_anchor_files:
        return True
    context = ssl.create_default_context()
    for path in settings.trust_anchor_files:
        context.load_verify_locations(cafile=str(path))
    return context


DOCS_ASSETS_URL = "/docs/assets"
DOCS_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI, ReDoc and the favicon as shipped in the fastapi-offline wheel: the pages load nothing from a CDN."""
_LOCKED = "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
SWAGGER_CSP = (
    f"default-src 'none'; script-src 'self' {{scripts}}; style-src 'self'; img-src 'self' data:; "
    f"connect-src 'self'; {_LOCKED}"
)
"""/docs and its OAuth2 redirect page: the node's own assets, plus the page's inline start-up script by its hash."""
REDOC_CSP = (
    f"default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    f"connect-src 'self'; worker-src blob:; {_LOCKED}"
)
"""/redoc: ReDoc injects its styles inline and searches in a blob: worker; its footer logo from cdn.redoc.ly is
refused (img-src), so the page asks nothing of another host."""
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def _with_csp(page: HTMLResponse, policy: str) -> HTMLResponse:
    """Only the docs pages carry a policy (the API answers JSON); their inline scripts are allowed by hash, which
    follows FastAPI's page template and the root path by itself."""
    hashes = [hashlib.sha256(script).digest() for script in _INLINE_SCRIPT.findall(bytes(page.body))]
    scripts = " ".join(f"'sha256-{base64.b64encode(h).decode()}'" for h in hashes)
    page.headers["Content-Security-Policy"] = policy.format(scripts=scripts)
    return page


def _serve_docs(app: FastAPI) -> None:
    """``/docs``, ``/redoc`` and the OAuth2 redirect page on local assets (FastAPI's own pages load theirs from
    jsDelivr, and are blank on a machine without internet). URLs are prefixed with the ASGI root path, so the pages
    also work behind a proxy that mounts the node under a path."""
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=DOCS_ASSETS_DIR), name="docs-assets")
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    def urls(request: Request) -> tuple[str, str]:
        root = request.scope.get("root_path", "").rstrip("/")
        return f"{root}{app.openapi_url}", f"{root}{DOCS_ASSETS_URL}"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        openapi, assets = urls(request)
        page = get_swagger_ui_html(
            openapi_url=openapi,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png",
            # no badge from the online validator (validator.swagger.io) whatever the layout
            swagger_ui_parameters={"validatorUrl": None},
        )
        return _with_csp(page, SWAGGER_CSP)

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return _with_csp(get_swagger_ui_oauth2_redirect_html(), SWAGGER_CSP)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        openapi, assets = urls(request)
        page = get_redoc_html(
            openapi_url=openapi,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js",
            redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        )
        return _with_csp(page, REDOC_CSP)


async def _warm(app: FastAPI) -> None:
    """Answer one request in process before serving: FastAPI builds each router's route table (dependants, pydantic
    adapters) on the first request that walks it, ~80 ms per app; paid at start-up instead of by the first peer."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://warm-up") as client:
        await client.get("/health")


def _freeze_heap() -> None:
    """Collect once, then move every object start-up left (modules, models, routes, the schema: ~240,000 container
    objects) to the collector's permanent generation (``gc.freeze``). A full collection then walks only what was made
    since: it took 150-215 ms with them, a pause every few seconds under load, which every request in flight waited
    out (docs/benchmarks.md §8). Only for a process serving one app: objects frozen are never collected as cycles,
    so a test process making many apps would keep each one's cycles."""
    gc.collect()
    gc.freeze()


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    identity: NodeIdentity | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    lease_holder: str | None = None,
    freeze_heap: bool = False,
) -> FastAPI:
    """Build a node's app: operator API, peer API, and the outbox worker (run by the lifespan).

    ``transport`` replaces the network for the peer client, so a test can route many in-process nodes.
    ``lease_holder``: the outbox worker's stable holder id (``runtime.lease_holder``), so that after a crash it
    takes back its own leases at once; without one, a new id per worker (its leases run out instead). It also says
    whether this process polls the Ouranos platforms (``runtime.runs_pollers``: one worker process of a node does).
    ``freeze_heap``: the process serves this app alone (``connector serve``): once started, what start-up built is
    moved out of the garbage collector's sight (:func:`_freeze_heap`). The database schema is migrated to head on
    creation.
    """
    engine = engine or make_engine(str(settings.database_url))
    create_schema(engine)
    identity = identity or load_identity(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = PactClient(settings, identity, transport=transport, verify=_tls_verify(settings))
        worker = OutboxWorker(engine, settings, identity, client, holder=lease_holder) if settings.run_workers else None
        app.state.peer_client, app.state.worker = client, worker
        if worker:
            worker.start()
        # our node as a participant on Ouranos platforms (docs/ouranos.md): polled by one worker process of a node
        ouranos = ouranos_poller.start(app, poll=runtime.runs_pollers(lease_holder))
        await _warm(app)
        if freeze_heap:
            _freeze_heap()
        try:
            yield
        finally:
            await ouranos_poller.stop(ouranos)
            if worker:
                await worker.stop()
            await client.aclose()
            for adapter in protocols.adapters():
                await asyncio.to_thread(adapter.close, app)  # PACT: audit entries still queued are written

    app = FastAPI(
        title=f"Battery CFP connector — {settings.company_name}",
        version=__version__,
        description="Operator API (/api/v1, API key), PACT v3 peer API (/3, bearer token) and OAuth2 token "
        "endpoint (/auth/token).",
        lifespan=lifespan,
        docs_url=None,  # served by _serve_docs, on local assets
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.identity = identity
    app.state.worker = None
    app.state.token_secret = (
        settings.token_secret.get_secret_value().encode() if settings.token_secret else secrets.token_bytes(32)
    )
    app.state.login_throttle = LoginThrottle.from_settings(settings)  # failed logins per address and login
    app.state.client_throttle = LoginThrottle.from_settings(settings)  # PACT /auth/token: per address, client id
    problems.install(app)
    app.include_router(operator_router)
    app.include_router(peer_router)
    ouranos_server.install(app)  # the Ouranos data-transport API (docs/ouranos.md)
    for adapter in protocols.adapters():
        adapter.start(app)  # PACT: its reads are the hot path, matched before the operator API's routes
    _serve_docs(app)
    install_console(app)  # /console, and / for browsers

    @app.get("/health", tags=["node"])
    def health() -> dict[str, str]:
        """Liveness: the node answers (and says when it runs in insecure development mode)."""
        body = {"status": "ok", "companyId": settings.company_id, "version": __version__}
        if settings.insecure_dev:
            body["warning"] = "insecure development mode (--insecure-dev): never use this node in a dataspace"
        return body

    app.add_middleware(idempotency.IdempotencyKeys)  # Idempotency-Key on the operator API's writes
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, max_event_bytes=settings.max_event_bytes)
    app.add_middleware(ConsoleHeaders)  # every answer under /console, a body over the limit's too
    app.add_middleware(DataPlaneConfinement)  # what came through the EDC data plane reaches /catenax only
    app.add_middleware(StrictTransportSecurity)
    if settings.trusted_proxies:  # outermost: every door sees the client address the trusted proxy forwarded
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
