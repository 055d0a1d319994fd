"""The declaration's attested coverage (issue 17) and one state for its JSON and its HTML page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal as D

from connector.declaration import (
    Declaration,
    DeclarationInput,
    EnteredSupplier,
    compute_declaration,
    declared_coverage,
    render_declaration_html,
)
from connector.demo.chains import DEFAULT_CHAIN
from connector.demo.declaration_page import page_with_verdict
from connector.stages import STAGES, Stage

AT = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)
VERIFIER = {"name": "Example Notified Body 0042", "companyId": "urn:pact:nb0042.example:company:nb0042"}


def _declaration(coverage=None) -> Declaration:
    chain = json.loads(DEFAULT_CHAIN.read_text(encoding="utf-8"))
    raw = chain["declaration"]
    values = chain["expected"]["footprints"][raw["packProductId"]]
    stages = {Stage(k): D(v) for k, v in values.items() if k != "total"}
    return compute_declaration(DeclarationInput.model_validate(raw), stages, at=AT, attested_coverage=coverage)


def _status_in_html(html: str) -> str:
    found = re.findall(r'data-verification-status="([^"]+)"', html)
    assert found, "the page shows no verification status"
    assert len(set(found)) == 1
    return found[0]


def _report(valid: bool = True, **extra) -> dict:
    return {"valid": valid, "verifiedAt": "2026-04-11T08:00:00Z", "failures": [], **extra}


def test_demo_page_and_json_show_the_same_verification_status() -> None:
    """The demo wrote declaration.html with the notified body's verdict folded in as a tier-0 certification ("valid,
    1 certification") while declaration.json of the same run said "not-verified"."""
    document = _declaration().model_dump(mode="json", by_alias=True)
    assert document["verificationStatus"] == "not-verified"
    html = page_with_verdict(document, _report(), VERIFIER)
    assert _status_in_html(html) == document["verificationStatus"]
    assert "0 certifications" in html
    assert 'data-bundle-check="valid"' in html and "valid, fully attested" in html


def test_demo_page_says_how_much_is_attested() -> None:
    document = _declaration().model_dump(mode="json", by_alias=True)
    report = _report(fullyAttested=False, attestedCoverage={"total": "93.5"}, enteredInputs=1)
    html = page_with_verdict(document, report, VERIFIER)
    assert "valid, 93.5 % attested (1 entered input(s))" in html
    invalid = page_with_verdict(document, _report(valid=False, failures=[{}, {}]), VERIFIER)
    assert 'data-bundle-check="invalid"' in invalid and "INVALID: 2 failure(s)" in invalid
    assert _status_in_html(invalid) == "not-verified"


def test_declared_coverage_on_json_vc_subject_and_html() -> None:
    stages = {Stage.RAW_MATERIAL_ACQUISITION: D("87.53"), **{s: D("100") for s in STAGES[1:]}}
    entered = EnteredSupplier(
        company_id="urn:pact:typed.example:company:typed", company_name="Typed Supplier", product_id="urn:x:y:z"
    )
    coverage = declared_coverage(stages, D("90.12"), entered_tier1=[entered], entered_deeper_tiers=3)
    assert not coverage.fully_attested
    d = _declaration(coverage)
    wire = d.model_dump(mode="json", by_alias=True)  # the credentialSubject of the signed declaration
    assert wire["attestedCoverage"]["total"] == "90.12"
    assert wire["attestedCoverage"]["stages"][0] == {"stage": "raw_material_acquisition", "percent": "87.53"}
    assert wire["attestedCoverage"]["enteredTier1"][0]["companyName"] == "Typed Supplier"
    assert wire["attestedCoverage"]["enteredDeeperTiers"] == 3
    assert Declaration.model_validate(wire) == d
    html = render_declaration_html(d)
    assert 'data-attested-coverage="90.12"' in html and "87.53 %" in html
    assert "Typed Supplier" in html and "3 entered values deeper" in html


def test_full_coverage_and_declarations_from_before() -> None:
    full = declared_coverage({s: D("100") for s in STAGES}, D("100"))
    assert full.fully_attested
    assert "fully attested" in render_declaration_html(_declaration(full))
    old = _declaration().model_dump(mode="json", by_alias=True)
    assert "attestedCoverage" in old and old["attestedCoverage"] is None
    del old["attestedCoverage"]  # stored before issue 17
    assert Declaration.model_validate(old).attested_coverage is None
    assert "Attested coverage" not in render_declaration_html(Declaration.model_validate(old))


def test_the_page_keeps_coverages_two_places_and_the_json_stays_canonical() -> None:
    """Coverage is rounded down to two places (decision 0017): the page shows "20.40 %", as the verification report
    does, so a reader sees how far it was rounded; the signed JSON keeps the canonical decimal string."""
    stages = {Stage.RAW_MATERIAL_ACQUISITION: D("20.4"), **{s: D("100") for s in STAGES[1:]}}
    d = _declaration(declared_coverage(stages, D("60"), entered_deeper_tiers=1))
    html = render_declaration_html(d)
    assert "20.40 %" in html and "100.00 %" in html and "<strong>60.00 %</strong>" in html
    assert 'data-attested-coverage="60"' in html
    assert d.model_dump(mode="json", by_alias=True)["attestedCoverage"]["stages"][0]["percent"] == "20.4"
