"""Operator accounts: the users of the node and their login tokens (tables and every statement on them).

Passwords are stored only as an Argon2id (or scrypt) PHC string; tokens only as the SHA-256 of the random secret.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import Field, Session, SQLModel, col, select

from .tables import UTCDateTime, new_id, utcnow


def _ts(**kw: object) -> object:
    return Field(sa_type=UTCDateTime, **kw)  # type: ignore[call-overload]


class User(SQLModel, table=True):
    """A person who operates the node (console, operator API, an Ouranos application's login)."""

    __tablename__ = "operatoruser"  # "user" is a reserved word in PostgreSQL

    id: str = Field(default_factory=new_id, primary_key=True)
    login: str = Field(max_length=100, unique=True, index=True)  # stored lower-case: unique regardless of case
    display_name: str = Field(max_length=200)
    role: str = Field(max_length=20)  # viewer | editor | admin | verifier
    password_hash: str = Field(max_length=300)
    failed_attempts: int = 0
    locked_until: datetime | None = _ts(default=None, nullable=True)  # type: ignore[assignment]
    disabled: bool = False
    created_at: datetime = _ts(default_factory=utcnow)  # type: ignore[assignment]
    updated_at: datetime = _ts(default_factory=utcnow)  # type: ignore[assignment]
    last_login_at: datetime | None = _ts(default=None, nullable=True)  # type: ignore[assignment]
    password_changed_at: datetime = _ts(default_factory=utcnow)  # type: ignore[assignment]


class UserToken(SQLModel, table=True):
    """An access or refresh token of a user; tokens issued from one login share a ``family``."""

    id: str = Field(default_factory=new_id, primary_key=True)
    user_id: str = Field(foreign_key="operatoruser.id", index=True, max_length=36)
    family: str = Field(max_length=36, index=True)
    kind: str = Field(max_length=10)  # access | refresh
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = _ts(default_factory=utcnow)  # type: ignore[assignment]
    expires_at: datetime = _ts()  # type: ignore[assignment]
    revoked_at: datetime | None = _ts(default=None, nullable=True)  # type: ignore[assignment]
    rotated_at: datetime | None = _ts(default=None, nullable=True)  # type: ignore[assignment]
    """A refresh token exchanged for a new pair; presenting it again is a reuse, which revokes the family."""


def user_by_login(session: Session, login: str) -> User | None:
    return session.exec(select(User).where(User.login == login)).first()


def all_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.login))))


def token_by_hash(session: Session, token_hash: str, *, lock: bool = False) -> UserToken | None:
    """The token row; ``lock``: FOR UPDATE (PostgreSQL), so two refreshes of one token cannot both rotate it."""
    stmt = select(UserToken).where(UserToken.token_hash == token_hash)
    return session.exec(stmt.with_for_update() if lock else stmt).first()


def revoke_family(session: Session, family: str, at: datetime) -> None:
    stmt = update(UserToken).where(col(UserToken.family) == family, col(UserToken.revoked_at).is_(None))
    session.execute(stmt.values(revoked_at=at))


def revoke_user_tokens(session: Session, user_id: str, at: datetime) -> None:
    stmt = update(UserToken).where(col(UserToken.user_id) == user_id, col(UserToken.revoked_at).is_(None))
    session.execute(stmt.values(revoked_at=at))


def forget_expired_tokens(session: Session, user_id: str, at: datetime) -> None:
    """Drop a user's expired tokens (revoked ones that have not expired stay: reuse detection needs them)."""
    session.execute(delete(UserToken).where(col(UserToken.user_id) == user_id, col(UserToken.expires_at) <= at))
