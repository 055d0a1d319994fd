"""The verifier: upload a bundle (and trust anchors), read the report as a tree, certify, download the report.

Every report is kept in the database (``storage/console_reports``, decision 0031): any worker of the node, and the
node after a restart, lists it, shows it and hands out its JSON, to every user whose role may verify. Of the uploaded
bundle only its SHA-256 is kept; how long reports are kept is ``console_reports_kept`` (all, the newest N, or N days).
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..config import Settings
from ..services import audit, verifying
from ..storage import console_reports
from ..storage.console_reports import ConsoleReport
from ..verification.render import render_html
from ..verification.report import VerificationReport
from .forms import Outcome, act
from .i18n import N_
from .render import finish, page
from .session import VerifierForm, Viewer, ViewerDep

router = APIRouter()
PAGE_SIZE = 20
GONE = N_("This report is no longer kept.")


def retention(settings: Settings) -> tuple[int | None, timedelta | None]:
    """``console_reports_kept`` read: (keep the newest N, keep those this recent); (None, None) keeps all."""
    kept = settings.console_reports_kept
    if kept == "all":
        return None, None
    if kept.endswith("d"):
        return None, timedelta(days=int(kept[:-1]))
    return int(kept), None


def _since(viewer: Viewer) -> datetime | None:
    """Reports made before this are past their retention (listed and handed out no more, even before they are
    dropped at the next report's creation)."""
    _, days = retention(viewer.ctx.settings)
    return viewer.ctx.now() - days if days is not None else None


async def _upload(viewer: Viewer, name: str) -> bytes | None:
    value = viewer.form.get(name) if viewer.form is not None else None
    if isinstance(value, UploadFile):
        data = await value.read(verifying.MAX_BUNDLE_BYTES + 1)
        return data or None
    return None


def _keep(
    viewer: Viewer, bundle: bytes, anchors: bytes | None, report: VerificationReport, certified: bool
) -> ConsoleReport:
    """Store the report in the request's transaction, audited; then drop what the retention setting no longer keeps."""
    session = viewer.ctx.session
    row = console_reports.add(
        session,
        ConsoleReport(
            created_at=viewer.ctx.now(),
            made_by=viewer.actor,
            bundle_sha256=hashlib.sha256(bundle).hexdigest(),
            anchors_sha256=hashlib.sha256(anchors).hexdigest() if anchors else None,
            valid=report.valid,
            failures=len(report.failures),
            certified=certified,
            subject=(report.root.company_name or report.root.company or "")[:300],
            report=report.model_dump_json(),
        ),
    )
    audit.append(
        session, viewer.actor, "console.report.kept", row.id, bundle_sha256=row.bundle_sha256, valid=row.valid,
        failures=row.failures, certified=certified,
    )  # fmt: skip
    keep_last, days = retention(viewer.ctx.settings)
    if keep_last is not None or days is not None:
        before = viewer.ctx.now() - days if days is not None else None
        dropped = console_reports.forget(session, keep_last=keep_last, before=before)
        if dropped:
            kept = viewer.ctx.settings.console_reports_kept
            audit.append(session, "node", "console.reports.forgotten", "", count=dropped, kept=kept)
    return row


def verify_page(
    request: Request, viewer: Viewer, outcome: Outcome | None = None, number: int = 1, **values: Any
) -> Response:
    listed: list[Any] = []
    pages = 1
    if viewer.can_verify:
        since = _since(viewer)
        listed, total = console_reports.page(viewer.ctx.session, PAGE_SIZE, (number - 1) * PAGE_SIZE, since)
        pages = max(1, -(-total // PAGE_SIZE))
    return page(
        request,
        "verify.html.j2",
        viewer=viewer,
        outcome=outcome,
        active="verify",
        errors=outcome.fields if outcome else {},
        listed=listed,
        page=number,
        pages=pages,
        **{"report": None, "report_id": None, "kept": None, "certification": None, **values},
    )


def _refused(request: Request, viewer: Viewer) -> Response:
    message = N_("Your role does not allow reading verification reports.")
    return page(request, "refused.html.j2", viewer=viewer, status=403, message=message)


def _stored(request: Request, viewer: Viewer, report_id: str) -> ConsoleReport | Response:
    """The kept report, or the page refusing it: 403 for a role that may not verify, 404 for one not kept."""
    if not viewer.can_verify:
        return _refused(request, viewer)
    row = console_reports.get(viewer.ctx.session, report_id, _since(viewer))
    if row is None:
        return page(request, "refused.html.j2", viewer=viewer, status=404, message=GONE)
    return row


@router.get("/verify")
def verify_form(
    request: Request, viewer: ViewerDep, number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
    report: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:  # fmt: skip
    """The upload form and the reports kept, newest first; ``report``: one of them shown as a tree."""
    if report is None:
        return verify_page(request, viewer, number=number)
    row = _stored(request, viewer, report)
    if isinstance(row, Response):
        return row
    try:
        shown = VerificationReport.model_validate_json(row.report)
    except ValidationError:  # a report of an older version the model no longer reads: still downloadable
        shown = None
    return verify_page(request, viewer, number=number, report=shown, report_id=row.id, kept=row)


@router.post("/verify")
async def verify(request: Request, viewer: VerifierForm) -> Response:
    bundle = await _upload(viewer, "bundle")
    anchors = await _upload(viewer, "anchors")
    if bundle is None:
        missing = Outcome(error=N_("Choose a bundle file."), fields={"bundle": N_("required")})
        return await run_in_threadpool(verify_page, request, viewer, missing)
    certify = viewer.field("certify") == "on"
    scope = viewer.field("scope") or None
    outcome = await run_in_threadpool(
        act, viewer, "bundle.uploaded", "", lambda: verifying.verify_upload(viewer.ctx, bundle, anchors, viewer.actor)
    )
    if not outcome.ok:
        return await run_in_threadpool(verify_page, request, viewer, outcome)
    report, token, refused = outcome.value, None, None
    if certify and report.valid:
        # in a savepoint: a refusal to certify keeps the verification's audit entries, and is audited itself
        certified = await run_in_threadpool(
            functools.partial(
                act, viewer, "attestation.certify", "",
                lambda: verifying.certify_pack(viewer.ctx, bundle, anchors, viewer.actor, scope), contained=True,
            )
        )  # fmt: skip
        token, refused = certified.value, certified
    kept = await run_in_threadpool(_keep, viewer, bundle, anchors, report, token is not None)
    return await run_in_threadpool(
        verify_page, request, viewer, refused, report=report, report_id=kept.id, kept=kept, certification=token
    )


def _download(request: Request, row: ConsoleReport, body: str, media_type: str, suffix: str) -> Response:
    response = Response(body, media_type=media_type)
    stamp = row.created_at.strftime("%Y%m%dT%H%M%SZ")
    name = f"verification-report-{stamp}-{row.id[:8]}.{suffix}"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return finish(request, response)


@router.get("/verify/reports/{report_id}")
def download_report(request: Request, viewer: ViewerDep, report_id: str) -> Response:
    """The report's JSON, as it was made."""
    row = _stored(request, viewer, report_id)
    if isinstance(row, Response):
        return row
    return _download(request, row, row.report, "application/json", "json")


@router.get("/verify/reports/{report_id}/html")
def download_report_html(request: Request, viewer: ViewerDep, report_id: str) -> Response:
    """The report as the standalone HTML page ``connector verify --html`` writes, rendered from the kept JSON."""
    row = _stored(request, viewer, report_id)
    if isinstance(row, Response):
        return row
    try:
        html = render_html(VerificationReport.model_validate_json(row.report))
    except ValidationError:
        return page(request, "refused.html.j2", viewer=viewer, status=404, message=GONE)
    return _download(request, row, html, "text/html; charset=utf-8", "html")
