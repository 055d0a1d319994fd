"""The automaker: request the pack footprint and watch it come back, issue the Art. 7 declaration, its downloads and
the Annex IX declaration of conformity."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import col

from ..declaration import (
    ConformityInput,
    DeclarationInput,
    render_conformity_html,
    render_declaration_html,
    to_battery_pass,
    to_catenax_battery_pass,
)
from ..declaration.models import BatteryCategory, VehicleCategory
from ..exchange import ripple
from ..services import declaring
from ..storage import repositories as repo
from ..storage.tables import DeclarationRecord
from . import charts
from .forms import Outcome, act, parse
from .i18n import N_
from .render import finish, page, redirect, translator
from .routes_products import _wake
from .session import EditorForm, Viewer, ViewerDep

router = APIRouter()

DECLARATION_FIELDS = (
    "batteryModel", "batteryCategory", "vehicleCategory", "packProductId", "usableEnergyKwh", "cyclesPerYear",
    "cyclesOverrideReason", "serviceLifeYears", "declarationOfConformityId", "studyUrl", "manufacturer.name",
    "manufacturer.address", "plant.name", "plant.country", "plant.subdivision",
)  # fmt: skip
CONFORMITY_FIELDS = (
    "objectDescription", "conformityModule", "notifiedBody.name", "notifiedBody.number", "notifiedBody.task",
    "notifiedBody.certificate", "signedFor", "placeOfIssue", "dateOfIssue", "signatoryName", "signatoryFunction",
)  # fmt: skip


def nest(flat: dict[str, str]) -> dict[str, Any]:
    """``{"plant.name": "x"}`` -> ``{"plant": {"name": "x"}}``; empty fields are left out (a default applies)."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if value == "":
            continue
        *parents, last = key.split(".")
        here = out
        for part in parents:
            here = here.setdefault(part, {})
        here[last] = value
    return out


def declarations_page(request: Request, viewer: Viewer, outcome: Outcome | None = None) -> Response:
    ctx = viewer.ctx
    rows, _ = repo.page(ctx.session, DeclarationRecord, order=col(DeclarationRecord.created_at).desc(), limit=100,
                        offset=0)  # fmt: skip
    return page(
        request,
        "declarations.html.j2",
        viewer=viewer,
        outcome=outcome,
        active="declarations",
        declarations=rows,
        tiers=ripple.tiers(ctx),
        packs=ripple.pack_lines(ctx),
    )


@router.get("/declarations")
def list_declarations(request: Request, viewer: ViewerDep) -> Response:
    return declarations_page(request, viewer)


@router.post("/declarations/request-pack")
def request_pack(request: Request, viewer: EditorForm) -> Response:
    pem = viewer.field("verifierCertificate")
    outcome = act(viewer, "request.pack_sent", "", lambda: ripple.request_packs(viewer.ctx, [pem] if pem else []))
    if not outcome.ok:
        return declarations_page(request, viewer, outcome)
    _wake(request)
    return redirect(request, "/declarations", done="requested")


def form_page(request: Request, viewer: Viewer, outcome: Outcome | None = None) -> Response:
    form = {k: viewer.field(k) for k in DECLARATION_FIELDS} if outcome else ripple.declaration_defaults(viewer.ctx)
    return page(
        request,
        "declaration_form.html.j2",
        viewer=viewer,
        outcome=outcome,
        active="declarations",
        form=form,
        packs=ripple.held_packs(viewer.ctx),
        battery_categories=[c.value for c in BatteryCategory],
        vehicle_categories=[c.value for c in VehicleCategory],
        errors=outcome.fields if outcome else {},
    )


@router.get("/declarations/new")
def new_declaration(request: Request, viewer: ViewerDep) -> Response:
    return form_page(request, viewer)


@router.post("/declarations")
def issue_declaration(request: Request, viewer: EditorForm) -> Response:
    flat = {k: viewer.field(k) for k in DECLARATION_FIELDS}
    data = nest(flat)
    data.setdefault("manufacturer", {})["companyId"] = viewer.ctx.company_id

    def run() -> DeclarationRecord:
        return declaring.declare(viewer.ctx, parse(DeclarationInput, data))  # type: ignore[arg-type]

    outcome = act(viewer, "declaration.issued", flat["batteryModel"], run, DECLARATION_FIELDS)
    if not outcome.ok:
        return form_page(request, viewer, outcome)
    return redirect(request, f"/declarations/{outcome.value.id}", done="declared")


def declaration_page(request: Request, viewer: Viewer, declaration_id: str, outcome: Outcome | None = None) -> Response:
    row = declaring.get_declaration(viewer.ctx, declaration_id)
    doc = declaring.document_of(row)
    t = translator(request)
    rows = [(t.stage(s.stage), s.value, t.number(s.value), f"b-{s.stage.value}") for s in doc.stages]
    rows.append((t.gettext(N_("Total")), doc.carbon_footprint.value, t.number(doc.carbon_footprint.value), "b-total"))
    suppliers = [
        (c.company_name, c.kg_co2e_per_kwh, t.number(c.kg_co2e_per_kwh), "b-supplier")
        for c in doc.supplier_contributions
    ]
    coverage = doc.attested_coverage
    coverage_chart = None
    if coverage is not None:
        shares = [(t.stage(c.stage), c.percent, f"{t.number(c.percent)} %", "c-attested") for c in coverage.stages]
        shares.append((t.gettext(N_("Total")), coverage.total, f"{t.number(coverage.total)} %", "c-attested"))
        coverage_chart = charts.bars(t.gettext(N_("Share resting on attested values, per stage (%)")), shares)
    return page(
        request,
        "declaration.html.j2",
        coverage=coverage,
        coverage_chart=coverage_chart,
        chart=charts.bars(t.gettext(N_("Carbon footprint per life-cycle stage (kg CO2e per kWh)")), rows),
        supplier_chart=charts.bars(t.gettext(N_("Supplier contributions (kg CO2e per kWh)")), suppliers)
        if suppliers
        else None,
        viewer=viewer,
        outcome=outcome,
        active="declarations",
        row=row,
        doc=doc,
        form={k: viewer.field(k) for k in CONFORMITY_FIELDS} if outcome else {},
        errors=outcome.fields if outcome else {},
    )


@router.get("/declarations/{declaration_id}")
def show_declaration(request: Request, viewer: ViewerDep, declaration_id: str) -> Response:
    return declaration_page(request, viewer, declaration_id)


DOWNLOADS = {
    "json": ("application/json", "declaration-{id}.json"),
    "vc": ("application/vc+jwt", "declaration-{id}.vc.jwt"),
    "html": ("text/html; charset=utf-8", "declaration-{id}.html"),
    "bundle": ("application/json", "bundle-{id}.json"),
    "battery-pass": ("application/json", "battery-pass-{id}.json"),
    "catenax": ("application/json", "catenax-battery-pass-{id}.json"),
}


@router.get("/declarations/{declaration_id}/download/{kind}")
def download(request: Request, viewer: ViewerDep, declaration_id: str, kind: str) -> Response:
    if kind not in DOWNLOADS:
        return page(request, "refused.html.j2", viewer=viewer, status=404, message=N_("Unknown download."))
    row = declaring.get_declaration(viewer.ctx, declaration_id)
    document = declaring.document_of(row)
    body: str
    if kind == "json":
        body = json.dumps(row.document, indent=2, ensure_ascii=False)
    elif kind == "vc":
        body = row.signed or ""
    elif kind == "html":
        body = render_declaration_html(document)
    elif kind == "bundle":
        body = json.dumps(declaring.bundle_of(row), indent=2)
    elif kind == "battery-pass":
        body = json.dumps(to_battery_pass(document), indent=2, ensure_ascii=False)
    else:
        body = json.dumps(to_catenax_battery_pass(document), indent=2, ensure_ascii=False)
    media, name = DOWNLOADS[kind]
    response = Response(body, media_type=media)
    response.headers["Content-Disposition"] = f'attachment; filename="{name.format(id=row.id)}"'
    return finish(request, response)


@router.post("/declarations/{declaration_id}/conformity")
def conformity(request: Request, viewer: EditorForm, declaration_id: str) -> Response:
    data = nest({k: viewer.field(k) for k in CONFORMITY_FIELDS})

    def run() -> Any:
        row = declaring.get_declaration(viewer.ctx, declaration_id)
        return declaring.conformity(row, parse(ConformityInput, data))  # type: ignore[arg-type]

    outcome = act(viewer, "conformity.drawn_up", declaration_id, run, CONFORMITY_FIELDS)
    if not outcome.ok:
        return declaration_page(request, viewer, declaration_id, outcome)
    response = HTMLResponse(render_conformity_html(outcome.value))
    response.headers["Content-Disposition"] = f'attachment; filename="conformity-{declaration_id}.html"'
    return finish(request, response)
