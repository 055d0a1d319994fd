"""The `connector` command."""

from __future__ import annotations

import typer

app = typer.Typer(help="Battery carbon-footprint traceability connector.", no_args_is_help=True)
