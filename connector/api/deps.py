"""Dependencies: the session (the only place that commits), the node context, operator authentication."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from ..config import Settings
from ..errors import Forbidden, Unavailable
from ..exchange import outbox
from ..services import accounts, api_keys
from ..services.context import NodeContext
from ..storage.accounts import User
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
user_bearer = HTTPBearer(
    auto_error=False,
    description="A user's access token (cua_...) from POST /api/v1/auth/token",
    scheme_name="UserToken",
)


@dataclass(frozen=True)
class Operator:
    """Who calls the operator API: an API key or a logged-in user, with its role."""

    kind: str  # key | user
    id: str
    name: str  # the key's name or the user's login
    role: str
    user: User | None = None

    @property
    def actor(self) -> str:
        """How the audit log names it."""
        return f"user:{self.name}" if self.kind == "user" else f"api-key:{self.name}"


def authenticate(ctx: NodeContext, presented: str | None, bearer: HTTPAuthorizationCredentials | None) -> Operator:
    """The API key if one is presented (X-API-Key), else the user of a bearer access token; Unauthenticated."""
    if presented is None and bearer is not None:
        user = accounts.user_for_access_token(ctx, bearer.credentials)
        if user is None:
            raise accounts.InvalidToken("the access token is unknown, expired or revoked: log in again or refresh it")
        return Operator("user", user.id, user.login, user.role, user)
    key = api_keys.authenticate(ctx.session, presented)
    return Operator("key", key.id, key.name, key.role)


def require(needed: str) -> Callable[..., Operator]:
    """A dependency admitting callers whose role allows ``needed`` (a role, or "verify": accounts.role_allows)."""

    def dependency(
        ctx: ContextDep,
        presented: Annotated[str | None, Security(api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(user_bearer)],
    ) -> Operator:
        caller = authenticate(ctx, presented, bearer)
        if not accounts.role_allows(caller.role, needed):
            what = "user" if caller.kind == "user" else "API key"
            raise Forbidden(f"this {what} has role {caller.role!r}; {needed!r} is required")
        return caller

    return dependency


ViewerDep = Annotated[Operator, Depends(require("viewer"))]
EditorDep = Annotated[Operator, Depends(require("editor"))]
AdminDep = Annotated[Operator, Depends(require("admin"))]
VerifyDep = Annotated[Operator, Depends(require("verify"))]
"""Verifying an evidence bundle: verifiers, editors and admins."""
