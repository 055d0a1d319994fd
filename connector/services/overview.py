"""Read models for the console: the dashboard's figures, a product's BOM tree with each input's state, coverage.

An input's state comes from the supplier footprints held (``UpstreamFootprint.basis``): ``attested`` (a signed
attestation), ``entered`` (a value typed in for a supplier without a node), or ``missing``; secondary-data lines are
``secondary``. Coverage counts the supplier lines of each state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ..stages import STAGES, Stage
from ..storage import console_reads
from ..storage import repositories as repo
from ..storage.tables import CfpRequest, Product
from . import supplier_data
from .context import NodeContext

STALLED_AFTER = timedelta(days=3)
"""An outgoing request pending longer than this is shown as stalled on the dashboard."""
MAX_DEPTH = 8
"""Internal products nest; the tree stops here (a cycle is refused on entry, this only bounds the page)."""


@dataclass
class Expiry:
    what: str
    at: datetime | None
    days_left: int | None

    @property
    def level(self) -> str:
        if self.days_left is None:
            return "none"
        return "bad" if self.days_left < 0 else "warn" if self.days_left < 30 else "ok"


@dataclass
class Dashboard:
    incoming_waiting: int
    outgoing_pending: int
    stalled: int
    stalled_rows: list[CfpRequest]
    outbox_failed: int
    outbox_pending: int
    counts: dict[str, int]
    expiries: list[Expiry]
    names: dict[str, str] = field(default_factory=dict)  # company id -> partner name, for the stalled rows


def dashboard(ctx: NodeContext) -> Dashboard:
    requests = console_reads.request_counts(ctx.session)
    stalled, rows = console_reads.stalled_outgoing(ctx.session, ctx.now() - STALLED_AFTER, limit=10)
    outbox = console_reads.outbox_counts(ctx.session)
    return Dashboard(
        incoming_waiting=requests.get(("incoming", "pending"), 0),
        outgoing_pending=requests.get(("outgoing", "pending"), 0),
        stalled=stalled + requests.get(("outgoing", "failed"), 0),
        stalled_rows=rows,
        outbox_failed=outbox.get("failed", 0),
        outbox_pending=outbox.get("pending", 0),
        counts=console_reads.table_counts(ctx.session),
        expiries=expiries(ctx),
        names={r.company_id: row.name for r in rows if (row := repo.partner_row(ctx.session, r.company_id))},
    )


def expiries(ctx: NodeContext) -> list[Expiry]:
    """The node's certificate and the CRLs it holds, with the days left."""
    now = ctx.now()
    out = []

    def days(at: datetime | None) -> int | None:
        return None if at is None else (at - now).days

    identity = ctx.identity
    if identity is not None and identity.chain:
        end = identity.chain[0].not_valid_after_utc
        out.append(Expiry("certificate", end, days(end)))
    for crl in identity.crls if identity is not None else []:
        nxt = crl.next_update_utc
        out.append(Expiry("crl", nxt, days(nxt)))
    return out


@dataclass
class TreeLine:
    """One input of a product: its state and, for our own intermediate products, the lines below it."""

    id: str
    kind: str  # supplier | secondary
    label: str
    supplier: str | None
    quantity: Decimal
    unit: str
    state: str  # attested | entered | missing | secondary | internal
    supplier_name: str | None = None
    source_kind: str | None = None
    entered_by: str | None = None
    received_at: datetime | None = None
    request: Any = None  # the line's latest request (supplier_data.LineRequest)
    total: Decimal | None = None
    children: list[TreeLine] = field(default_factory=list)


@dataclass
class Coverage:
    attested: int = 0
    entered: int = 0
    missing: int = 0

    @property
    def total(self) -> int:
        return self.attested + self.entered + self.missing

    def add(self, state: str) -> None:
        if state in ("attested", "entered", "missing"):
            setattr(self, state, getattr(self, state) + 1)


def bom_tree(ctx: NodeContext, product: Product, depth: int = 0) -> tuple[list[TreeLine], Coverage]:
    """The product's lines with their state (issue 17's supplier data view), our own products' lines nested below
    them, and the coverage."""
    lines = repo.bom_lines(ctx.session, product.id)
    view = {v.line_id: v for v in supplier_data.supplier_data_view(ctx, product.id)}
    pairs = [(ln.supplier_company_id or "", ln.supplier_product_id or "") for ln in lines if ln.kind == "supplier"]
    held = repo.latest_upstreams(ctx.session, pairs)
    coverage = Coverage()
    out = []
    for ln in lines:
        if ln.kind != "supplier":
            out.append(
                TreeLine(ln.id, "secondary", ln.dataset or "", None, ln.quantity, ln.unit, "secondary", total=ln.factor)
            )
            continue
        urn = ln.supplier_product_id or ""
        item = TreeLine(ln.id, "supplier", urn, ln.supplier_company_id, ln.quantity, ln.unit, "missing")
        seen = view.get(ln.id)
        item.request = seen.request if seen is not None else None
        partner = repo.partner_row(ctx.session, ln.supplier_company_id or "")
        item.supplier_name = partner.name if partner is not None else None
        if ln.supplier_company_id == ctx.company_id:
            inner = repo.product_by_urn(ctx.session, urn)
            item.state = "internal"
            if inner is not None:
                item.label = inner.name
                if depth < MAX_DEPTH:
                    item.children, below = bom_tree(ctx, inner, depth + 1)
                    for name in ("attested", "entered", "missing"):
                        setattr(coverage, name, getattr(coverage, name) + getattr(below, name))
            out.append(item)
            continue
        if seen is not None and seen.state in ("attested", "entered"):
            item.state = seen.state
            item.received_at, item.source_kind, item.entered_by = seen.received_at, seen.source_kind, seen.entered_by
            row = held.get((ln.supplier_company_id or "", urn.lower()))
            if row is not None:
                item.total = sum((Decimal(v) for v in row.stages.values()), Decimal(0))
        coverage.add(item.state)
        out.append(item)
    return out, coverage


def stage_values(raw: dict[str, Any] | None) -> dict[Stage, Decimal]:
    values = {s: Decimal(0) for s in STAGES}
    for name, value in (raw or {}).items():
        values[Stage(name)] = Decimal(str(value))
    return values


def contributions(ctx: NodeContext, product: Product) -> list[tuple[str, Decimal]]:
    """Each supplier's share of the active footprint (its value times the quantity), largest first."""
    fp = repo.active_footprint(ctx.session, product.id)
    if fp is None:
        return []
    out: dict[str, Decimal] = {}
    for item in fp.inputs:
        company = str(item.get("supplierCompanyId") or "?")
        per_unit = sum((Decimal(v) for v in (item.get("upstreamStages") or {}).values()), Decimal(0))
        value = per_unit * Decimal(str(item.get("convertedQuantity") or "0"))
        partner = repo.partner_row(ctx.session, company)
        name = partner.name if partner is not None else company
        out[name] = out.get(name, Decimal(0)) + value
    own = sum((Decimal(v) for v in fp.own_stages.values()), Decimal(0))
    if own:
        out[ctx.settings.company_name] = out.get(ctx.settings.company_name, Decimal(0)) + own
    return sorted(out.items(), key=lambda kv: -abs(kv[1]))
