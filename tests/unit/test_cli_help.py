"""What a user reads in ``connector ... --help`` and copies from the README."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer

from connector.cli.main import app


def _commands(command: Any, path: str = "connector"):
    yield path, command
    for name, sub in (getattr(command, "commands", None) or {}).items():  # a group (typer's own click, not click's)
        yield from _commands(sub, f"{path} {name}")


def test_no_command_help_shows_the_docstrings_rst_markup() -> None:
    # record-upstream's help said "(its ``sourceKind``, default ``document``)": typer prints a docstring as it is
    commands = dict(_commands(typer.main.get_command(app)))
    assert {"connector record-upstream", "connector ca issue", "connector user add"} <= set(commands)
    assert [path for path, cmd in commands.items() if "``" in (cmd.help or "")] == []


def test_the_readme_captures_the_admin_key_as_the_last_line_init_prints(tmp_path: Path) -> None:
    # README: KEY=$(connector init ... | tail -n 1); piped, as there, with a narrow terminal too
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONNECTOR_")} | {"COLUMNS": "40"}
    out = subprocess.run(
        [sys.executable, "-m", "connector", "init", "--data-dir", str(tmp_path / "cell")]
        + ["--company-id", "urn:pact:setouchi-cell.example:company:setouchi-cell", "--company-name", "Setouchi Cell"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("ck_") and " " not in last and len(last) > 40


def test_each_command_summary_is_one_line_and_a_group_names_its_commands() -> None:
    # `connector --help` printed import-footprint's summary broken mid-sentence ("converted to the / line's"): in
    # typer's rich mode a single newline of a docstring's first paragraph stays a line break in the commands list.
    # And `connector ca --help` said "init, issue, revoke, crl" while `ca check` exists too.
    commands = dict(_commands(typer.main.get_command(app)))
    broken = [path for path, cmd in commands.items() if "\n" in inspect.cleandoc(cmd.help or "").split("\n\n")[0]]
    assert broken == []
    ca = commands["connector ca"]
    assert all(name in (ca.help or "") for name in ca.commands)
