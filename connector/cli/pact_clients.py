"""``connector pact-client ...``: the ``client_secret_basic`` credentials of PACT partners without dataspace
certificates (decision 0029), over the same service as ``/api/v1/pact-clients``: issue, list, rotate, revoke."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from ..services import pact_clients
from ..services.models import PeerClientCreate, PeerClientCreated
from .common import die, first_error
from .node import DataDir, command_context

pact_client_app = typer.Typer(
    help="PACT client credentials (client_secret_basic) for partners without dataspace certificates: issue, list, "
    "rotate, revoke.",
    no_args_is_help=True,
)
console = Console()
ClientId = Annotated[str, typer.Argument(help="The client's id, pact-... (connector pact-client list)")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, in the operator API's shape")]


def _print_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2))


def _show_secret(made: PeerClientCreated, as_json: bool, what: str) -> None:
    """The credentials with their secret, which is shown here once (only its hash is stored)."""
    if as_json:
        _print_json(made.model_dump(mode="json", by_alias=True))
        return
    lines = (
        f"{what} PACT client {escape(made.client_id)} for {escape(made.company_id)}",
        f"token endpoint: {escape(made.token_endpoint)} (HTTP Basic, grant_type=client_credentials)",
        "client secret (shown once, hand it to the partner over a safe channel):",
    )
    for line in lines:
        console.print(line, soft_wrap=True, highlight=False)  # never wrapped: ids and URLs are copied whole
    typer.echo(made.client_secret)  # plain: never wrapped or styled, copied or captured whole


@pact_client_app.command("list")
def list_clients(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """List the clients issued: client id, company, when its secret was issued, state (never a secret)."""
    with command_context(data_dir) as ctx:
        clients = pact_clients.list_clients(ctx)
    if as_json:
        _print_json([c.model_dump(mode="json", by_alias=True) for c in clients])
        return
    table = Table(
        Column("client id", no_wrap=True, min_width=21),  # whole, never cut: it is what the operator copies
        Column("company", overflow="fold"),
        "secret since (UTC)",
        "state",
    )
    for c in clients:
        since = (c.rotated_at or c.created_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(escape(c.client_id), escape(c.company_id), since, "revoked" if c.revoked else "active")
    console.print(table)


@pact_client_app.command("create")
def create(
    company_id: Annotated[
        str, typer.Argument(help="The partner's company id URN, e.g. urn:pact:tool.example:company:t")
    ],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Issue credentials to a partner's company id; the secret is shown once. Grant it products to read."""
    try:
        body = PeerClientCreate.model_validate({"companyId": company_id})
    except ValidationError as exc:
        die(f"invalid company id {company_id!r}: {first_error(exc)}")
    with command_context(data_dir) as ctx:
        made = pact_clients.issue(ctx, body.company_id)
    _show_secret(made, as_json, "issued")


@pact_client_app.command("rotate")
def rotate(client_id: ClientId, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Replace a client's secret (shown once); the old secret and its access tokens are refused from now on."""
    with command_context(data_dir) as ctx:
        made = pact_clients.rotate(ctx, client_id)
    _show_secret(made, as_json, "rotated")


@pact_client_app.command("revoke")
def revoke(client_id: ClientId, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Revoke a client for good: its secret and its access tokens are refused from now on."""
    with command_context(data_dir) as ctx:
        client = pact_clients.revoke(ctx, client_id)
    if as_json:
        _print_json(client.model_dump(mode="json", by_alias=True))
        return
    console.print(f"PACT client {escape(client.client_id)} ({escape(client.company_id)}) revoked", soft_wrap=True)
