"""Every ``connector ...`` command the docs show exists, with the options they give it.

A user copies these lines: docs/ouranos.md once told them to run ``connector api-key create``, which never existed.
Commands are read from fenced code blocks and inline code spans of the user docs; a subcommand must be one of the
CLI's, and every ``--option`` after it one of that subcommand's.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from connector.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md"), ROOT / "compose" / "README.md"])

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
# "connector" as a command word: at the start, or after a shell separator, $( or a prompt
INVOCATION = re.compile(r"(?:^|[\s;&|(]|\$\()connector((?:\s+[^\s;&|)#]+)*)")


def _snippets(text: str) -> list[tuple[int, str]]:
    """Shell text the docs show: each fenced line (continuations joined) and each inline code span."""
    found, fenced, pending, start = [], False, "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            pending, start = (pending + " " + line, start) if pending else (line, number)
            if pending.rstrip().endswith("\\"):
                pending = pending.rstrip()[:-1]
                continue
            found.append((start, pending.split(" #", 1)[0]))  # a trailing comment is prose
            pending = ""
        else:
            found += [(number, span) for span in INLINE_CODE.findall(line)]
    return found


def _command_tree() -> Any:
    return typer.main.get_command(app)


def problems(text: str, name: str, root: Any) -> list[str]:
    found = []
    for number, snippet in _snippets(text):
        for match in INVOCATION.finditer(snippet):
            words = match.group(1).split()
            if not words:
                continue
            command: Any = root
            used = 0
            while used < len(words) and words[used] in (getattr(command, "commands", None) or {}):
                command = command.commands[words[used]]
                used += 1
            where = f"{name}:{number}: connector {' '.join(words)}"
            if used == 0 and not words[0].startswith("-"):
                if words[0] in {"…", "...", "<command>"}:
                    continue
                found.append(f"{where} (no command {words[0]!r})")
                continue
            if getattr(command, "commands", None) is not None and used < len(words) and not words[used].startswith("-"):
                found.append(f"{where} (no subcommand {words[used]!r})")
                continue
            options = {"--help"} | {opt for p in command.params for opt in (*p.opts, *p.secondary_opts)}
            for word in words[used:]:
                flag = word.split("=", 1)[0]
                if re.fullmatch(r"--?[a-zA-Z][\w-]*", flag) and flag not in options:
                    found.append(f"{where} (no option {flag})")
    return found


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_connector_command_in_the_docs_exists(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix(), _command_tree()) == []


def test_a_made_up_command_or_option_is_reported() -> None:
    text = (
        "Run `connector demo --keep`, then\n\n```bash\nconnector api-key create x --role viewer\n"
        "KEY=$(connector init --data-dir d \\\n   --colour red | tail -n 1)\nconnector user frobnicate a\n```\n"
    )
    assert problems(text, "x.md", _command_tree()) == [
        "x.md:4: connector api-key create x --role viewer (no command 'api-key')",
        "x.md:5: connector init --data-dir d --colour red (no option --colour)",
        "x.md:7: connector user frobnicate a (no subcommand 'frobnicate')",
    ]
