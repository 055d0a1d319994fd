"""``connector footprint compute|show``: a product's footprint, computed and published, or its versions."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ..errors import ConnectorError
from ..exchange import propagation
from ..services import footprints
from ..services.catalog import get_product, product_read
from ..services.context import NodeContext
from ..stages import STAGES
from ..storage import repositories as repo
from .node import DataDir, fail, node_context, node_settings

footprint_app = typer.Typer(help="Compute and show footprints.", no_args_is_help=True)
console = Console()


@footprint_app.command("compute")
def footprint_compute(
    product: Annotated[str, typer.Argument(help="Product URN or local id")],
    data_dir: DataDir = None,
) -> None:
    """Compute a product's footprint from the upstream values held.

    A new version is published to customers and answers their waiting requests, as the operator API's compute does.
    """
    settings = node_settings(data_dir)
    try:
        with node_context(settings) as ctx:
            found = repo.product_by_urn(ctx.session, product)
            fp, changed = propagation.compute_and_publish(ctx, found.id if found else product)
            _print_footprint(ctx, fp.id)
            console.print(
                "new version issued" if changed else "unchanged: the active footprint already has these values"
            )
    except ConnectorError as exc:
        fail(exc)


@footprint_app.command("show")
def footprint_show(
    product: Annotated[str, typer.Argument(help="Product URN or local id")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show a product's footprint versions."""
    settings = node_settings(data_dir)
    try:
        with node_context(settings) as ctx:
            found = repo.product_by_urn(ctx.session, product)
            pid = found.id if found else product
            prod = get_product(ctx, pid)
            versions = repo.footprint_versions(ctx.session, pid)
            if as_json:
                data = [footprints.footprint_read(v, prod).model_dump(mode="json", by_alias=True) for v in versions]
                console.print_json(json.dumps(data))
                return
            if not versions:
                console.print(f"{product_read(prod).name}: no footprint yet")
            for v in versions:
                _print_footprint(ctx, v.id)
    except ConnectorError as exc:
        fail(exc)


def _print_footprint(ctx: NodeContext, footprint_id: str) -> None:
    fp = footprints.get_footprint(ctx, footprint_id)
    prod = get_product(ctx, fp.product_id)
    table = Table(title=f"{prod.name} — v{fp.version} {fp.status} ({fp.id})", title_justify="left")
    table.add_column("stage")
    table.add_column(f"kg CO2e per {prod.declared_unit}", justify="right")
    for st in STAGES:
        table.add_row(st.value.replace("_", " "), fp.stages[st.value])
    table.add_row("[bold]total[/]", f"[bold]{footprints.format_decimal(fp.total)}[/]")
    console.print(table)
