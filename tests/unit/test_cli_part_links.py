"""``connector part-link ...`` on a temporary node (decision 0028)."""

from __future__ import annotations

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from connector.cli.main import app, load_settings
from connector.storage.db import make_engine
from connector.storage.part_links import PartLink
from connector.storage.tables import Product

from .cli_node import init_node

TRACE = "0f6e2b1c-9d8a-4e3f-8a7b-6c5d4e3f2a1b"


@pytest.fixture
def node(tmp_path, monkeypatch):
    data = init_node(tmp_path, monkeypatch)
    runner = CliRunner()
    engine = make_engine(str(load_settings(data).database_url))
    with Session(engine) as session:
        for pid in ("p-1", "p-2"):
            session.add(Product(id=pid, product_ids=[f"urn:x:{pid}"], name=pid, declared_unit="piece"))
        session.flush()
        session.add(
            PartLink(
                id="link-1",
                platform_url="https://dts.example",
                trace_id=TRACE,
                company_id="urn:x:customer",
                parts_name="Cell A",
                product_id="p-1",
            )
        )
        session.commit()

    def run(*args: str):
        return runner.invoke(app, ["part-link", *args, "--data-dir", str(data)], catch_exceptions=False)

    def link() -> PartLink | None:
        with Session(engine) as session:
            return session.get(PartLink, "link-1")

    yield run, link
    engine.dispose()


def test_part_link_commands(node):
    run, link = node
    listed = run("list")
    assert listed.exit_code == 0, listed.output
    assert "link-1" in listed.output and "Cell A" in listed.output
    changed = run("set", "link-1", "--product", "p-2")
    assert changed.exit_code == 0, changed.output
    assert link().product_id == "p-2"
    removed = run("remove", "link-1")
    assert removed.exit_code == 0, removed.output
    assert link() is None


def test_part_link_command_errors_are_one_line(node):
    run, _ = node
    for args, said in (
        (("set", "link-1"), "nothing to change"),
        (("set", "link-1", "--product", "no-such"), "product no-such not found"),
        (("set", "link-1", "--verifier", "missing.pem"), "cannot read the verifier certificate"),
        (("remove", "no-such-link"), "part link no-such-link not found"),
    ):
        result = run(*args)
        assert result.exit_code != 0 and said in result.output, (args, result.output)
        assert "Traceback" not in result.output
