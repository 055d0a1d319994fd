"""The demo's summary of a declaration that rests in part on entered values (suppliers without a node, issue 17): the
attested coverage per stage and overall, and each entered supplier as the notified body's verifier saw it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rich.console import Console
from rich.table import Table

from ..stages import STAGES
from .chain import names_of
from .dataspace import DemoDataspace


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("children", []):
        yield from _nodes(child)


def entered_inputs_of(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every entered input the verifier opened: (the company that entered it, the input as the report lists it)."""
    return [
        (node.get("company") or "", item)
        for node in _nodes(report["root"])
        for item in node.get("inputs") or []
        if item.get("basis") == "entered"
    ]


def print_coverage(space: DemoDataspace, declaration: dict[str, Any], report: dict[str, Any], console: Console) -> str:
    """Print the declaration's attested coverage and the entered suppliers; returns the verdict with the coverage."""
    coverage = declaration.get("attestedCoverage") or {}
    per_stage = {c["stage"]: c["percent"] for c in coverage.get("stages", [])}
    table = Table(title="Attested coverage (rounded down)", title_justify="left")
    table.add_column("life cycle stage")
    table.add_column("attested", justify="right")
    for stage in STAGES:
        table.add_row(stage.value.replace("_", " "), f"{per_stage.get(stage.value, '?')} %")
    table.add_row("[bold]total[/]", f"[bold]{coverage.get('total', '?')} %[/]")
    console.print(table)

    names = names_of(space.document)
    files = {s.company_id: s for s in space.without_node}
    suppliers = Table(title="Suppliers without a node: values entered by their customers", title_justify="left")
    for column in ("supplier", "entered by", "source", "share", "document"):
        suppliers.add_column(column, justify="right" if column == "share" else "left")
    for company, item in entered_inputs_of(report):
        supplier = item.get("supplier") or "?"
        shipped = files.get(supplier)
        source = item.get("sourceKind") or "?"
        if shipped is not None:
            source += f" {shipped.file.name}" + (f" + {shipped.document.name}" if shipped.document else "")
        suppliers.add_row(
            names.get(supplier, supplier),
            names.get(company, company),
            source,
            f"{item.get('sharePercent')} %",
            item.get("documentCheck") or "",
        )
    console.print(suppliers)
    tier1 = [s.get("companyName") or s.get("companyId") for s in coverage.get("enteredTier1", [])]
    console.print(
        f"Entered inputs: {report.get('enteredInputs', 0)} (share: of the footprint of the company that entered it). "
        f"The declaration names the tier-1 suppliers with entered values ({', '.join(tier1) or 'none'}) and "
        f"counts those deeper in the chain ({coverage.get('enteredDeeperTiers', 0)}).",
        highlight=False,
    )
    count = report.get("enteredInputs", 0)
    return (
        f"[bold green]valid[/], {report.get('attestedCoverage', {}).get('total', '?')} % attested "
        f"({count} entered input{'' if count == 1 else 's'})"
    )


__all__ = ["entered_inputs_of", "print_coverage"]
