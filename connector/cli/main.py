"""The ``connector`` command: thin typer commands over the same services as the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from .. import runtime
from ..errors import ConnectorError
from ..services import api_keys, audit, importer
from ..storage import repositories as repo
from ..storage.private import secure_folder, write_private
from .ca import ca_app
from .common import die, env_has, first_error, read_json
from .footprints import footprint_app
from .node import DataDir, checked_settings, fail, load_settings, node_context, node_identity, node_settings
from .pact_clients import pact_client_app
from .part_links import part_link_app
from .serve import check_serve, serve_workers, uvicorn_options
from .suppliers import import_footprint_command, record_upstream_command, supplier_data_command
from .users import user_app
from .verify import certify_command, verify_command

app = typer.Typer(
    help="Battery carbon-footprint traceability connector.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.add_typer(footprint_app, name="footprint")
app.add_typer(ca_app, name="ca")
app.add_typer(user_app, name="user", no_args_is_help=True)
app.add_typer(part_link_app, name="part-link")
app.add_typer(pact_client_app, name="pact-client")
audit_app = typer.Typer(help="The node's audit log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.command("verify")(verify_command)
app.command("certify")(certify_command)
app.command("import-footprint")(import_footprint_command)
app.command("record-upstream")(record_upstream_command)
app.command("supplier-data")(supplier_data_command)

console = Console()
err = Console(stderr=True)


def _version() -> str:
    """The installed distribution's version (the package's own when run from a bare checkout)."""
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        return version("battery-cfp-connector")
    except PackageNotFoundError:
        return __version__


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"connector {_version()}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Battery carbon-footprint traceability connector."""


@app.command()
def init(
    data_dir: DataDir = None,
    company_id: Annotated[str | None, typer.Option(help="Your company id URN (or CONNECTOR_COMPANY_ID)")] = None,
    company_name: Annotated[str | None, typer.Option(help="Your company name (or CONNECTOR_COMPANY_NAME)")] = None,
    public_url: Annotated[
        str | None, typer.Option(help="URL partners reach this node at (or CONNECTOR_PUBLIC_URL)")
    ] = None,
    database_url: Annotated[str | None, typer.Option(help="Database URL (default: SQLite in the data dir)")] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace the values an existing node.json has for the options given (its other settings are kept)",
        ),
    ] = False,
) -> None:
    """Create a node: data folder, database, and the first admin API key (printed once).

    On a folder that already has a node.json, nothing in it is dropped: options equal to it (or not given) change
    nothing, an option that differs is refused unless --force, which replaces just that key.
    """
    folder = data_dir or checked_settings().data_dir
    config_file = folder / "node.json"
    given = {
        "company_id": company_id,
        "company_name": company_name,
        "public_url": public_url,
        "database_url": database_url,
    }
    settings = load_settings(folder, **given)  # node.json merged with the options: checked before it is written
    if config_file.exists():
        config = _merged_config(config_file, {k: v for k, v in given.items() if v is not None}, force)
    else:
        for option, name in (("company_id", "CONNECTOR_COMPANY_ID"), ("company_name", "CONNECTOR_COMPANY_NAME")):
            if given[option] is None and not env_has(name):
                die(f"init needs --{option.replace('_', '-')} (or {name})")
        # node.json records what this node is, from the options or else the environment, never an unset default
        config = {k: getattr(settings, k) for k in ("company_id", "company_name", "public_url")}
        if database_url or env_has("CONNECTOR_DATABASE_URL"):
            config["database_url"] = settings.database_url
    secure_folder(folder)
    write_private(config_file, json.dumps(config, indent=2) + "\n")
    with node_context(settings) as ctx:
        if repo.count_admin_keys(ctx.session) > 0:
            console.print(f"Node in {folder} already initialised; no new key made.")
            return
        _, secret = api_keys.create_key(ctx.session, "initial admin", "admin")
    console.print(f"Node for [bold]{settings.company_name}[/] ({settings.company_id}) initialised in {folder}")
    console.print("Admin API key (shown once, keep it safe):")
    console.print(f"[bold]{secret}[/]", soft_wrap=True, highlight=False)  # never wrapped: copied or captured whole


def _merged_config(config_file: Path, given: dict[str, object], force: bool) -> dict[str, object]:
    """An existing node.json with the options given merged in; a changed value needs ``force``."""
    recorded = read_json(config_file, "node settings")
    if not isinstance(recorded, dict):
        die(f"node settings {config_file} must be a JSON object")
    changed = {k: v for k, v in given.items() if recorded.get(k) != v}
    if changed and not force:
        die(
            f"{config_file} already sets up a node and {', '.join(changed)} would change; nothing written "
            "(--force replaces those keys and keeps the others)"
        )
    return {**recorded, **changed}


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option(help="Listen address")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port")] = None,
    insecure_dev: Annotated[
        bool,
        typer.Option(
            "--insecure-dev", help="Start without a signing identity or TLS (local development only; said in /health)"
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Worker processes (default: the serve_workers setting, 1); more than one needs PostgreSQL",
        ),
    ] = None,
) -> None:
    """Run the node's HTTPS server (it needs a signing identity and TLS unless --insecure-dev)."""
    import uvicorn

    from ..api.app import create_app

    settings = node_settings(data_dir, listen_host=host, listen_port=port)
    settings = settings.model_copy(update={"insecure_dev": insecure_dev})  # the flag only, never the environment
    count = workers or settings.serve_workers
    try:
        runtime.check_workers(settings, count)  # SQLite is served by one process
    except ConnectorError as exc:
        fail(exc)
    for warning in check_serve(settings, insecure_dev):
        err.print(f"[bold red]WARNING: {warning}[/]", soft_wrap=True, markup=True)
    if count > 1:
        serve_workers(settings, count, insecure_dev)  # each worker claims its slot as below (serve.worker_app)
        return
    try:
        holder = runtime.claim_process(settings)  # one process per SQLite database; this process's lease holder id
    except ConnectorError as exc:
        fail(exc)
    secure_folder(settings.data_dir)  # again: what start-up made there (lock files, worker slots) is private too
    uvicorn.run(
        create_app(settings, identity=node_identity(settings), lease_holder=holder, freeze_heap=True),
        **uvicorn_options(settings),
    )


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(help="JSON file in the shape of the nmc811-chain fixture", exists=True)],
    data_dir: DataDir = None,
    company: Annotated[str | None, typer.Option(help="Company id in the file (default: this node's)")] = None,
) -> None:
    """Import a company's products, bills of materials and emissions."""
    settings = node_settings(data_dir)
    document = read_json(file, "import file")
    try:
        entry = importer.find_company(document, company or settings.company_id)
        names = importer.company_names(document)
        with node_context(settings) as ctx:
            report = importer.import_company(ctx, entry, names, importer.declared_units(document))
    except ConnectorError as exc:
        fail(exc)
        return
    console.print(
        f"Imported {len(report.products)} product(s), skipped {len(report.skipped)} already present; "
        f"{len(report.partners)} supplier(s) added."
    )


@app.command()
def declare(
    file: Annotated[
        Path, typer.Argument(help='Declaration input JSON (the fixture\'s "declaration" object shape)', exists=True)
    ],
    data_dir: DataDir = None,
    out: Annotated[Path, typer.Option(help="Folder for the declaration, its VC, bundle and HTML")] = Path(
        "declaration"
    ),
    catenax_passport: Annotated[
        Path | None,
        typer.Option(
            help="The automaker's Catena-X battery_pass 6.1.0 passport without the carbon footprint (e.g. "
            "examples/nmc811-catenax-passport.json): catenax-battery-pass.json is then the whole aspect",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Issue the Art. 7 declaration from the attested pack footprint this (oem) node holds."""
    from ..declaration import DeclarationInput, render_declaration_html, to_battery_pass, to_catenax_battery_pass
    from ..declaration.exports import catenax_left_to_merge, check_catenax_passport
    from ..services import declaring

    settings = node_settings(data_dir)
    raw = read_json(file, "declaration input")
    passport = read_json(catenax_passport, "Catena-X passport") if catenax_passport else None
    if passport is not None:
        try:
            check_catenax_passport(passport)
        except ConnectorError as exc:
            fail(exc)
    try:
        inp = DeclarationInput.model_validate(raw.get("declaration", raw) if isinstance(raw, dict) else raw)
    except ValidationError as exc:
        die(f"invalid declaration input: {first_error(exc)}")
    try:
        with node_context(settings) as ctx:
            row = declaring.declare(ctx, inp)
    except ConnectorError as exc:
        fail(exc)
        return
    document = declaring.document_of(row)
    try:  # after the declaration is issued: a passport problem is reported, and `connector declare` is not retried
        catenax = to_catenax_battery_pass(document, passport=passport)
    except ConnectorError as exc:
        catenax = None
        console.print(f"[red]catenax-battery-pass.json not written[/]: {exc.detail}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "declaration.json").write_text(json.dumps(row.document, indent=2) + "\n")
    (out / "declaration.vc.jwt").write_text((row.signed or "") + "\n")
    (out / "bundle.json").write_text(json.dumps(declaring.bundle_of(row), indent=2) + "\n")
    (out / "declaration.html").write_text(render_declaration_html(document))
    (out / "battery-pass.json").write_text(json.dumps(to_battery_pass(document), indent=2) + "\n")
    if catenax is not None:
        (out / "catenax-battery-pass.json").write_text(json.dumps(catenax, indent=2) + "\n")
    if catenax is not None and passport is None:
        console.print(
            "catenax-battery-pass.json is the declaration's part of the passport; the automaker merges "
            "(or pass --catenax-passport): " + ", ".join(catenax_left_to_merge(document))
        )
    cf = document.carbon_footprint
    console.print(
        f"Declared {inp.battery_model}: [bold]{cf.value} {cf.unit}[/] "
        f"(absolute {document.absolute_carbon_footprint.value} kg CO2e); files in {out}"
    )
    if catenax is None:
        raise typer.Exit(1)


@audit_app.command("check")
def audit_check(data_dir: DataDir = None) -> None:
    """Recompute the audit log's hash chain: exit 0 when it is intact, 1 with the first broken entry."""
    settings = node_settings(data_dir)
    with node_context(settings) as ctx:
        result = audit.check_chain(ctx.session)
    if not result.valid:
        die(f"audit chain broken at entry {result.first_bad_seq}: {result.reason} ({result.entries} entries read)")
    console.print(f"audit chain valid: {result.entries} entries")


@app.command()
def demo(
    fixture: Annotated[
        Path | None,
        typer.Option(help="Supply-chain file (default: the packaged NMC811 example, examples/nmc811-chain.json)"),
    ] = None,
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("demo-output"),
    keep: Annotated[bool, typer.Option("--keep", help="Leave the nodes running and print their URLs and keys")] = False,
    timeout: Annotated[
        float,
        typer.Option(
            min=1,
            help="Seconds to wait for the nodes to start, and again for the pack footprint to reach the automaker",
        ),
    ] = 120,
    catenax: Annotated[
        bool,
        typer.Option(
            "--catenax", help="The automaker asks the pack maker over Catena-X (EDC hop simulated at the boundary)"
        ),
    ] = False,
    ouranos: Annotated[
        bool, typer.Option("--ouranos", help="The pack maker asks its cell maker over Ouranos DTS (a platform node)")
    ] = False,
    without_node: Annotated[
        str | None,
        typer.Option(
            "--without-node",
            metavar="COMPANY[,COMPANY]",
            help="Companies that run no node (ids or their last part, e.g. sulawesi-nickel,inner-graphite): their "
            "customers enter their values from the files in NAME-without-node/ beside the chain",
        ),
    ] = None,
) -> None:
    """Run the demo dataspace: one HTTPS node per company, request, signed answers, declaration, verification."""
    from ..demo.run import run_demo

    names = [n for n in (without_node or "").split(",") if n.strip()]
    pairs = {"catenax": catenax, "ouranos": ouranos}
    ok = run_demo(fixture or default_fixture(), out, console, keep=keep, timeout=timeout, without_node=names, **pairs)
    raise typer.Exit(0 if ok else 1)


def default_fixture() -> Path:
    """The example chain shipped inside the package, so a clone and a ``pip install`` both have it."""
    from ..demo.chains import DEFAULT_CHAIN

    return DEFAULT_CHAIN
