"""Operator API keys (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status
from sqlmodel import col

from ...errors import Conflict
from ...services import api_keys
from ...storage import repositories as repo
from ...storage.tables import ApiKey
from .. import schemas as s
from ..deps import AdminDep, ContextDep
from ..strict_body import StrictJsonRoute
from . import examples as ex
from .paging import PagingDep

router = APIRouter(tags=["api keys"], route_class=StrictJsonRoute)


def _read(k: ApiKey) -> s.ApiKeyRead:
    return s.ApiKeyRead(id=k.id, name=k.name, role=k.role, prefix=k.prefix, revoked=k.revoked, created_at=k.created_at)


@router.get("/api-keys", response_model=s.Page[s.ApiKeyRead])
def list_keys(ctx: ContextDep, _: AdminDep, paging: PagingDep) -> s.Page[s.ApiKeyRead]:
    """List API keys (never their secrets)."""
    items, total = repo.page(
        ctx.session, ApiKey, order=col(ApiKey.created_at), limit=paging.limit, offset=paging.offset
    )
    paging.link(total)
    return s.Page(items=[_read(k) for k in items], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/api-keys", status_code=status.HTTP_201_CREATED, response_model=s.ApiKeyCreated)
def create_key(
    ctx: ContextDep, _: AdminDep, body: Annotated[s.ApiKeyCreate, Body(openapi_examples=ex.API_KEY)]
) -> s.ApiKeyCreated:
    """Create an API key; its secret is in this response only."""
    key, secret = api_keys.create_key(ctx.session, body.name, body.role)
    return s.ApiKeyCreated(**_read(key).model_dump(by_alias=True), key=secret)


@router.delete("/api-keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(ctx: ContextDep, current: AdminDep, key_id: str) -> None:
    """Revoke an API key (the last admin key cannot be revoked)."""
    key = ctx.session.get(ApiKey, key_id)
    if key is not None and key.role == "admin" and not key.revoked and repo.count_admin_keys(ctx.session) <= 1:
        raise Conflict("cannot revoke the last admin key")
    api_keys.revoke_key(ctx.session, key_id)
