"""Products: the list, one product's BOM tree and charts, own emissions, footprint versions and re-issue."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..errors import NotFound, ValidationFailed
from ..exchange import propagation, requests
from ..services import catalog, footprints, overview
from ..services import models as m
from ..storage import console_reads
from ..storage import repositories as repo
from ..storage.tables import BomLine
from . import charts
from .forms import Outcome, act, parse
from .i18n import N_, STAGE_NAMES, Message, Translator
from .render import page, redirect, translator
from .session import EditorForm, Viewer, ViewerDep

router = APIRouter()
PAGE_SIZE = 50
EMISSION_FIELDS = ("stage", "value", "amount", "unit", "factor", "source")
MAX_DOCUMENT = 10 * 1024 * 1024


@router.get("/products")
def list_products(
    request: Request, viewer: ViewerDep, q: Annotated[str, Query(max_length=200)] = "",
    number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:  # fmt: skip
    items, total = console_reads.products_page(viewer.ctx.session, PAGE_SIZE, (number - 1) * PAGE_SIZE, q.strip())
    pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request, "products.html.j2", viewer=viewer, active="products", items=items, total=total, q=q, page=number,
        pages=pages,
    )  # fmt: skip


def _stage_chart(t: Translator, values: dict[str, Any] | None) -> charts.BarChart | None:
    if not values:
        return None
    stages = overview.stage_values(values)
    rows = [(t.stage(s), v, t.number(v, 4), f"b-{s.value}") for s, v in stages.items()]
    total = sum(stages.values(), Decimal(0))
    rows.append((t.gettext(N_("Total")), total, t.number(total, 4), "b-total"))
    return charts.bars(t.gettext(N_("Footprint per life-cycle stage (kg CO2e per declared unit)")), rows)


def product_page(request: Request, viewer: Viewer, product_id: str, outcome: Outcome | None = None) -> Response:
    ctx = viewer.ctx
    t = translator(request)
    product = catalog.get_product(ctx, product_id)
    lines, coverage = overview.bom_tree(ctx, product)
    active = repo.active_footprint(ctx.session, product.id)
    shares = overview.contributions(ctx, product)
    contribution_chart = (
        charts.bars(
            t.gettext(N_("Contributions to the footprint (kg CO2e per declared unit)")),
            [(name, value, t.number(value, 4), "b-supplier") for name, value in shares],
        )
        if shares
        else None
    )
    coverage_chart = charts.stack(
        t.gettext(N_("Supplier data coverage")),
        [
            (t.gettext(N_("attested")), coverage.attested, "c-attested"),
            (t.gettext(N_("entered")), coverage.entered, "c-entered"),
            (t.gettext(N_("missing")), coverage.missing, "c-missing"),
        ],
    )
    form = {k: viewer.field(k) for k in EMISSION_FIELDS} if outcome else dict.fromkeys(EMISSION_FIELDS, "")
    return page(
        request,
        "product.html.j2",
        viewer=viewer,
        outcome=outcome,
        active="products",
        product=product,
        lines=lines,
        coverage=coverage,
        stage_chart=_stage_chart(t, active.stages if active else None),
        coverage_chart=coverage_chart,
        contribution_chart=contribution_chart,
        emissions=repo.own_emissions(ctx.session, product.id),
        versions=repo.footprint_versions(ctx.session, product.id),
        stage_options=[(s.value, t.gettext(name)) for s, name in STAGE_NAMES.items()],
        stage_keys=[s.value for s in STAGE_NAMES],
        source_kinds=m.SOURCE_KINDS,
        form=form,
        errors=outcome.fields if outcome else {},
    )


@router.get("/products/{product_id}")
def show_product(request: Request, viewer: ViewerDep, product_id: str) -> Response:
    return product_page(request, viewer, product_id)


@router.post("/products/{product_id}/emissions")
def add_emission(request: Request, viewer: EditorForm, product_id: str) -> Response:
    data = {k: viewer.field(k) for k in EMISSION_FIELDS}

    def run() -> Any:
        body = parse(m.EmissionCreate, data)
        return catalog.add_emission(viewer.ctx, product_id, body)  # type: ignore[arg-type]

    outcome = act(viewer, "emission.added", product_id, run, EMISSION_FIELDS, stage=data["stage"])
    if not outcome.ok:
        return product_page(request, viewer, product_id, outcome)
    return redirect(request, f"/products/{product_id}", done="saved")


@router.post("/products/{product_id}/emissions/{emission_id}/delete")
def delete_emission(request: Request, viewer: EditorForm, product_id: str, emission_id: str) -> Response:
    outcome = act(
        viewer, "emission.deleted", product_id, lambda: catalog.delete_emission(viewer.ctx, product_id, emission_id)
    )
    if not outcome.ok:
        return product_page(request, viewer, product_id, outcome)
    return redirect(request, f"/products/{product_id}", done="deleted")


@router.post("/products/{product_id}/compute")
def compute(request: Request, viewer: EditorForm, product_id: str) -> Response:
    outcome = act(
        viewer, "footprint.computed", product_id, lambda: propagation.compute_and_publish(viewer.ctx, product_id)
    )
    if not outcome.ok:
        return product_page(request, viewer, product_id, outcome)
    _wake(request)
    return redirect(request, f"/products/{product_id}", done="issued" if outcome.value[1] else "unchanged")


@router.post("/products/{product_id}/ask/{line_id}")
def ask_supplier(request: Request, viewer: EditorForm, product_id: str, line_id: str) -> Response:
    outcome = act(viewer, "request.sent", line_id, lambda: requests.request_footprint(viewer.ctx, line_id))
    if not outcome.ok:
        return product_page(request, viewer, product_id, outcome)
    _wake(request)
    return redirect(request, f"/products/{product_id}", done="requested")


@router.post("/products/{product_id}/ask-missing")
def ask_missing(request: Request, viewer: EditorForm, product_id: str) -> Response:
    def run() -> Any:
        return requests.request_missing_inputs(viewer.ctx, catalog.get_product(viewer.ctx, product_id), [])

    outcome = act(viewer, "request.missing_sent", product_id, run)
    if not outcome.ok:
        return product_page(request, viewer, product_id, outcome)
    _wake(request)
    return redirect(request, f"/products/{product_id}", done="requested")


def _wake(request: Request) -> None:
    """Messages left in the outbox go out now (the operator API's routes do the same)."""
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()


@router.post("/products/{product_id}/lines/{line_id}/enter")
async def enter_upstream(request: Request, viewer: EditorForm, product_id: str, line_id: str) -> Response:
    """A supplier's value typed in from a document (a supplier without a node): stored as *entered*, with who
    entered it, the kind of source and the document (sealed into the evidence for verifiers)."""
    upload = viewer.form.get("document") if viewer.form is not None else None
    document = await upload.read(MAX_DOCUMENT + 1) if isinstance(upload, UploadFile) else b""
    media_type = upload.content_type if isinstance(upload, UploadFile) else None
    stages = {s.value: viewer.field(s.value) for s in STAGE_NAMES if viewer.field(s.value)}

    def run() -> Any:
        line = viewer.ctx.session.get(BomLine, line_id)
        if line is None or line.product_id != product_id or line.kind != "supplier":
            raise NotFound(
                "supplier line %(line)s of product %(product)s not found",
                code="bom.supplier-line-not-found",
                params={"line": line_id, "product": product_id},
            )
        kind = viewer.field("sourceKind") or "document"
        if kind not in m.SOURCE_KINDS or len(document) > MAX_DOCUMENT:
            raise ValidationFailed("unknown source kind, or a document over 10 MiB", code="upstream.bad-document")
        data = parse(
            m.UpstreamFootprintCreate,
            {
                "supplierCompanyId": line.supplier_company_id,
                "productId": line.supplier_product_id,
                "declaredUnit": viewer.field("declaredUnit"),
                "stages": stages,
            },
        )
        provenance = footprints.Provenance(kind, viewer.actor, document or None, media_type if document else None)
        return footprints.record_upstream(viewer.ctx, data, provenance=provenance)  # type: ignore[arg-type]

    outcome = await run_in_threadpool(act, viewer, "upstream.entered", line_id, run)
    if not outcome.ok:
        if outcome.fields:  # the form is in the tree, which shows no message per field: each one, labelled
            outcome.error = Message(parts=tuple(outcome.fields.items()))
        return await run_in_threadpool(product_page, request, viewer, product_id, outcome)
    return redirect(request, f"/products/{product_id}", done="saved")
