"""Operator accounts (services/accounts.py) on both back ends: hashing, lockout, tokens, roles, audit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import Type
from argon2.exceptions import VerifyMismatchError
from argon2.low_level import verify_secret
from sqlmodel import Session, select

from connector.config import Settings
from connector.errors import Conflict, ValidationFailed
from connector.services import accounts, audit
from connector.services.context import NodeContext
from connector.storage.accounts import UserToken
from connector.storage.tables import AuditEntry

PASSWORD = "correct horse battery staple"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ctx(engine, tmp_path, clock) -> Iterator[NodeContext]:
    with Session(engine, expire_on_commit=False) as session:
        context = NodeContext(session=session, settings=Settings(data_dir=tmp_path, run_workers=False))
        context.now = clock  # type: ignore[method-assign]  # the service reads time from the context only
        yield context
        session.rollback()


def _actions(ctx: NodeContext) -> list[str]:
    ctx.session.commit()
    return list(ctx.session.exec(select(AuditEntry.action).order_by(AuditEntry.seq)))


def test_password_is_hashed_with_argon2id_and_verifies_with_argon2s_own_verify(ctx):
    user = accounts.create_user(ctx, "alice", PASSWORD, "editor")
    assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), user.password_hash
    assert PASSWORD not in user.password_hash
    assert verify_secret(user.password_hash.encode(), PASSWORD.encode(), Type.ID)
    with pytest.raises(VerifyMismatchError):
        verify_secret(user.password_hash.encode(), b"correct horse battery stapler", Type.ID)
    other = accounts.create_user(ctx, "bob", PASSWORD, "editor")
    assert other.password_hash != user.password_hash  # salted


def test_logins_are_unique_whatever_their_case(ctx):
    user = accounts.create_user(ctx, "Alice.Sato", PASSWORD, "viewer")
    assert (user.login, user.display_name) == ("alice.sato", "Alice.Sato")
    assert accounts.authenticate(ctx, "ALICE.SATO", PASSWORD).id == user.id
    with pytest.raises(Conflict):
        accounts.create_user(ctx, "alice.SATO", PASSWORD, "viewer")
    assert accounts.get_user(ctx, "ALICE.sato").id == user.id


@pytest.mark.parametrize(
    ("login", "password", "role", "field"),
    [
        ("carol", "short pass", "viewer", "password"),  # 10 < 12 characters
        ("carol", " " * 20, "viewer", "password"),
        ("carol.kumar1", "CAROL.KUMAR1", "viewer", "password"),  # the login itself
        ("carol", "x" * 1025, "viewer", "password"),
        ("carol", PASSWORD, "superuser", "role"),
        ("with space", PASSWORD, "viewer", "login"),
        ("", PASSWORD, "viewer", "login"),
    ],
)
def test_bad_login_role_or_password_is_refused_clearly(ctx, login, password, role, field):
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(ctx, login, password, role)
    assert caught.value.errors[0]["field"] == field
    assert accounts.list_users(ctx) == []


def test_unknown_login_and_wrong_password_are_the_same_error(ctx):
    accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    with pytest.raises(accounts.LoginFailed) as unknown:
        accounts.authenticate(ctx, "mallory", PASSWORD)
    with pytest.raises(accounts.LoginFailed) as wrong:
        accounts.authenticate(ctx, "alice", "not the password at all")
    assert (unknown.value.detail, unknown.value.status, unknown.value.type_) == (
        wrong.value.detail,
        wrong.value.status,
        wrong.value.type_,
    )


def test_lockout_after_n_failures_then_unlocked_when_the_period_ends(ctx, clock):
    ctx.settings.login_max_failures = 3
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    for _ in range(2):
        with pytest.raises(accounts.LoginFailed):
            accounts.authenticate(ctx, "alice", "wrong password here")
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(ctx, "alice", "wrong password here")  # the 3rd
    assert user.locked_until == clock.at + ctx.settings.login_lockout
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(ctx, "alice", PASSWORD)  # even the right password, while locked
    clock.at += ctx.settings.login_lockout - timedelta(seconds=1)
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(ctx, "alice", PASSWORD)
    clock.at += timedelta(seconds=1)
    assert accounts.authenticate(ctx, "alice", PASSWORD).id == user.id
    assert (user.failed_attempts, user.locked_until, user.last_login_at) == (0, None, clock.at)


def test_a_success_resets_the_failure_count(ctx):
    ctx.settings.login_max_failures = 3
    accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    for _ in range(3):
        for _ in range(2):
            with pytest.raises(accounts.LoginFailed):
                accounts.authenticate(ctx, "alice", "wrong password here")
        accounts.authenticate(ctx, "alice", PASSWORD)  # never 3 in a row: never locked


def test_an_admin_unlocks_at_once(ctx):
    ctx.settings.login_max_failures = 1
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(ctx, "alice", "wrong password here")
    accounts.unlock_user(ctx, user, actor="api-key:ops")
    assert accounts.authenticate(ctx, "alice", PASSWORD).id == user.id


def test_access_token_expires(ctx, clock):
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    pair = accounts.issue_tokens(ctx, user)
    assert pair.access_token.startswith("cua_") and pair.refresh_token.startswith("cur_")
    assert pair.access_expires_at == clock.at + ctx.settings.user_access_token_ttl
    assert accounts.user_for_access_token(ctx, pair.access_token) is user
    assert accounts.user_for_access_token(ctx, pair.refresh_token) is None  # a refresh token is not an access token
    assert accounts.user_for_access_token(ctx, pair.access_token + "x") is None
    clock.at += ctx.settings.user_access_token_ttl
    assert accounts.user_for_access_token(ctx, pair.access_token) is None


def test_tokens_are_stored_only_as_digests(ctx):
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    pair = accounts.issue_tokens(ctx, user)
    rows = list(ctx.session.exec(select(UserToken)))
    assert len(rows) == 2
    stored = " ".join(f"{r.token_hash} {r.id} {r.family}" for r in rows)
    assert pair.access_token not in stored and pair.refresh_token not in stored
    assert pair.access_token[4:] not in stored and pair.refresh_token[4:] not in stored


def test_refresh_rotates_and_a_reused_refresh_token_revokes_its_family(ctx, clock):
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    first = accounts.issue_tokens(ctx, user)
    elsewhere = accounts.issue_tokens(ctx, user)  # another login (another browser): another family
    clock.at += timedelta(minutes=1)
    second = accounts.refresh(ctx, first.refresh_token)
    assert second.refresh_token != first.refresh_token and second.access_token != first.access_token
    assert accounts.user_for_access_token(ctx, second.access_token) is user
    with pytest.raises(accounts.InvalidToken, match="already used"):
        accounts.refresh(ctx, first.refresh_token)  # replayed: stolen, or a broken client
    assert accounts.user_for_access_token(ctx, second.access_token) is None
    assert accounts.user_for_access_token(ctx, first.access_token) is None
    with pytest.raises(accounts.InvalidToken):
        accounts.refresh(ctx, second.refresh_token)
    assert accounts.user_for_access_token(ctx, elsewhere.access_token) is user  # untouched
    assert accounts.refresh(ctx, elsewhere.refresh_token).access_token
    assert "user.token_reuse" in _actions(ctx)


def test_refresh_token_expires(ctx, clock):
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    pair = accounts.issue_tokens(ctx, user)
    clock.at += ctx.settings.user_refresh_token_ttl
    with pytest.raises(accounts.InvalidToken):
        accounts.refresh(ctx, pair.refresh_token)
    with pytest.raises(accounts.InvalidToken):
        accounts.refresh(ctx, "cur_not-a-token")


def test_a_disabled_user_cannot_log_in_and_loses_its_tokens(ctx):
    user = accounts.create_user(ctx, "alice", PASSWORD, "editor")
    pair = accounts.issue_tokens(ctx, user)
    accounts.disable_user(ctx, user)
    assert accounts.user_for_access_token(ctx, pair.access_token) is None
    with pytest.raises(accounts.InvalidToken):
        accounts.refresh(ctx, pair.refresh_token)
    with pytest.raises(accounts.LoginFailed) as caught:
        accounts.authenticate(ctx, "alice", PASSWORD)
    assert caught.value.detail == accounts.LoginFailed().detail  # says nothing more than a wrong password
    accounts.disable_user(ctx, user, False)
    assert accounts.authenticate(ctx, "alice", PASSWORD).id == user.id


def test_change_password_needs_the_old_one_and_revokes_tokens(ctx):
    user = accounts.create_user(ctx, "alice", PASSWORD, "editor")
    pair = accounts.issue_tokens(ctx, user)
    with pytest.raises(accounts.LoginFailed):
        accounts.change_password(ctx, user, "not the password", "a brand new passphrase")
    with pytest.raises(ValidationFailed):
        accounts.change_password(ctx, user, PASSWORD, "short")
    assert accounts.user_for_access_token(ctx, pair.access_token) is user
    accounts.change_password(ctx, user, PASSWORD, "a brand new passphrase")
    assert accounts.user_for_access_token(ctx, pair.access_token) is None
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(ctx, "alice", PASSWORD)
    assert accounts.authenticate(ctx, "alice", "a brand new passphrase").id == user.id


def test_logout_revokes_that_login_only(ctx):
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer")
    mine, other = accounts.issue_tokens(ctx, user), accounts.issue_tokens(ctx, user)
    assert accounts.logout(ctx, mine.access_token) is user
    assert accounts.user_for_access_token(ctx, mine.access_token) is None
    with pytest.raises(accounts.InvalidToken):
        accounts.refresh(ctx, mine.refresh_token)
    assert accounts.user_for_access_token(ctx, other.access_token) is user
    accounts.revoke_tokens(ctx, user)
    assert accounts.user_for_access_token(ctx, other.access_token) is None


def test_audit_entries_are_written_and_chained(ctx):
    ctx.settings.login_max_failures = 2
    user = accounts.create_user(ctx, "alice", PASSWORD, "viewer", actor="api-key:ops")
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(ctx, "nobody", PASSWORD)
    with pytest.raises(accounts.LoginFailed):
        accounts.authenticate(ctx, "alice", "wrong password here")
    with pytest.raises(accounts.AccountLocked):
        accounts.authenticate(ctx, "alice", "wrong password here")
    accounts.unlock_user(ctx, user)
    accounts.authenticate(ctx, "alice", PASSWORD)
    accounts.set_role(ctx, user, "verifier")
    accounts.change_password(ctx, user, PASSWORD, "a brand new passphrase")
    accounts.disable_user(ctx, user)
    assert _actions(ctx) == [
        "user.created",
        "user.login_failed",
        "user.login_failed",
        "user.login_failed",
        "user.locked",
        "user.unlocked",
        "user.login",
        "user.role_changed",
        "user.password_changed",
        "user.disabled",
    ]
    assert audit.check_chain(ctx.session).valid
    texts = " ".join(str(e.details) for e in ctx.session.exec(select(AuditEntry)))
    assert PASSWORD not in texts and "wrong password here" not in texts


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {"viewer"}),
        ("verifier", {"viewer", "verify"}),
        ("editor", {"viewer", "editor", "verify"}),
        ("admin", {"viewer", "editor", "admin", "verify"}),
        ("nobody", set()),
    ],
)
def test_what_each_role_allows(role, allowed):
    assert {n for n in ("viewer", "editor", "admin", "verify") if accounts.role_allows(role, n)} == allowed
