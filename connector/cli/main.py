"""The ``connector`` command: thin typer commands over the same services as the API."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from .. import runtime
from ..config import Settings
from ..errors import ConnectorError
from ..services import footprints, importer, keys
from ..services.catalog import product_read
from ..services.context import NodeContext
from ..services.identity import load_identity
from ..stages import STAGES
from ..storage import repositories as repo
from ..storage.db import create_schema, make_engine
from .ca import ca_app
from .verify import certify_command, verify_command

app = typer.Typer(help="Battery carbon-footprint traceability connector.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
footprint_app = typer.Typer(help="Compute and show footprints.", no_args_is_help=True)
app.add_typer(footprint_app, name="footprint")
app.add_typer(ca_app, name="ca")
app.command("verify")(verify_command)
app.command("certify")(certify_command)

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Node data folder (default: $CONNECTOR_DATA_DIR or .connector)")]


def load_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    """Settings from ``<data-dir>/node.json``, overridden by the environment (CONNECTOR_*), then by explicit options."""
    base = Settings()
    folder = data_dir or base.data_dir
    values: dict[str, object] = {}
    config_file = folder / "node.json"
    if config_file.exists():
        values.update(json.loads(config_file.read_text()))
    # only what the environment really set: the database_url the validator derives from the default data dir is not
    env = base.model_dump(include=base.model_fields_set - {"data_dir", "database_url"})
    if any(k.upper() == "CONNECTOR_DATABASE_URL" for k in os.environ):
        env["database_url"] = base.database_url
    values.update(env)
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["data_dir"] = folder
    return Settings(**values)


@contextmanager
def node_context(settings: Settings) -> Iterator[NodeContext]:
    engine = make_engine(str(settings.database_url))
    create_schema(engine)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield NodeContext(session=session, settings=settings, identity=load_identity(settings))
            session.commit()
        except BaseException:
            session.rollback()
            raise
    engine.dispose()


def fail(exc: ConnectorError) -> None:
    err.print(f"[bold red]error:[/] {exc.detail}")
    for item in exc.errors:
        err.print(f"  - {item.get('field')}: {item.get('message')}")
    raise typer.Exit(1)


@app.command()
def init(
    data_dir: DataDir = None,
    company_id: Annotated[str | None, typer.Option(help="Your company id URN (or CONNECTOR_COMPANY_ID)")] = None,
    company_name: Annotated[str | None, typer.Option(help="Your company name (or CONNECTOR_COMPANY_NAME)")] = None,
    public_url: Annotated[str | None, typer.Option(help="URL partners reach this node at (or CONNECTOR_PUBLIC_URL)")] = None,
    database_url: Annotated[str | None, typer.Option(help="Database URL (default: SQLite in the data dir)")] = None,
) -> None:
    """Create a node: data folder, database, and the first admin API key (printed once)."""
    folder = data_dir or Settings().data_dir
    folder.mkdir(parents=True, exist_ok=True)
    given = {"company_id": company_id, "company_name": company_name, "public_url": public_url,
             "database_url": database_url}
    settings = load_settings(folder, **given)
    # node.json records what this node is, from the options or else the environment, never an unset default
    config = {k: getattr(settings, k) for k in ("company_id", "company_name", "public_url")}
    if database_url or "CONNECTOR_DATABASE_URL" in {k.upper() for k in os.environ}:
        config["database_url"] = settings.database_url
    (folder / "node.json").write_text(json.dumps(config, indent=2) + "\n")
    with node_context(settings) as ctx:
        if repo.count_admin_keys(ctx.session) > 0:
            console.print(f"Node in {folder} already initialised; no new key made.")
            return
        _, secret = keys.create_key(ctx.session, "initial admin", "admin")
    console.print(f"Node for [bold]{settings.company_name}[/] ({settings.company_id}) initialised in {folder}")
    console.print(f"Admin API key (shown once, keep it safe):\n[bold]{secret}[/]")


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="Listen address")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port")] = None,
) -> None:
    """Run the node's HTTP server."""
    import uvicorn

    from ..api.app import create_app

    settings = load_settings(data_dir, listen_host=host, listen_port=port)
    ssl = {}
    if settings.tls_cert_file and settings.tls_key_file:
        ssl = {"ssl_certfile": str(settings.tls_cert_file), "ssl_keyfile": str(settings.tls_key_file)}
    elif not settings.allow_insecure_http and not settings.listen_host.startswith("127."):
        err.print("[red]refusing plain HTTP on a non-loopback address; set TLS files or CONNECTOR_ALLOW_INSECURE_HTTP[/]")
        raise typer.Exit(2)
    try:
        holder = runtime.claim_process(settings)  # one process per SQLite database; this process's lease holder id
    except ConnectorError as exc:
        fail(exc)
    uvicorn.run(create_app(settings, lease_holder=holder), host=settings.listen_host, port=settings.listen_port, log_level="info",
                timeout_graceful_shutdown=3, **ssl)


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="JSON file in the shape of the nmc811-chain fixture", exists=True)],
    data_dir: DataDir = None,
    company: Annotated[str | None, typer.Option(help="Company id in the file (default: this node's)")] = None,
) -> None:
    """Import a company's products, bills of materials and emissions."""
    settings = load_settings(data_dir)
    document = json.loads(file.read_text())
    try:
        entry = importer.find_company(document, company or settings.company_id)
        names = {c["companyId"]: c["name"] for c in document.get("companies", [])}
        with node_context(settings) as ctx:
            report = importer.import_company(ctx, entry, names)
    except ConnectorError as exc:
        fail(exc)
        return
    console.print(f"Imported {len(report.products)} product(s), skipped {len(report.skipped)} already present; "
                  f"{len(report.partners)} supplier(s) added.")


@footprint_app.command("compute")
def footprint_compute(
    product: Annotated[str, typer.Argument(help="Product URN or local id")],
    data_dir: DataDir = None,
) -> None:
    """Compute a product's footprint from the upstream values held."""
    settings = load_settings(data_dir)
    try:
        with node_context(settings) as ctx:
            found = repo.product_by_urn(ctx.session, product)
            fp, changed = footprints.compute(ctx, found.id if found else product)
            _print_footprint(ctx, fp.id)
            console.print("new version issued" if changed else "unchanged: the active footprint already has these values")
    except ConnectorError as exc:
        fail(exc)


@footprint_app.command("show")
def footprint_show(
    product: Annotated[str, typer.Argument(help="Product URN or local id")],
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show a product's footprint versions."""
    settings = load_settings(data_dir)
    try:
        with node_context(settings) as ctx:
            found = repo.product_by_urn(ctx.session, product)
            pid = found.id if found else product
            from ..services.catalog import get_product

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
    from ..services.catalog import get_product

    fp = footprints.get_footprint(ctx, footprint_id)
    prod = get_product(ctx, fp.product_id)
    table = Table(title=f"{prod.name} — v{fp.version} {fp.status} ({fp.id})", title_justify="left")
    table.add_column("stage")
    table.add_column(f"kg CO2e per {prod.declared_unit}", justify="right")
    for st in STAGES:
        table.add_row(st.value.replace("_", " "), fp.stages[st.value])
    table.add_row("[bold]total[/]", f"[bold]{footprints.format_decimal(fp.total)}[/]")
    console.print(table)


@app.command()
def declare(
    file: Annotated[Path, typer.Argument(help="Declaration input JSON (the fixture's \"declaration\" object shape)",
                                         exists=True)],
    data_dir: DataDir = None,
    out: Annotated[Path, typer.Option(help="Folder for the declaration, its VC, bundle and HTML")] = Path("declaration"),
) -> None:
    """Issue the Art. 7 declaration from the attested pack footprint this (oem) node holds."""
    from pydantic import ValidationError

    from ..declaration import DeclarationInput, render_declaration_html, to_battery_pass
    from ..services import declaring

    settings = load_settings(data_dir)
    raw = json.loads(file.read_text())
    try:
        inp = DeclarationInput.model_validate(raw.get("declaration", raw))
    except ValidationError as exc:
        err.print(f"[bold red]error:[/] invalid declaration input: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}")
        raise typer.Exit(1) from None
    try:
        with node_context(settings) as ctx:
            row = declaring.declare(ctx, inp)
    except ConnectorError as exc:
        fail(exc)
        return
    document = declaring.document_of(row)
    out.mkdir(parents=True, exist_ok=True)
    (out / "declaration.json").write_text(json.dumps(row.document, indent=2) + "\n")
    (out / "declaration.vc.jwt").write_text((row.signed or "") + "\n")
    (out / "bundle.json").write_text(json.dumps(row.bundle, indent=2) + "\n")
    (out / "declaration.html").write_text(render_declaration_html(document))
    (out / "battery-pass.json").write_text(json.dumps(to_battery_pass(document), indent=2) + "\n")
    cf = document.carbon_footprint
    console.print(f"Declared {inp.battery_model}: [bold]{cf.value} {cf.unit}[/] "
                  f"(absolute {document.absolute_carbon_footprint.value} kg CO2e); files in {out}")


@app.command()
def demo(
    fixture: Annotated[Path | None, typer.Option(help="Supply-chain file (default: the packaged NMC811 example, examples/nmc811-chain.json)")] = None,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("demo-output"),
    keep: Annotated[bool, typer.Option("--keep", help="Leave the nodes running and print their URLs and keys")] = False,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for the nodes to start, and again for the "
                                                       "pack footprint to reach the automaker")] = 120,
) -> None:
    """Run the demo dataspace: one HTTPS node per company, request, signed answers, declaration, verification."""
    from ..demo.run import run_demo

    ok = run_demo(fixture or default_fixture(), out, console, keep=keep, timeout=timeout)
    raise typer.Exit(0 if ok else 1)


def default_fixture() -> Path:
    """The example chain shipped inside the package, so a clone and a ``pip install`` both have it."""
    from ..demo.chains import DEFAULT_CHAIN

    return DEFAULT_CHAIN
