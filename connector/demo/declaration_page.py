"""The demo's declaration page: the signed declaration rendered with the notified body's check of its bundle."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def page_with_verdict(document: dict[str, Any], report: dict[str, Any], verifier: dict[str, Any]) -> str:
    """The declaration page with the notified body's check of its bundle beside it. The page's figures and
    verification status are the signed declaration's own (the same state as declaration.json): the check is shown in
    a section of its own, never folded in as a certification (it was, and the page said "valid, 1 certification"
    while declaration.json of the same run said "not-verified")."""
    from ..declaration import Declaration, render_declaration_html
    from ..declaration.html import BundleCheck

    if not report["valid"]:
        summary = f"INVALID: {len(report.get('failures', []))} failure(s)"
    elif report.get("fullyAttested", True):
        summary = "valid, fully attested"
    else:
        coverage = (report.get("attestedCoverage") or {}).get("total", "?")
        summary = f"valid, {coverage} % attested ({report.get('enteredInputs', 0)} entered input(s))"
    check = BundleCheck(
        verifier=verifier["name"],
        verifier_id=verifier["companyId"],
        date=datetime.fromisoformat(report["verifiedAt"].replace("Z", "+00:00")).date(),
        valid=bool(report["valid"]),
        summary=summary,
        reference="verification-report.json",
    )
    return render_declaration_html(Declaration.model_validate(document), check)
