"""Dependencies: the session (the only place that commits), the node context, operator authentication."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlmodel import Session

from ..config import Settings
from ..errors import Forbidden
from ..services import keys, outbox
from ..services.context import NodeContext
from ..storage.tables import ApiKey


async def get_settings(request: Request) -> Settings:
    # async: a plain ``def`` dependency costs a hop to the thread pool and back for nothing
    return request.app.state.settings


@contextmanager
def write_session(app: Any) -> Iterator[Session]:
    """The app's unit of work: commit on success, roll back on any error, then hand the outbox worker the messages
    the committed transaction left (leased to it while the worker runs; otherwise it is woken to claim them). The
    only place a request's transaction is committed."""
    worker = getattr(app.state, "worker", None)
    with Session(app.state.engine, expire_on_commit=False) as session:
        if worker is not None and worker.running:
            session.info[outbox.DISPATCH] = True  # messages go to the worker leased: it sends them without a claim
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        outbox.hand_over(session, worker)


def get_session(request: Request) -> Iterator[Session]:
    with write_session(request.app) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
# "function" scope: commit before the response goes out, so a failed commit is a 500, never a 201 for nothing saved
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_context(request: Request, session: SessionDep, settings: SettingsDep) -> NodeContext:
    return NodeContext(session=session, settings=settings, identity=request.app.state.identity)


ContextDep = Annotated[NodeContext, Depends(get_context)]

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Operator API key (ck_...)")


def require(role: str) -> Callable[..., ApiKey]:
    def dependency(session: SessionDep, presented: Annotated[str | None, Security(api_key_header)]) -> ApiKey:
        key = keys.authenticate(session, presented)
        if not keys.has_role(key, role):
            raise Forbidden(f"this API key has role {key.role!r}; {role!r} is required")
        return key

    return dependency


ViewerDep = Annotated[ApiKey, Depends(require("viewer"))]
EditorDep = Annotated[ApiKey, Depends(require("editor"))]
AdminDep = Annotated[ApiKey, Depends(require("admin"))]
