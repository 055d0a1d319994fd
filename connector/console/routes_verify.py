"""The verifier: upload a bundle (and trust anchors), read the report as a tree, certify, download the report.

A report is kept in memory for its download (the last few per node, each readable only by the user who made it):
nothing of a bundle someone handed over is written to the database but the audit entry.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..services import verifying
from .forms import Outcome, act
from .i18n import N_
from .render import finish, page
from .session import VerifierForm, Viewer, ViewerDep

router = APIRouter()
KEPT = 20


def _kept(request: Request) -> OrderedDict[str, tuple[str, str]]:
    store = getattr(request.app.state, "console_reports", None)
    if store is None:
        store = request.app.state.console_reports = OrderedDict()
    return store


async def _upload(viewer: Viewer, name: str) -> bytes | None:
    value = viewer.form.get(name) if viewer.form is not None else None
    if isinstance(value, UploadFile):
        data = await value.read(verifying.MAX_BUNDLE_BYTES + 1)
        return data or None
    return None


def verify_page(request: Request, viewer: Viewer, outcome: Outcome | None = None, **values: Any) -> Response:
    return page(
        request,
        "verify.html.j2",
        viewer=viewer,
        outcome=outcome,
        active="verify",
        errors=outcome.fields if outcome else {},
        **{"report": None, "report_id": None, "certification": None, **values},
    )


@router.get("/verify")
def verify_form(request: Request, viewer: ViewerDep) -> Response:
    return verify_page(request, viewer)


@router.post("/verify")
async def verify(request: Request, viewer: VerifierForm) -> Response:
    bundle = await _upload(viewer, "bundle")
    anchors = await _upload(viewer, "anchors")
    if bundle is None:
        return verify_page(
            request, viewer, Outcome(error=N_("Choose a bundle file."), fields={"bundle": N_("required")})
        )
    certify = viewer.field("certify") == "on"
    scope = viewer.field("scope") or None
    outcome = await run_in_threadpool(
        act, viewer, "bundle.uploaded", "", lambda: verifying.verify_upload(viewer.ctx, bundle, anchors, viewer.actor)
    )
    if not outcome.ok:
        return verify_page(request, viewer, outcome)
    report, token, refused = outcome.value, None, None
    if certify and report.valid:
        certified = await run_in_threadpool(
            act, viewer, "attestation.certify", "",
            lambda: verifying.certify_pack(viewer.ctx, bundle, anchors, viewer.actor, scope),
        )  # fmt: skip
        token, refused = certified.value, certified
    report_id = secrets.token_urlsafe(16)
    kept = _kept(request)
    kept[report_id] = (viewer.user.id, report.model_dump_json(indent=2))
    while len(kept) > KEPT:
        kept.popitem(last=False)
    return verify_page(request, viewer, refused, report=report, report_id=report_id, certification=token)


@router.get("/verify/reports/{report_id}")
def download_report(request: Request, viewer: ViewerDep, report_id: str) -> Response:
    kept = _kept(request).get(report_id)
    if kept is None or kept[0] != viewer.user.id:
        return page(request, "refused.html.j2", viewer=viewer, status=404, message=N_("This report is no longer kept."))
    response = Response(kept[1], media_type="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="verification-report-{report_id[:8]}.json"'
    return finish(request, response)
