"""The automaker's view of a pack footprint's trip: asked, answered, verified per tier, as far as this node can see.

Tier 1 (the pack maker) is read from our own requests and the footprint held; deeper tiers from the certifications
that travelled down with the pack footprint (each carries its depth). What a deeper supplier was asked and when is
its customer's business, not ours: the page says so rather than guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import col

from ..errors import ValidationFailed
from ..services import declaring
from ..services.context import NodeContext
from ..storage import console_reads
from ..storage import repositories as repo
from ..storage.tables import CfpRequest, Product, UpstreamFootprint
from . import requests


@dataclass
class Tier:
    number: int
    companies: list[str] = field(default_factory=list)
    asked: datetime | None = None
    request_state: str | None = None
    answered: datetime | None = None
    verified: bool = False
    certified: int = 0
    certifiers: list[str] = field(default_factory=list)
    sealed: int = 0  # signed attestations of the chain below, whose evidence travelled sealed to the verifier


@dataclass
class PackLine:
    product: str
    line_id: str
    supplier: str
    supplier_name: str
    supplier_product: str
    request: CfpRequest | None
    held: Any


def _products(ctx: NodeContext) -> list[Product]:
    return repo.page(ctx.session, Product, order=col(Product.created_at), limit=50, offset=0)[0]


def pack_lines(ctx: NodeContext) -> list[PackLine]:
    """Our products' lines bought from other companies, with their newest request and the footprint held."""
    out = []
    for product in _products(ctx):
        lines = [ln for ln in repo.bom_lines(ctx.session, product.id) if ln.kind == "supplier"]
        lines = [ln for ln in lines if ln.supplier_company_id != ctx.company_id]
        asked = console_reads.outgoing_for_lines(ctx.session, [ln.id for ln in lines])
        held = repo.latest_upstreams(
            ctx.session, [(ln.supplier_company_id or "", ln.supplier_product_id or "") for ln in lines]
        )
        for ln in lines:
            key = (ln.supplier_company_id or "", (ln.supplier_product_id or "").lower())
            partner = repo.partner_row(ctx.session, ln.supplier_company_id or "")
            name = partner.name if partner is not None else ln.supplier_company_id or ""
            out.append(
                PackLine(
                    product.name, ln.id, ln.supplier_company_id or "", name, ln.supplier_product_id or "",
                    asked.get(ln.id), held.get(key),
                )
            )  # fmt: skip
    return out


def tiers(ctx: NodeContext) -> list[Tier]:
    lines = pack_lines(ctx)
    if not lines:
        return []
    first = Tier(1)
    certs: list[Any] = []
    for line in lines:
        first.companies.append(line.supplier_name)
        if line.request is not None:
            first.asked = line.request.created_at
            first.request_state = line.request.state
        if line.held is not None:
            first.answered = line.held.received_at
            first.verified = bool(line.held.attestation)
            certs.extend(line.held.certifications or [])
            held = repo.upstream_attestation(ctx.session, line.held.footprint_id)
            evidence = held[1] if held is not None else None
            first.sealed += len(evidence.get("packages") or {}) if isinstance(evidence, dict) else 0
    out = {1: first}
    for c in declaring.certification_inputs(ctx, certs, ctx.now()):
        tier = out.setdefault(c.tier, Tier(c.tier))
        if c.company_name not in tier.companies:
            tier.companies.append(c.company_name)
        if c.status == "valid":
            tier.certified += 1
            tier.verified = True
            if c.verifier not in tier.certifiers:
                tier.certifiers.append(c.verifier)
    return [out[k] for k in sorted(out)]


def request_packs(ctx: NodeContext, verifier_pems: list[str] | None = None) -> list[CfpRequest]:
    """Ask every supplier whose footprint we lack; ``verifier_pems``: whom the evidence is sealed to."""
    made: list[CfpRequest] = []
    for product in _products(ctx):
        made.extend(requests.request_missing_inputs(ctx, product, list(verifier_pems or [])))
    if not made:
        raise ValidationFailed("every supplier footprint is already held or asked for", code="pack.nothing-to-ask")
    return made


def held_packs(ctx: NodeContext) -> list[UpstreamFootprint]:
    """Attested footprints held: what a declaration can be issued from."""
    rows, _ = repo.page(
        ctx.session,
        UpstreamFootprint,
        UpstreamFootprint.status == "Active",
        order=col(UpstreamFootprint.received_at).desc(),
        limit=50,
        offset=0,
    )
    return [r for r in rows if r.attestation]


def declaration_defaults(ctx: NodeContext) -> dict[str, str]:
    packs = held_packs(ctx)
    products = _products(ctx)
    plant = products[0] if products else None
    return {
        "packProductId": packs[0].product_id if packs else "",
        "manufacturer.name": ctx.settings.company_name,
        "batteryCategory": "electric_vehicle",
        "vehicleCategory": "M1",
        "plant.name": (plant.plant_name if plant else None) or "",
        "plant.country": (plant.plant_country if plant else None) or "",
        "plant.subdivision": (plant.plant_subdivision if plant else None) or "",
    }
