"""Operator API keys: ``ck_<prefix>_<secret>``; only SHA-256 of the secret is stored (it has 256 bits of entropy)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session

from ..errors import NotFound, Unauthenticated
from ..storage import repositories as repo
from ..storage.tables import ApiKey

ROLES = ("viewer", "editor", "admin")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, name: str, role: str) -> tuple[ApiKey, str]:
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey(name=name, role=role, prefix=prefix, secret_hash=_hash(secret))
    session.add(key)
    session.flush()
    return key, f"ck_{prefix}_{secret}"


def authenticate(session: Session, presented: str | None) -> ApiKey:
    """The key's row, or Unauthenticated; the comparison is constant-time."""
    if not presented or not presented.startswith("ck_") or presented.count("_") < 2:
        raise Unauthenticated("a valid API key is required in the X-API-Key header")
    _, prefix, secret = presented.split("_", 2)
    key = repo.api_key_by_prefix(session, prefix)
    expected = key.secret_hash if key else _hash("no such key")
    if not hmac.compare_digest(expected, _hash(secret)) or key is None or key.revoked:
        raise Unauthenticated("a valid API key is required in the X-API-Key header")
    return key


def has_role(key: ApiKey, needed: str) -> bool:
    return ROLES.index(key.role) >= ROLES.index(needed)


def revoke_key(session: Session, key_id: str) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} not found")
    key.revoked = True
    session.add(key)
    return key
