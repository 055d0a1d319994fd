"""The verifier on an attestation with an entered input (issue 17): listed with its provenance and document, the
coverage claim recomputed (a wrong one fails), and --require-attested."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from rich.console import Console

from connector.aggregation import combine_stages, coverage_claim, coverage_of_inputs
from connector.attestation import EvidenceDocument, HiddenClaims, InputClaim, issue_attestation, seal_evidence_tree
from connector.attestation.attestation import attestation_digest
from connector.decimals import RoundingRule
from connector.stages import STAGES
from connector.units import convert
from connector.verification import render_tree, verify_attestation_tree
from tests.pki import CUSTOMER_ID, OEM_ID, SUPPLIER_ID, T0, VERIFIER_ID, make_claims, make_pki, stages

TYPED = "urn:pact:typed.example:company:typed-supplier"
DOCUMENT = b"%PDF-1.7 the typed supplier's footprint statement"
DOC_SHA = hashlib.sha256(DOCUMENT).hexdigest()


@pytest.fixture(scope="module")
def pki():
    p = make_pki()
    return {
        "pki": p,
        "supplier": p.company(SUPPLIER_ID, "supplier", name="Attested Supplier"),
        "tier": p.company(CUSTOMER_ID, "supplier", name="Tier With An Entered Input"),
        "nb": p.company(VERIFIER_ID, "verifier", name="Notified Body"),
    }


def _chain(pki, *, coverage_change=None, entered_change=None, drop_coverage=False, document=DOCUMENT):
    """An attested supplier S (an attestation of before issue 17: no coverage claim) and a tier T with one input
    from S and one entered input; T's evidence carries the entered input's document."""
    trust, nb = pki["pki"].trust(), pki["nb"]
    s = issue_attestation(
        make_claims(),
        HiddenClaims(own_emissions=stages("15.2", "3.4431", "0.2", "-0.05")),
        pki["supplier"].key,
        pki["supplier"].chain,
        at=T0,
    )
    s_evidence = seal_evidence_tree(s.sd_jwt, s.disclosures, [], [nb.chain], trust, T0)
    inputs = [
        InputClaim(
            attestation_digest=attestation_digest(s.sd_jwt),
            quantity=D("500"),
            unit="gram",
            upstream=stages("15.2", "3.4431", "0.2", "-0.05"),
            declared_unit="kilogram",
        ),
        InputClaim(
            basis="entered",
            quantity=D("2"),
            unit="kilogram",
            upstream=stages("3", "1", "0", "-0.5"),
            declared_unit="kilogram",
            document_digest=DOC_SHA,
            source_kind="document",
            entered_by="user:alice",
            entered_at=datetime(2026, 2, 1, tzinfo=UTC),
            supplier=TYPED,
        ),
    ]
    own = stages("1", "2", "0", "0")
    rule = RoundingRule(12)
    totals = combine_stages(
        own.as_dict(), [(convert(i.quantity, i.unit, i.declared_unit), i.upstream.as_dict()) for i in inputs], rule
    )
    coverage, entered, _ = coverage_of_inputs(own.as_dict(), inputs, {inputs[0].attestation_digest: make_claims()}.get)
    claim = coverage_claim(coverage)
    if coverage_change is not None:
        claim = claim.model_copy(update={"total": coverage_change})
    extra = (
        {}
        if drop_coverage
        else {"attested_coverage": claim, "entered_inputs": entered_change if entered_change is not None else entered}
    )
    claims = make_claims(
        issuer=CUSTOMER_ID,
        audience=OEM_ID,
        stages=stages(*(str(totals[st]) for st in STAGES)),
        total=sum(totals.values(), D(0)),
        **extra,
    )
    t = issue_attestation(
        claims, HiddenClaims(own_emissions=own, inputs=inputs), pki["tier"].key, pki["tier"].chain, at=T0
    )
    docs = {DOC_SHA: EvidenceDocument.of(document, "application/pdf")}
    evidence = seal_evidence_tree(t.sd_jwt, t.disclosures, [(s.sd_jwt, s_evidence)], [nb.chain], trust, T0, docs)
    return t.sd_jwt, evidence, coverage


def _verify(pki, sd_jwt, evidence, **kw):
    nb = pki["nb"]
    return verify_attestation_tree(
        sd_jwt, evidence, pki["pki"].trust(), at=T0, verifier_key=nb.key, verifier_cert=nb.chain, audience=OEM_ID, **kw
    )


def _failures(report):
    return sorted({(f.company, f.check) for f in report.failures})


def test_entered_input_listed_and_coverage_recomputed(pki) -> None:
    sd_jwt, evidence, coverage = _chain(pki)
    report = _verify(pki, sd_jwt, evidence)
    assert report.valid, [f.line() for f in report.failures]
    assert not report.fully_attested and report.entered_inputs == 1
    assert report.attested_coverage is not None and D(report.attested_coverage["total"]) == coverage.total < 100
    assert report.summary() == f"valid, {report.attested_coverage['total']} % attested (1 entered input)"
    entered = [i for i in report.root.inputs or [] if i.basis == "entered"]
    assert len(entered) == 1
    line = entered[0]
    assert (line.supplier, line.entered_by, line.source_kind) == (TYPED, "user:alice", "document")
    assert line.document_check == "pass" and line.document_size == len(DOCUMENT)
    assert line.attestation_digest is None and line.share_percent is not None
    # mass: own 3, S 0.5 x 18.8931 = 9.44655, entered 2 x 4.5 = 9 -> 9 / 21.44655 = 41.96 %
    assert D(line.share_percent) == D("41.96")
    console = Console(width=250, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_tree(report))
    text = console.export_text()
    assert "entered input 2 kilogram from " + TYPED in text and "pass" in text
    assert "% attested" in text.splitlines()[0]
    assert report.to_json_dict()["attestedCoverage"]["total"] == report.attested_coverage["total"]


def test_require_attested_fails_the_entered_input(pki) -> None:
    sd_jwt, evidence, _ = _chain(pki)
    report = _verify(pki, sd_jwt, evidence, require_attested=True)
    assert _failures(report) == [(CUSTOMER_ID, "attested")]
    # without the key (nothing opened) the clear enteredInputs claim is enough to refuse it
    unopened = verify_attestation_tree(
        sd_jwt, evidence, pki["pki"].trust(), at=T0, audience=OEM_ID, require_attested=True
    )
    assert ("attested" in {f.check for f in unopened.failures}) and not unopened.valid


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"coverage_change": D("99.99")}, "coverage"),
        ({"entered_change": 0}, "coverage"),
        ({"drop_coverage": True}, "coverage"),
        ({"document": b"another document"}, "document"),
    ],
)
def test_wrong_coverage_claims_and_documents_fail(pki, change, check) -> None:
    sd_jwt, evidence, _ = _chain(pki, **change)
    assert _failures(_verify(pki, sd_jwt, evidence)) == [(CUSTOMER_ID, check)]


def test_packages_without_entered_inputs_keep_the_v2_shape(pki) -> None:
    """No ``documents`` member unless there is a document: packages without entered inputs are as before, and a
    package written before (no member) reads with none."""
    from connector.attestation import EvidenceContent, open_evidence

    trust, nb = pki["pki"].trust(), pki["nb"]
    s = issue_attestation(
        make_claims(), HiddenClaims(own_emissions=stages("1")), pki["supplier"].key, pki["supplier"].chain, at=T0
    )
    evidence = seal_evidence_tree(s.sd_jwt, s.disclosures, [], [nb.chain], trust, T0)
    content = open_evidence(evidence["packages"][evidence["package"]], nb.key, nb.chain[0])
    assert content.documents == {} and "documents" not in content.to_json_dict()
    old = EvidenceContent.model_validate({"attestation": s.sd_jwt, "disclosures": s.disclosures, "upstream": []})
    assert old.documents == {}


@pytest.mark.parametrize(
    ("value", "shown"),
    [("20.4", "20.40"), ("20", "20.00"), ("100", "100.00"), ("0", "0.00"), ("65.47", "65.47"), ("12.345", "12.345")],
)
def test_a_coverage_figure_keeps_its_two_places(value: str, shown: str) -> None:
    """Coverage is rounded down to 2 places (decision 0017): "20.4 %" would hide that; a figure with more places (a
    claim that was not rounded) is shown as it is, never rounded for display."""
    from connector.aggregation import format_percent

    assert format_percent(D(value)) == shown


def test_verify_shows_coverage_with_two_places_in_text_html_and_json(pki) -> None:
    """``connector verify`` rendered "20.4 %" for a coverage rounded down to 20.40: the text, the HTML and the JSON
    report now keep both places (the JSON a decimal string)."""
    from connector.verification import render_html

    sd_jwt, evidence, _ = _chain(pki, coverage_change=D("20.4"))  # claimed as signed; the recompute disagrees
    report = _verify(pki, sd_jwt, evidence)
    assert report.attested_coverage is not None and report.attested_coverage["total"] == "20.40"
    assert report.to_json_dict()["attestedCoverage"]["total"] == "20.40"
    assert all(len(v.split(".")[1]) == 2 for v in report.to_json_dict()["attestedCoverage"].values())
    console = Console(width=250, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(render_tree(report))
    text = console.export_text()
    assert "attested coverage 20.40 %" in text and "attested coverage 20.4 %" not in text
    assert "attested coverage 20.40 %" in render_html(report)
    valid = report.model_copy(update={"valid": True, "failures": []})
    assert valid.summary() == "valid, 20.40 % attested (1 entered input)"


def test_a_report_at_100_00_percent_is_fully_attested() -> None:
    from connector.verification.report import full_percent

    assert full_percent("100.00") and full_percent("100") and not full_percent("99.99") and not full_percent(None)
