"""``create_app(settings)``: one FastAPI app per node; many can live in one process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from .. import __version__
from ..config import Settings
from ..storage.db import create_schema, make_engine
from . import problems
from .limits import BodySizeLimit
from .operator import router as operator_router


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """Build a node's app: operator API, peer API, workers. The schema is migrated to head on creation."""
    engine = engine or make_engine(str(settings.database_url))
    create_schema(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hooks = app.state.lifespan_hooks
        for start, _ in hooks:
            await start(app)
        try:
            yield
        finally:
            for _, stop in reversed(hooks):
                await stop(app)

    app = FastAPI(
        title=f"Battery CFP connector — {settings.company_name}",
        version=__version__,
        description="Operator API (/api/v1), PACT v3 peer API (/3) and OAuth2 token endpoint (/auth).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.lifespan_hooks = []
    problems.install(app)
    app.include_router(operator_router)

    @app.get("/health", tags=["node"])
    def health() -> dict[str, str]:
        """Liveness: the node answers."""
        return {"status": "ok", "companyId": settings.company_id, "version": __version__}

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app
