"""Helpers shared by the CLI commands."""

from __future__ import annotations

from datetime import UTC, datetime

import typer


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
