"""Attested coverage (issue 17): the arithmetic, its properties, and the entered input claim on the wire."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from connector.aggregation import (
    Coverage,
    CoverageInput,
    claimed_coverage,
    claimed_entered,
    compute_coverage,
    coverage_claim,
    coverage_of_inputs,
    input_share,
    round_down,
)
from connector.attestation import HiddenClaims, InputClaim, issue_attestation, verify_attestation
from connector.attestation.attestation import hidden_disclosures
from connector.stages import STAGES, Stage
from tests.pki import CUSTOMER_ID, SUPPLIER_ID, T0, make_claims, make_hidden, make_pki, stages

RAW, MAIN, DIST, EOL = STAGES
DOC = "a" * 64


def _entered(**kw: object) -> InputClaim:
    data: dict[str, object] = dict(
        basis="entered",
        quantity=D("2"),
        unit="kilogram",
        upstream=stages("3", "1"),
        declared_unit="kilogram",
        document_digest=DOC,
        source_kind="pact-file",
        entered_by="api-key:ops",
        entered_at=datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
        supplier="urn:pact:typed.example:company:typed",
    )
    data.update(kw)
    return InputClaim(**data)  # type: ignore[arg-type]


# --- the arithmetic ---------------------------------------------------------------------------------------------------


def test_worked_example_per_stage_and_total() -> None:
    own = {MAIN: D("5")}
    up = {RAW: D("4"), MAIN: D("10")}
    inputs = [CoverageInput(D("1"), up, None), CoverageInput(D("2"), up, {RAW: D("100"), MAIN: D("50")})]
    c = compute_coverage(own, inputs)
    # main: attested 5 + 20 x 0.5 = 15 of 5 + 10 + 20 = 35 -> 42.857... -> 42.85 (down)
    assert c.stages[MAIN] == D("42.85")
    # raw: attested 8 of 4 + 8 = 12 -> 66.666... -> 66.66
    assert c.stages[RAW] == D("66.66")
    assert c.stages[DIST] == D("100") and c.stages[EOL] == D("100")  # nothing there: 100
    # total: (15 + 8) / (35 + 12) = 48.936... -> 48.93
    assert c.total == D("48.93")
    assert not c.full


def test_negative_stage_counts_by_absolute_value() -> None:
    # an end-of-life credit resting on an entered value is as unproven as an emission
    credit = {EOL: D("-6")}
    c = compute_coverage({EOL: D("2")}, [CoverageInput(D("1"), credit, None)])
    assert c.stages[EOL] == D("25")  # |2| / (|2| + |-6|)
    signed_sum = compute_coverage({EOL: D("6")}, [CoverageInput(D("1"), {EOL: D("-2")}, None)])
    assert signed_sum.stages[EOL] == D("75")  # not 6 / 4 = 150 %


def test_zero_totals_are_fully_covered() -> None:
    c = compute_coverage({}, [CoverageInput(D("3"), {RAW: D("0")}, None)])
    assert c.stages == {s: D("100") for s in STAGES} and c.total == D("100") and c.full
    assert compute_coverage({}, []).full
    assert input_share({}, [CoverageInput(D("1"), {}, None)], 0) == D("0")


def test_rounding_is_down_never_up() -> None:
    assert round_down(D("99.999999")) == D("99.99")
    c = compute_coverage({MAIN: D("99999")}, [CoverageInput(D("1"), {MAIN: D("1")}, None)])
    assert c.stages[MAIN] == D("99.99") and c.total == D("99.99")  # 99.999 %: never shown as 100
    assert not c.full


def test_only_entered_is_zero() -> None:
    c = compute_coverage({}, [CoverageInput(D("1"), {RAW: D("3"), EOL: D("-1")}, None)])
    assert c.total == D("0") and c.stages[RAW] == D("0") and c.stages[EOL] == D("0")


def test_input_share_of_the_absolute_mass() -> None:
    own = {MAIN: D("2")}
    items = [CoverageInput(D("1"), {RAW: D("3"), EOL: D("-3")}, None), CoverageInput(D("1"), {MAIN: D("2")}, None)]
    assert input_share(own, items, 0) == D("60")  # 6 of 2 + 6 + 2
    assert input_share(own, items, 1) == D("20")


def _random_stages(rng: random.Random) -> dict[Stage, D]:
    return {s: D(rng.randint(-50 if s is EOL else 0, 500)) / D(rng.choice([1, 10, 100])) for s in STAGES}


def _random_coverage(rng: random.Random) -> dict[Stage, D]:
    return {s: round_down(D(rng.randint(0, 10000)) / D(100)) for s in STAGES}


def _unattested_mass(own: dict[Stage, D], items: list[CoverageInput], c: Coverage, s: Stage) -> D:
    mass = abs(own.get(s, D(0))) + sum((i.mass(s) for i in items), D(0))
    return mass * (D(100) - c.stages[s]) / D(100)


@pytest.mark.parametrize("seed", range(40))
def test_a_pack_built_on_cells_80_percent_attested_is_at_most_that(seed: int) -> None:
    """A pack maker that adds no emissions of its own: with every cell 80 % attested (per stage), the pack is at most
    80 % attested on every stage and overall, whatever the quantities and values."""
    rng = random.Random(seed)
    cells = [
        CoverageInput(D(rng.randint(1, 200)) / D(10), _random_stages(rng), {s: D("80") for s in STAGES})
        for _ in range(rng.randint(1, 6))
    ]
    pack = compute_coverage({}, cells)
    assert all(v <= D("80") for v in pack.stages.values()) and pack.total <= D("80")
    # and one entered cell among them makes it strictly less wherever that cell weighs
    entered = CoverageInput(D("1"), {s: D("1") for s in STAGES}, None)
    worse = compute_coverage({}, [*cells, entered])
    assert all(worse.stages[s] < D("80") for s in STAGES)


@pytest.mark.parametrize("seed", range(40))
def test_unattested_mass_never_shrinks_downstream(seed: int) -> None:
    """The general property (own emissions included): the not-attested kg of the pack, per stage, are at least the
    sum of the not-attested kg its inputs bring; own emissions only add attested mass. Rounding down errs the safe
    way. And coverage stays within 0..100."""
    rng = random.Random(seed)
    own = _random_stages(rng)
    items = []
    for _ in range(rng.randint(0, 6)):
        cov = None if rng.random() < 0.3 else _random_coverage(rng)
        items.append(CoverageInput(D(rng.randint(1, 300)) / D(100), _random_stages(rng), cov))
    c = compute_coverage(own, items)
    for s in STAGES:
        assert D(0) <= c.stages[s] <= D(100)
        brought = sum(
            (i.mass(s) * (D(100) - (i.coverage[s] if i.coverage is not None else D(0))) / D(100) for i in items), D(0)
        )
        assert _unattested_mass(own, items, c, s) >= brought
    assert D(0) <= c.total <= D(100)
    if all(i.coverage is not None and all(v == D(100) for v in i.coverage.values()) for i in items):
        assert c.full


# --- the claims ---------------------------------------------------------------------------------------------------------


def test_coverage_of_inputs_reads_upstream_claims_and_counts_the_tree() -> None:
    upstream_claims = make_claims(
        attested_coverage=coverage_claim(Coverage({s: D("50") for s in STAGES}, D("50"))), entered_inputs=3
    )
    old_claims = make_claims()  # no coverage claim: an attestation from before entered inputs, read as 100 %
    inputs = [
        InputClaim(
            attestation_digest="B" * 43,
            quantity=D("1000"),
            unit="gram",
            upstream=stages("10"),
            declared_unit="kilogram",
        ),
        InputClaim(
            attestation_digest="C" * 43,
            quantity=D("1"),
            unit="kilogram",
            upstream=stages("10"),
            declared_unit="kilogram",
        ),
        _entered(quantity=D("1"), upstream=stages("10")),
    ]
    claims = {"B" * 43: upstream_claims, "C" * 43: old_claims}
    coverage, entered, items = coverage_of_inputs({}, inputs, claims.get)
    assert items[0].quantity == D("1")  # 1000 gram in the upstream's kilogram
    assert coverage.stages[RAW] == D("50")  # (10 x 0.5 + 10 x 1 + 0) / 30
    assert entered == 4  # one here, three below B, none below the old C
    assert claimed_coverage(old_claims).full and claimed_entered(old_claims) == 0
    with pytest.raises(LookupError):
        coverage_of_inputs({}, inputs, {}.get)


def test_entered_input_round_trip() -> None:
    claim = _entered()
    wire = claim.to_json_dict()
    assert wire["basis"] == "entered" and "attestationDigest" not in wire
    assert wire["documentDigest"] == DOC and wire["enteredBy"] == "api-key:ops" and wire["sourceKind"] == "pact-file"
    assert InputClaim.model_validate(json.loads(json.dumps(wire))) == claim


def test_old_input_without_basis_reads_as_attested() -> None:
    old = {
        "attestationDigest": "A" * 43,
        "quantity": "1",
        "unit": "kilogram",
        "upstream": stages("1").model_dump(mode="json"),
        "declaredUnit": "kilogram",
    }
    claim = InputClaim.model_validate(old)
    assert claim.basis == "attested" and not claim.entered


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"attestation_digest": "A" * 43}, "no attestationDigest"),
        ({"entered_by": None}, "needs sourceKind"),
        ({"document_digest": "NOT-HEX"}, "pattern"),
    ],
)
def test_malformed_entered_inputs_are_refused(change: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _entered(**change)


def test_attested_input_carries_no_provenance() -> None:
    with pytest.raises(ValidationError, match="carries no provenance"):
        InputClaim(
            attestation_digest="A" * 43,
            quantity=D("1"),
            unit="kilogram",
            upstream=stages("1"),
            declared_unit="kilogram",
            supplier="urn:pact:x.example:company:x",
        )


def test_entered_input_signed_and_opened_with_decoys() -> None:
    pki = make_pki()
    supplier = pki.company(SUPPLIER_ID, "supplier", name="Supplier")
    hidden = HiddenClaims(own_emissions=stages("1"), inputs=[*make_hidden().inputs, _entered()])
    claims = make_claims(
        stages=stages("22.5", "2.0", "0", "0"),
        total=D("24.5"),
        attested_coverage=coverage_claim(Coverage({s: D("40") for s in STAGES}, D("40"))),
        entered_inputs=1,
    )
    issued = issue_attestation(claims, hidden, supplier.key, supplier.chain, at=T0)
    verified = verify_attestation(issued.sd_jwt, pki.trust(), at=T0, audience=CUSTOMER_ID)
    assert verified.hidden is None and verified.claims.entered_inputs == 1
    assert verified.claims.attested_coverage is not None and verified.claims.attested_coverage.total == D("40")
    opened = verify_attestation(issued.sd_jwt, pki.trust(), at=T0, audience=None, disclosures=issued.disclosures)
    assert opened.hidden == hidden and opened.hidden.inputs[1].entered
    # the number of inputs stays hidden: disclosures (own, count, 2 inputs) padded with decoys
    subject = json.loads(__import__("base64").urlsafe_b64decode(issued.sd_jwt.split(".")[1] + "==="))[
        "credentialSubject"
    ]
    assert len(subject["_sd"]) == 16 > len(hidden_disclosures(hidden))
    assert subject["attestedCoverage"]["total"] == "40" and subject["enteredInputs"] == 1
