"""``connector demo``: the whole product in one command, with progress, results and a clean exit."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..stages import STAGES
from .coverage_summary import print_coverage
from .dataspace import DemoDataspace, DemoError
from .entered import WithoutNodeError, entered_suppliers


def _sigterm(_signo: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def run_demo(
    fixture: Path,
    out: Path,
    console: Console,
    *,
    keep: bool = False,
    timeout: float = 120,
    catenax: bool = False,
    without_node: Sequence[str] = (),
    ouranos: bool = False,
) -> bool:
    """Run the demo dataspace end to end; True when the verifier's verdict is valid and the values match.

    ``timeout`` bounds the nodes' start-up and, again, the pack footprint's trip; either running out is reported with
    the node to blame and the end of its log, not a traceback. ``without_node``: companies (ids or their last part)
    that run no node; their customers enter their values from the files beside the chain (:mod:`.entered`).
    """
    started = time.monotonic()
    if ouranos:
        from .ouranos_hop import OuranosDataspace

        space: DemoDataspace = OuranosDataspace(fixture, out, catenax=catenax)
    else:
        space = DemoDataspace(fixture, out, catenax=catenax)
    try:
        space.without_node = entered_suppliers(fixture, space.document, without_node)
    except WithoutNodeError as exc:
        console.print(f"[bold red]demo stopped:[/] {exc}", highlight=False, markup=True)
        return False
    previous = signal.signal(signal.SIGTERM, _sigterm)
    try:
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=False
        ) as progress:
            step = progress.add_task("Dataspace CA, company certificates, node databases", total=1)
            space.prepare()
            progress.update(step, completed=1)
            step = progress.add_task(f"Starting {len(space.nodes)} nodes over HTTPS", total=1)
            space.start_all()
            asyncio.run(space.wait_healthy(timeout=timeout))
            progress.update(step, completed=1)
            if space.without_node:
                names = ", ".join(s.name for s in space.without_node)
                step = progress.add_task(f"No node for {names}: their customers enter their values", total=1)
                asyncio.run(space.enter_values())
                progress.update(step, completed=1)
            step = progress.add_task("Automaker requests the pack footprint; it ripples up 6 tiers and back", total=1)
            asyncio.run(space.request_pack())
            asyncio.run(space.wait_for_pack(timeout=timeout))
            progress.update(step, completed=1)
            step = progress.add_task("Declaration (Art. 7) signed; notified body verifies the evidence", total=1)
            result = asyncio.run(space.declare_and_verify())
            progress.update(step, completed=1)
        ok = _report(space, result, console, time.monotonic() - started)
        hop = getattr(space, "hop_summary", None)
        if hop is not None:
            console.print(hop(), highlight=False, markup=False)
        if keep:
            _print_nodes(space, console)
            console.print("Nodes keep running; press Ctrl-C to stop them.")
            while True:
                time.sleep(3600)
        return ok
    except (DemoError, WithoutNodeError) as exc:
        console.print(f"[bold red]demo stopped:[/] {exc}", highlight=False, markup=True)
        return False
    except KeyboardInterrupt:
        console.print("interrupted")
        return False
    finally:
        space.stop_all()
        signal.signal(signal.SIGTERM, previous)


def _report(space: DemoDataspace, result: dict[str, Any], console: Console, seconds: float) -> bool:
    """The declared values (next to the chain's ``expected`` section when it has one) and the verifier's verdict."""
    decl = result["declaration"]
    report = result["report"]
    want: dict[str, str] | None = space.document.get("expected", {}).get("declaration")
    table = Table(title="Carbon footprint declaration (kg CO2e per kWh of lifetime energy)", title_justify="left")
    table.add_column("life cycle stage")
    table.add_column("declared", justify="right")
    if want is not None:
        table.add_column("fixture expects", justify="right")
    declared = {st["stage"]: st["value"] for st in decl["stages"]}
    total = decl["carbonFootprint"]["value"]
    absolute = decl["absoluteCarbonFootprint"]["value"]
    rows = [(stage.value.replace("_", " "), declared[stage.value], stage.value) for stage in STAGES]
    rows += [("total", total, "total"), ("absolute, kg CO2e per battery", absolute, "absoluteKgCo2e")]
    match = True
    for label, value, key in rows:
        shown = [f"[bold]{label}[/]", f"[bold]{value}[/]"] if key == "total" else [label, value]
        if want is not None:
            expected = want.get(key)
            shown.append(expected if expected is not None else "-")
            match &= expected is None or Decimal(value) == Decimal(expected)
        table.add_row(*shown)
    console.print(table)
    verdict = (
        "[bold green]valid[/]" if report["valid"] else f"[bold red]INVALID[/] ({len(report['failures'])} failures)"
    )
    strict = ""
    if space.without_node or not report.get("fullyAttested", True):
        verdict = print_coverage(space, decl, report, console) if report["valid"] else verdict
        strict = " (add --require-attested to refuse entered values)"
    for failure in report["failures"]:
        console.print(
            f"  [red]✗[/] {failure.get('companyName') or failure.get('company')}: {failure['check']}: "
            f"{failure['detail']}"
        )
    console.print(
        Panel.fit(
            f"Verifier ({space.document['verifier']['name']}): {verdict}\n"
            + (
                f"Values equal the fixture: {'yes' if match else '[red]no[/]'}\n"
                if want is not None
                else "Values: the chain file has no expected section, nothing to compare\n"
            )
            + f"Results in {result['results']}\n"
            f"  declaration.json, declaration.vc.jwt, declaration.html, bundle.json, verification-report.json,\n"
            f"  battery-pass.json, catenax-battery-pass.json\n"
            f"Offline check: connector verify {result['results'] / 'bundle.json'} --trust {space.ca_dir / 'root.pem'} "
            f"--key {space.nodes[space.verifier_id].data_dir / 'identity' / 'company.key'}{strict}\n"
            f"Wall time {seconds:.1f} s",
            title="Demo dataspace",
        )
    )
    return bool(report["valid"]) and match


def _print_nodes(space: DemoDataspace, console: Console) -> None:
    """One block per node, never cut to the terminal's width (a URL or a password cut short is useless)."""
    console.print("[bold]Running nodes[/]: open a console URL and log in (operator API docs at <URL>/docs)")
    for node in space.nodes.values():
        lines = (
            f"{node.name} ({node.role})\n"
            f"  console   {node.url}/console/\n"
            f"  login     {node.console_login}   password {node.console_password}\n"
            f"  API key   {node.api_key}"
        )
        console.print(lines, soft_wrap=True, highlight=False, markup=False)
    console.print(
        f"TLS trust anchor: {space.ca_dir / 'root.pem'} (the browser warns until you trust it; curl --cacert ...)",
        soft_wrap=True,
        highlight=False,
    )
