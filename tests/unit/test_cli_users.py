"""``connector user ...`` on a temporary node."""

from __future__ import annotations

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from connector.cli.main import app, load_settings
from connector.services import accounts
from connector.services.context import NodeContext
from connector.storage.db import make_engine

from .cli_node import init_node

PASSWORD = "correct horse battery staple"


@pytest.fixture
def node(tmp_path, monkeypatch):
    data = init_node(tmp_path, monkeypatch)
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        return runner.invoke(app, ["user", *args, "--data-dir", str(data)], input=input, catch_exceptions=False)

    return run, data


def _login(data, login: str, password: str) -> accounts.User:
    settings = load_settings(data)
    engine = make_engine(str(settings.database_url))
    try:
        with Session(engine, expire_on_commit=False) as session:
            user = accounts.authenticate(NodeContext(session=session, settings=settings), login, password)
            session.commit()
            return user
    finally:
        engine.dispose()


def test_user_commands(node):
    run, data = node
    added = run("add", "Alice", "--role", "editor", "--name", "Alice Sato", "--password-stdin", input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    assert _login(data, "alice", PASSWORD).role == "editor"
    listed = run("list")
    assert "alice" in listed.output and "Alice Sato" in listed.output and "editor" in listed.output
    assert run("set-role", "ALICE", "verifier").exit_code == 0
    assert _login(data, "alice", PASSWORD).role == "verifier"
    assert run("passwd", "alice", "--password-stdin", input="another long passphrase\n").exit_code == 0
    with pytest.raises(accounts.LoginFailed):
        _login(data, "alice", PASSWORD)
    assert _login(data, "alice", "another long passphrase").login == "alice"
    assert run("disable", "alice").exit_code == 0
    assert "disabled" in run("list").output
    with pytest.raises(accounts.LoginFailed):
        _login(data, "alice", "another long passphrase")
    assert run("disable", "alice", "--enable").exit_code == 0
    assert run("unlock", "alice").exit_code == 0
    assert _login(data, "alice", "another long passphrase").login == "alice"


def test_user_command_errors_are_one_line(node):
    run, _ = node
    short = run("add", "bob", "--role", "editor", "--password-stdin", input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    bad_role = run("add", "bob", "--role", "root", "--password-stdin", input=PASSWORD + "\n")
    assert bad_role.exit_code == 1 and "unknown role" in bad_role.output
    assert run("add", "bob", "--role", "viewer", "--password-stdin", input=PASSWORD + "\n").exit_code == 0
    taken = run("add", "BOB", "--role", "viewer", "--password-stdin", input=PASSWORD + "\n")
    assert taken.exit_code == 1 and "taken" in taken.output
    missing = run("unlock", "nobody")
    assert missing.exit_code == 1 and "not found" in missing.output
    no_tty = run("add", "carol", "--role", "viewer")  # no terminal to prompt on, no --password-stdin
    assert no_tty.exit_code == 1 and "--password-stdin" in no_tty.output
