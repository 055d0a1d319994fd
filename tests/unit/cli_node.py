"""A node made by ``connector init`` in a temporary folder, for the tests of the CLI commands that work on one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli.main import app

COMPANY = "urn:pact:x.example:company:x"


def init_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str | None = None) -> Path:
    """The data dir of a new node, made with no CONNECTOR_* variable of the environment and in ``tmp_path``; its
    database is SQLite in the data dir unless ``database_url`` says otherwise."""
    for name in list(os.environ):
        if name.upper().startswith("CONNECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "node"
    args = ["init", "--data-dir", str(data), "--company-id", COMPANY, "--company-name", "X"]
    result = CliRunner().invoke(app, args + (["--database-url", database_url] if database_url else []))
    assert result.exit_code == 0, result.output
    return data
