"""``connector pact-client ...`` on a temporary node, on each database back end (decision 0029): the secret shown
once is the one the token endpoint takes, a rotation and a revocation refuse the old one, each is audited, and a
refusal is one line."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text
from sqlmodel import Session, select
from typer.testing import CliRunner

from connector.cli.main import app, load_settings
from connector.errors import Unauthenticated
from connector.services import tokens
from connector.storage.db import make_engine
from connector.storage.tables import AuditEntry
from tests.conftest import PG_URL

from .cli_node import init_node

PARTNER = "urn:pact:tool.example:company:tool"


@pytest.fixture
def node(backend, tmp_path, monkeypatch):
    schema = None
    if backend == "postgresql":
        schema = "cli_" + uuid.uuid4().hex[:12]
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
    data = init_node(tmp_path, monkeypatch, f"{PG_URL}?options=-csearch_path%3D{schema}" if schema else None)
    engine = make_engine(str(load_settings(data).database_url))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, ["pact-client", *args, "--data-dir", str(data)], catch_exceptions=False)

    yield run, engine
    engine.dispose()
    if schema:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _accepts(engine, client_id: str, secret: str) -> bool:
    with Session(engine) as session:
        try:
            tokens.authenticate_basic(session, client_id, secret)
        except Unauthenticated:
            return False
    return True


def _secret(output: str) -> str:
    """The secret: the line after the one saying it is shown once."""
    lines = output.splitlines()
    return lines[[i for i, line in enumerate(lines) if "shown once" in line][0] + 1].strip()


def test_create_rotate_revoke(node):
    run, engine = node
    made = run("create", PARTNER, "--json")
    assert made.exit_code == 0, made.output
    issued = json.loads(made.output)
    assert set(issued) == {"clientId", "clientSecret", "companyId", "tokenEndpoint"}
    assert issued["companyId"] == PARTNER and issued["tokenEndpoint"].endswith("/auth/token")
    client_id, first = issued["clientId"], issued["clientSecret"]
    assert _accepts(engine, client_id, first)

    rotated = run("rotate", client_id)
    assert rotated.exit_code == 0, rotated.output
    second = _secret(rotated.output)
    assert second != first and client_id in rotated.output
    assert _accepts(engine, client_id, second) and not _accepts(engine, client_id, first)

    listed = json.loads(run("list", "--json").output)
    assert [(c["clientId"], c["companyId"], c["revoked"]) for c in listed] == [(client_id, PARTNER, False)]
    assert listed[0]["rotatedAt"] is not None and "clientSecret" not in listed[0]

    revoked = run("revoke", client_id)
    assert revoked.exit_code == 0 and "revoked" in revoked.output, revoked.output
    assert not _accepts(engine, client_id, second)
    table = run("list")
    assert table.exit_code == 0 and client_id in table.output and "revoked" in table.output, table.output
    assert second not in table.output

    with Session(engine) as session:
        actions = [e.action for e in session.exec(select(AuditEntry).where(AuditEntry.subject == client_id))]
    assert actions == ["pact-client.created", "pact-client.rotated", "pact-client.revoked"]


def test_plain_create_shows_the_secret_once(node):
    run, engine = node
    made = run("create", PARTNER)
    assert made.exit_code == 0, made.output
    client_id = json.loads(run("list", "--json").output)[0]["clientId"]
    assert client_id in made.output and "/auth/token" in made.output
    assert _accepts(engine, client_id, _secret(made.output))


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("rotate", "pact-0000000000000000"), "not found"),
        (("revoke", "pact-0000000000000000"), "not found"),
        (("create", "not-a-urn"), "invalid company id"),
    ],
)
def test_refusals_are_one_line(node, args, said):
    run, _ = node
    refused = run(*args)
    assert refused.exit_code == 1 and said in refused.output, refused.output
    assert "Traceback" not in refused.output and len(refused.output.strip().splitlines()) == 1


def test_a_revoked_client_is_not_rotated(node):
    run, _ = node
    client_id = json.loads(run("create", PARTNER, "--json").output)["clientId"]
    assert run("revoke", client_id, "--json").exit_code == 0
    refused = run("rotate", client_id)
    assert refused.exit_code == 1 and "is revoked" in refused.output, refused.output
