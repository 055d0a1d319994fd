"""Dependencies: the session (the only place that commits), the node context, operator authentication."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from ..config import Settings
from ..errors import Forbidden, Unavailable
from ..exchange import outbox
from ..services import api_keys
from ..services.context import NodeContext
from ..storage.tables import ApiKey
from . import idempotency

log = logging.getLogger("connector.api")


async def get_settings(request: Request) -> Settings:
    # async: a plain ``def`` dependency costs a hop to the thread pool and back for nothing
    return request.app.state.settings


@contextmanager
def write_session(app: Any, before_commit: Callable[[Session], None] | None = None) -> Iterator[Session]:
    """The app's unit of work: commit on success, roll back on any error, then hand the outbox worker the messages
    the committed transaction left (leased to it while the worker runs; otherwise it is woken to claim them). The
    only place a request's transaction is committed.

    A commit the database does not confirm (the connection died, the server went away) is :class:`Unavailable`, a
    503 the client may retry: whether the write happened is unknown, so the operator API's writes take an
    ``Idempotency-Key`` (api/idempotency.py) that makes the retry safe."""
    worker = getattr(app.state, "worker", None)
    session = Session(app.state.engine, expire_on_commit=False)
    try:
        if worker is not None and worker.running:
            # messages go to the worker leased (recorded as its holder's): it sends them without a claim
            session.info[outbox.DISPATCH] = getattr(worker, "holder", None) or True
        try:
            yield session
        except BaseException:
            _quietly(session.rollback)
            raise
        try:
            if before_commit is not None:
                before_commit(session)
            session.commit()
        except DBAPIError as exc:
            _quietly(session.rollback)
            log.warning("commit failed, the database connection is lost: %s", exc.orig)
            raise Unavailable(
                "the database did not confirm the write (its connection was lost): it may or may not "
                "have been saved; send the request again with the same Idempotency-Key, or read the "
                "resource back before writing it again"
            ) from None
        outbox.hand_over(session, worker)
    finally:
        _quietly(session.close)


def _quietly(step: Callable[[], object]) -> None:
    """Roll back or close a session whose connection may be dead: that failing must not hide the first error."""
    try:
        step()
    except Exception:  # noqa: BLE001 - the connection is invalidated and dropped from the pool either way
        log.debug("cleaning up a session failed", exc_info=True)


def get_session(request: Request) -> Iterator[Session]:
    keyed = idempotency.pending(request)  # an Idempotency-Key is recorded in the write's own transaction
    with write_session(request.app, (lambda session: idempotency.record(session, keyed)) if keyed else None) as session:
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
        key = api_keys.authenticate(session, presented)
        if not api_keys.has_role(key, role):
            raise Forbidden(f"this API key has role {key.role!r}; {role!r} is required")
        return key

    return dependency


ViewerDep = Annotated[ApiKey, Depends(require("viewer"))]
EditorDep = Annotated[ApiKey, Depends(require("editor"))]
AdminDep = Annotated[ApiKey, Depends(require("admin"))]
