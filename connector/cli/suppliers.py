"""Suppliers without a node (issue 17): ``connector import-footprint``, ``connector record-upstream`` and
``connector supplier-data``, over the same services as the operator API."""

from __future__ import annotations

import base64
import getpass
import hashlib
import mimetypes
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from ..api import footprint_files
from ..errors import ConnectorError
from ..services import footprint_import, footprints
from ..services import models as m
from ..services.supplier_data import supplier_data_view
from ..storage import repositories as repo
from .common import die, first_error, read_json
from .node import DataDir, fail, node_context, node_settings

console = Console()


def cli_user() -> str:
    """Who enters a value from the command line: ``cli:<os user>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        die(f"cannot read {what} {path}: {exc}")


def import_footprint_command(
    file: Annotated[
        Path,
        typer.Argument(
            help='A PACT v3 ProductFootprint JSON (or a {"data": [...]} list) or a '
            "Catena-X PCF JSON (io.catenax.pcf 7.x or 9.0.0)"
        ),
    ],
    data_dir: DataDir = None,
    supplier: Annotated[
        str | None, typer.Option(help="The supplier's company id, when the file's is ambiguous")
    ] = None,
    product: Annotated[str | None, typer.Option(help="The upstream product id, when the file's is ambiguous")] = None,
) -> None:
    """Import a supplier's PACT or Catena-X footprint file as an entered value for its BOM line.

    The value is converted to the line's unit and split into the four stages as decision 0019 says.
    """
    settings = node_settings(data_dir)
    raw = _read(file, "footprint file")
    try:
        kind, found = footprint_files.read(footprint_files.parse(raw))
        with node_context(settings) as ctx:
            for fp in found:
                done = footprint_import.import_footprint(
                    ctx, fp, document=raw, source_kind=kind, entered_by=cli_user(), supplier=supplier, product=product
                )
                total = sum((footprints.Decimal(v) for v in done.stages.values()), footprints.Decimal(0))
                console.print(
                    f"Recorded {done.supplier_company_id} {done.product_id} for {done.product_name} "
                    f"({kind}, entered by {done.entered_by}): {footprints.format_decimal(total)} kg CO2e per "
                    f"{done.declared_unit}, footprint {done.footprint_id}"
                )
    except ConnectorError as exc:
        fail(exc)


def record_upstream_command(
    file: Annotated[Path, typer.Argument(help="The value as JSON, the body of POST /api/v1/upstream-footprints")],
    document: Annotated[
        Path | None, typer.Option(help="The document the value was typed from (a PDF, a spreadsheet...), kept with it")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Record a supplier's footprint typed from a document, as an entered value.

    Its sourceKind defaults to document; the document it was typed from is kept and sealed for verifiers.
    """
    settings = node_settings(data_dir)
    raw = read_json(file, "upstream footprint file")
    if document is not None and isinstance(raw, dict):
        # the document joins the body before it is checked: a file that names the document's mediaType (or its
        # documentSha256) describes the document given here, and is not "a mediaType without a document"
        if raw.get("document") is not None:
            die(f"upstream footprint file {file}: give the document either in the file or with --document, not both")
        content = _read(document, "document")
        given = raw.get("documentSha256")
        if isinstance(given, str) and given.lower() != hashlib.sha256(content).hexdigest():
            die(f"{document}: its SHA-256 differs from the file's documentSha256")
        media_type = raw.get("mediaType") or mimetypes.guess_type(document.name)[0] or "application/octet-stream"
        raw = {**raw, "document": base64.b64encode(content).decode(), "mediaType": media_type}
    try:
        body = m.EnteredUpstreamCreate.model_validate(raw)
    except ValidationError as exc:
        die(f"upstream footprint file {file}: {first_error(exc)}")
    try:
        with node_context(settings) as ctx:
            row = footprints.record_entered(ctx, body, cli_user())
            console.print(
                f"Recorded {row.supplier_company_id} {row.product_id} (entered by {row.entered_by}"
                + (f", document sha256 {row.document_sha256}" if row.document_sha256 else ", no document")
                + f"): footprint {row.footprint_id}"
            )
    except ConnectorError as exc:
        fail(exc)


def supplier_data_command(
    product: Annotated[str | None, typer.Argument(help="Product URN or local id (default: every product)")] = None,
    data_dir: DataDir = None,
) -> None:
    """Show each product's supplier lines: missing, entered or attested, and the latest request sent.

    Missing: no value; entered: from where, by whom, when; attested: a supplier's verified attestation.
    """
    settings = node_settings(data_dir)
    try:
        with node_context(settings) as ctx:
            pid = None
            if product is not None:
                found = repo.product_by_urn(ctx.session, product)
                pid = found.id if found else product
            lines = supplier_data_view(ctx, pid)
    except ConnectorError as exc:
        fail(exc)
        return
    table = Table(title="Supplier data", title_justify="left")
    for name in ("product", "supplier", "upstream product", "quantity", "state", "entered", "request"):
        table.add_column(name)
    colours = {"missing": "red", "entered": "yellow", "attested": "green", "own": "green"}
    for line in lines:
        entered = ""
        if line.state == "entered":
            when = line.received_at.strftime("%Y-%m-%d %H:%M") if line.received_at else ""
            who = f" by {line.entered_by}" if line.entered_by else ""
            entered = f"{line.source_kind or 'by hand'}{who} {when}".strip()
        request = ""
        if line.request is not None:
            request = line.request.state + (f": {line.request.reason}" if line.request.reason else "")
        table.add_row(
            line.product_name,
            line.supplier_company_id,
            line.supplier_product_id,
            f"{footprints.format_decimal(line.quantity)} {line.unit}",
            f"[{colours[line.state]}]{line.state}[/]",
            entered,
            request,
        )
    out = Console()  # made now: the terminal's width (COLUMNS) as it is when the command runs
    if not lines:
        out.print("No supplier lines.")
        return
    out.print(table)
    missing = sum(1 for line in lines if line.state == "missing")
    out.print(f"{len(lines)} supplier line(s), {missing} missing.")
