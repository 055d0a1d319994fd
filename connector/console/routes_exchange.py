"""Requests in and out (accept, reject with a reason, fulfil; resend, cancel), partners and grants."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col

from ..errors import ValidationFailed
from ..exchange import grants, outbox, part_links, requests
from ..services import catalog
from ..services import models as m
from ..storage import repositories as repo
from ..storage.part_links import PartLink
from ..storage.tables import CfpRequest, Grant, Partner, Product
from .forms import Outcome, act, parse
from .i18n import N_
from .render import page, redirect
from .routes_products import _wake
from .session import EditorForm, Viewer, ViewerDep

router = APIRouter()
DIRECTIONS = ("incoming", "outgoing")
STATES = ("pending", "fulfilled", "rejected", "cancelled", "refused", "failed")


def requests_page(request: Request, viewer: Viewer, outcome: Outcome | None = None, failed_id: str = "") -> Response:
    direction = request.query_params.get("direction", "incoming")
    direction = direction if direction in DIRECTIONS else "incoming"
    state = request.query_params.get("state", "")
    supplier = request.query_params.get("company", "")
    where: list[Any] = [CfpRequest.direction == direction]
    if state in STATES:
        where.append(CfpRequest.state == state)
    if supplier:
        where.append(CfpRequest.company_id == supplier)
    items, total = repo.page(
        viewer.ctx.session, CfpRequest, *where, order=col(CfpRequest.created_at).desc(), limit=100, offset=0
    )
    partners = {p.company_id: p.name for p in repo.page(viewer.ctx.session, Partner, order=col(Partner.created_at),
                                                         limit=1000, offset=0)[0]}  # fmt: skip
    links = (  # decision 0028: the platform parts whose trades link themselves
        repo.page(viewer.ctx.session, PartLink, order=col(PartLink.created_at), limit=100, offset=0)[0]
        if direction == "incoming"
        else []
    )
    products = {p.id: p.name for k in links if (p := viewer.ctx.session.get(Product, k.product_id)) is not None}
    return page(
        request,
        "requests.html.j2",
        viewer=viewer,
        outcome=outcome,
        active="requests",
        items=items,
        total=total,
        direction=direction,
        state=state,
        company_filter=supplier,
        partners=partners,
        states=STATES,
        failed_id=failed_id,
        part_links=links,
        product_names=products,
    )


@router.get("/requests")
def list_requests(request: Request, viewer: ViewerDep) -> Response:
    return requests_page(request, viewer)


def _back(request: Request, done: str) -> Response:
    direction = request.query_params.get("direction", "incoming")
    _wake(request)
    return redirect(request, "/requests", direction=direction if direction in DIRECTIONS else "incoming", done=done)


@router.post("/requests/{request_id}/accept")
def accept(request: Request, viewer: EditorForm, request_id: str) -> Response:
    outcome = act(viewer, "request.accepted", request_id, lambda: requests.accept_request(viewer.ctx, request_id))
    return _back(request, "accepted") if outcome.ok else requests_page(request, viewer, outcome, request_id)


@router.post("/requests/{request_id}/reject")
def reject(request: Request, viewer: EditorForm, request_id: str) -> Response:
    reason = viewer.field("reason")
    if not reason:
        return requests_page(
            request, viewer, Outcome(error=N_("Give the customer a reason for the rejection.")), request_id
        )
    outcome = act(
        viewer, "request.rejected", request_id, lambda: requests.reject_request(viewer.ctx, request_id, reason)
    )
    return _back(request, "rejected") if outcome.ok else requests_page(request, viewer, outcome, request_id)


@router.post("/requests/{request_id}/fulfil")
def fulfil(request: Request, viewer: EditorForm, request_id: str) -> Response:
    outcome = act(viewer, "request.fulfilled", request_id, lambda: requests.fulfil_request(viewer.ctx, request_id))
    return _back(request, "fulfilled") if outcome.ok else requests_page(request, viewer, outcome, request_id)


@router.post("/requests/{request_id}/cancel")
def cancel(request: Request, viewer: EditorForm, request_id: str) -> Response:
    outcome = act(viewer, "request.cancelled", request_id, lambda: requests.cancel_request(viewer.ctx, request_id))
    return _back(request, "cancelled") if outcome.ok else requests_page(request, viewer, outcome, request_id)


@router.post("/requests/{request_id}/resend")
def resend(request: Request, viewer: EditorForm, request_id: str) -> Response:
    """A failed or cancelled request is asked again (a new request for its line); a pending one is retried now."""

    def run() -> Any:
        req = requests.get_request(viewer.ctx, request_id)
        if req.direction != "outgoing" or not req.bom_line_id:
            raise ValidationFailed(
                "only an outgoing request for a BOM line can be sent again", code="request.not-resendable"
            )
        if req.state == "pending":
            return outbox.retry_now(viewer.ctx.session, viewer.ctx.now(), company_id=req.company_id)
        return requests.request_footprint(viewer.ctx, req.bom_line_id, message=req.message)

    outcome = act(viewer, "request.resent", request_id, run)
    return _back(request, "resent") if outcome.ok else requests_page(request, viewer, outcome, request_id)


@router.post("/part-links/{link_id}/delete")
def forget_part_link(request: Request, viewer: EditorForm, link_id: str) -> Response:
    outcome = act(viewer, "part-link.removed", link_id, lambda: part_links.remove(viewer.ctx, link_id))
    return _back(request, "unlinked") if outcome.ok else requests_page(request, viewer, outcome)


# partners and grants -----------------------------------------------------------------------------------------------

PARTNER_FIELDS = ("companyId", "name", "nodeUrl")


def partners_page(request: Request, viewer: Viewer, outcome: Outcome | None = None) -> Response:
    session = viewer.ctx.session
    partners, _ = repo.page(session, Partner, order=col(Partner.created_at), limit=500, offset=0)
    granted, _ = repo.page(session, Grant, order=col(Grant.created_at), limit=500, offset=0)
    products, _ = repo.page(session, Product, order=col(Product.created_at), limit=500, offset=0)
    return page(
        request,
        "partners.html.j2",
        viewer=viewer,
        outcome=outcome,
        active="partners",
        partners=partners,
        grants=granted,
        products={p.id: p for p in products},
        errors=outcome.fields if outcome else {},
        form={k: viewer.field(k) for k in (*PARTNER_FIELDS, "productId", "grantCompanyId")} if outcome else {},
    )


@router.get("/partners")
def list_partners(request: Request, viewer: ViewerDep) -> Response:
    return partners_page(request, viewer)


@router.post("/partners")
def add_partner(request: Request, viewer: EditorForm) -> Response:
    data: dict[str, Any] = {k: viewer.field(k) for k in PARTNER_FIELDS}
    data["isSupplier"] = viewer.field("isSupplier") == "on"
    data["isCustomer"] = viewer.field("isCustomer") == "on"

    def run() -> Any:
        return catalog.create_partner(viewer.ctx, parse(m.PartnerCreate, data))  # type: ignore[arg-type]

    outcome = act(viewer, "partner.added", data["companyId"], run)
    return redirect(request, "/partners", done="saved") if outcome.ok else partners_page(request, viewer, outcome)


@router.post("/grants")
def add_grant(request: Request, viewer: EditorForm) -> Response:
    product_id, company = viewer.field("productId"), viewer.field("grantCompanyId")
    outcome = act(viewer, "grant.added", product_id, lambda: grants.grant(viewer.ctx, product_id, company), to=company)
    return redirect(request, "/partners", done="granted") if outcome.ok else partners_page(request, viewer, outcome)


@router.post("/grants/{grant_id}/delete")
def delete_grant(request: Request, viewer: EditorForm, grant_id: str) -> Response:
    outcome = act(viewer, "grant.revoked", grant_id, lambda: grants.revoke_grant(viewer.ctx, grant_id))
    return redirect(request, "/partners", done="revoked") if outcome.ok else partners_page(request, viewer, outcome)
