"""The report as a rich tree: one branch per signed object, its failed checks spelled out, passed ones summarised."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.text import Text
from rich.tree import Tree

from .report import EvidenceStatus, InputSummary, VerificationNode, VerificationReport, full_percent

_EVIDENCE_STYLE = {
    EvidenceStatus.OPENED: "green",
    EvidenceStatus.CERTIFIED_NOT_OPENED: "cyan",
    EvidenceStatus.NOT_OPENED: "yellow",
    EvidenceStatus.MISSING: "red",
    EvidenceStatus.SEALED_FOR_ANOTHER_VERIFIER: "red",
    EvidenceStatus.FAILED: "red",
}


def _short(text: str | None, keep: int = 12) -> str:
    if not text:
        return "?"
    return text if len(text) <= keep + 1 else text[:keep] + "…"


def _label(node: VerificationNode) -> str:
    mark = "[green]✔[/]" if node.node_ok else "[bold red]✘[/]"
    who = escape(node.company_name or node.company or "unknown company")
    company = escape(node.company or "?")
    if node.kind == "declaration":
        head = f"{mark} [bold]declaration[/] by {who} [dim]{company}[/]"
        ref = f"id {escape(node.footprint_id or '?')}"
    elif node.kind == "certification":
        head = f"{mark} [bold]certification[/] by {who} [dim]{company}[/]"
        ref = f"of {escape(node.audience or '?')}, attestation digest {escape(_short(node.digest))}"
    elif node.kind == "bundle":
        return f"{mark} [bold]bundle[/]"
    else:
        head = f"{mark} [bold]{who}[/] [dim]{company}[/]"
        products = ", ".join(node.product_ids) or "?"
        ref = (
            f"attestation {escape(node.attestation_id or '?')} digest {escape(_short(node.digest))} "
            f"footprint {escape(node.footprint_id or '?')} products {escape(products)}"
        )
        if node.total is not None:
            ref += f" total [bold]{escape(node.total)}[/] kg CO2e/{escape(node.declared_unit or '?')}"
    tags = []
    if node.kind == "attestation":
        style = _EVIDENCE_STYLE.get(node.evidence, "white")
        tags.append(f"[{style}]evidence: {node.evidence.value}[/]")
    if node.certified:
        tags.append("[cyan]certified[/]")
    return f"{head}  {' '.join(tags)}\n  [dim]{ref}[/]"


def _add(tree: Tree, node: VerificationNode, *, verbose: bool) -> None:
    passed = [c.name for c in node.checks if c.ok]
    if passed and not verbose:
        tree.add(Text("✔ " + ", ".join(dict.fromkeys(passed)), style="green dim"))
    for check in node.checks:
        if not check.ok:
            tree.add(f"[bold red]✘ {escape(check.name)}[/]: {escape(check.detail)}")
        elif verbose:
            tree.add(f"[green]✔ {escape(check.name)}[/] [dim]{escape(check.detail)}[/]")
    if node.own_emissions is not None:
        own = ", ".join(f"{k}={v}" for k, v in node.own_emissions.items())
        tree.add(f"[magenta]own emissions[/] [dim](hidden from customers)[/]: {escape(own)}")
    if node.attested_coverage is not None and (
        node.entered_inputs or not full_percent(node.attested_coverage.get("total"))
    ):
        stages = ", ".join(f"{k}={v} %" for k, v in node.attested_coverage.items() if k != "total")
        tree.add(
            f"[yellow]attested coverage {escape(node.attested_coverage.get('total', '?'))} %[/], "
            f"{node.entered_inputs or 0} entered input(s) below [dim]({escape(stages)})[/]"
        )
    for line in node.inputs or []:
        if line.basis == "entered":
            tree.add(entered_line(line))
    for child in node.children:
        _add(tree.add(_label(child)), child, verbose=verbose)


def entered_line(line: InputSummary) -> str:
    """One entered input, as the text report shows it."""
    style = {"pass": "green", "fail": "bold red"}.get(line.document_check or "", "yellow")
    media = f", {line.document_media_type}, {line.document_size} bytes" if line.document_size is not None else ""
    return (
        f"[yellow]entered input[/] {escape(line.quantity)} {escape(line.unit)} from {escape(line.supplier or '?')} "
        f"({escape(line.source_kind or '?')}), entered by {escape(line.entered_by or '?')} at "
        f"{escape(line.entered_at or '?')}, share {escape(line.share_percent or '?')} %; document "
        f"{escape(line.document_digest or 'none')}{escape(media)}: [{style}]{escape(line.document_check or '?')}[/]"
    )


def render_tree(report: VerificationReport, *, verbose: bool = False) -> Tree:
    """A ``rich.tree.Tree`` of the report: the declaration, each attestation (company, ids, evidence status, checks).

    ``verbose`` lists every passed check with its detail; by default passed checks are one dim line per node.
    """
    if report.valid:
        verdict = (
            f"[bold green]{escape(report.summary())}[/]"
            if report.fully_attested
            else f"[bold yellow]{escape(report.summary())}[/]"
        )
    else:
        verdict = f"[bold red]{escape(report.summary())}[/]"
    scope = "evidence opened" if report.evidence_opened else "evidence not opened: signatures and bindings only"
    tree = Tree(
        f"{verdict}  [dim]at {report.verified_at.isoformat()}, {scope}"
        f"{', verifier ' + escape(report.verifier) if report.verifier else ''}[/]"
    )
    _add(tree.add(_label(report.root)), report.root, verbose=verbose)
    return tree


def render_html(report: VerificationReport, *, verbose: bool = False) -> str:
    """The report as a standalone HTML page (the same tree as :func:`render_tree`, inline styles, no scripts): the
    verdict, every node with its checks, the attested coverage and each entered input, then the failures."""
    console = Console(record=True, width=200, file=io.StringIO(), color_system="truecolor")
    console.print(render_tree(report, verbose=verbose))
    for failure in report.failures:
        console.print(f"[red]✘[/] {escape(failure.line())}", highlight=False)
    console.print(report.summary(), style="bold green" if report.valid else "bold red", highlight=False)
    return console.export_html(inline_styles=True)
