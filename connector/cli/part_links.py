"""``connector part-link ...``: the remembered links from a platform's part to one of our products (decision 0028),
over the same service as ``/api/v1/part-links``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import col

from ..exchange import part_links
from ..storage import repositories as repo
from ..storage.part_links import PartLink
from .common import die
from .node import DataDir, command_context

part_link_app = typer.Typer(
    help="Remembered links: a platform's part our operator linked to one of our products; later trades for it are "
    "linked automatically.",
    no_args_is_help=True,
)
console = Console()
LinkId = Annotated[str, typer.Argument(help="The link's id (connector part-link list)")]


@part_link_app.command("list")
def list_links(data_dir: DataDir = None) -> None:
    """List the remembered links: platform, part (traceId and name), customer, our product, verifiers."""
    with command_context(data_dir) as ctx:
        rows, _ = repo.page(ctx.session, PartLink, order=col(PartLink.created_at), limit=10_000, offset=0)
    table = Table("id", "platform", "part", "customer", "product", "verifiers")
    for r in rows:
        part = f"{r.trace_id} ({r.parts_name})" if r.parts_name else r.trace_id
        table.add_row(r.id, r.platform_url, part, r.company_id, r.product_id, str(len(r.verifier_certs)))
    console.print(table)


def _pems(files: list[Path]) -> list[str]:
    out = []
    for path in files:
        try:
            out.append(path.read_text())
        except (OSError, UnicodeDecodeError) as exc:
            die(f"cannot read the verifier certificate {path}: {exc}")
    return out


@part_link_app.command("set")
def set_link(
    link_id: LinkId,
    product: Annotated[str | None, typer.Option("--product", help="Our product the part is, from now on")] = None,
    verifier: Annotated[
        list[Path] | None,
        typer.Option("--verifier", help="A PEM certificate of a verifier to seal later answers to (repeatable)"),
    ] = None,
    no_verifiers: Annotated[
        bool, typer.Option("--no-verifiers", help="Seal later answers to no named verifier")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Point a link at another product of ours, or replace the verifiers later answers are sealed to."""
    if verifier and no_verifiers:
        die("give --verifier or --no-verifiers, not both")
    certs = [] if no_verifiers else (_pems(verifier) if verifier else None)
    if product is None and certs is None:
        die("nothing to change: give --product, --verifier or --no-verifiers")
    with command_context(data_dir) as ctx:
        row = part_links.update(ctx, link_id, product_id=product, verifier_certs=certs)
        console.print(f"part link {row.id}: product {row.product_id}, {len(row.verifier_certs)} verifier(s)")


@part_link_app.command("remove")
def remove_link(link_id: LinkId, data_dir: DataDir = None) -> None:
    """Forget a link: later trades for the part wait for the operator to link them again."""
    with command_context(data_dir) as ctx:
        part_links.remove(ctx, link_id)
        console.print(f"part link {link_id} removed")
