"""Helpers shared by the CLI commands."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

import typer
from pydantic import ValidationError

from ..strict_json import strict_json_loads


def parse_at(at: str | None) -> datetime:
    """The ``--at`` option: an ISO 8601 time with offset, or now (whole seconds)."""
    if at is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        value = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {at!r}", param_hint="--at") from None
    if value.tzinfo is None:
        raise typer.BadParameter("the time needs an offset, e.g. 2026-03-01T12:00:00Z", param_hint="--at")
    return value


def die(message: str) -> NoReturn:
    """End the command with one line on stderr saying why (plain text: no markup, no wrapping), exit status 1."""
    typer.echo(f"error: {' '.join(message.split())}", err=True)
    raise typer.Exit(1)


def read_json(path: Path, what: str = "file") -> Any:
    """A JSON file the user gave, read strictly (a duplicate member, NaN or a number beyond a double is refused, as
    on the API), or a one-line error naming the file and where it stops being JSON."""
    try:
        return strict_json_loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        die(f"{what} {path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except (OSError, UnicodeDecodeError) as exc:
        die(f"cannot read {what} {path}: {exc}")
    except (ValueError, RecursionError) as exc:  # strict: a duplicate member, NaN, a number out of range
        die(f"{what} {path} is not valid JSON: {exc}")


def first_error(exc: ValidationError) -> str:
    """A pydantic error as ``field: message`` (the first of them, with how many more)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "value"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"


def env_has(name: str) -> bool:
    """Whether the environment sets ``name`` (pydantic-settings reads CONNECTOR_* case-insensitively)."""
    return any(k.upper() == name for k in os.environ)
