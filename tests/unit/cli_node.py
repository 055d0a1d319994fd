"""A node made by ``connector init`` in a temporary folder, for the tests of the CLI commands that work on one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli.main import app

COMPANY = "urn:pact:x.example:company:x"


def init_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data dir of a new node, made with no CONNECTOR_* variable of the environment and in ``tmp_path``."""
    for name in list(os.environ):
        if name.upper().startswith("CONNECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "node"
    result = CliRunner().invoke(app, ["init", "--data-dir", str(data), "--company-id", COMPANY, "--company-name", "X"])
    assert result.exit_code == 0, result.output
    return data
