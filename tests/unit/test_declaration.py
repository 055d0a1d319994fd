"""The Art. 7 declaration: inputs, functional unit, rounding, classes, contributions, verification status."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from pydantic import ValidationError

from connector.declaration import (
    ART7_ITEMS,
    CertificationInput,
    Declaration,
    DeclarationInput,
    PerformanceClassScheme,
    SupplierContributionInput,
    VerificationStatus,
    compute_declaration,
)
from connector.demo.chains import DEFAULT_CHAIN
from connector.errors import ValidationFailed
from connector.stages import Stage

FIXTURE = DEFAULT_CHAIN
AT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def chain() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def raw_input(chain) -> dict:
    return json.loads(json.dumps(chain["declaration"]))  # a deep copy the test may change


@pytest.fixture
def pack_stages(chain) -> dict[Stage, D]:
    inp = chain["declaration"]
    values = chain["expected"]["footprints"][inp["packProductId"]]
    return {Stage(k): D(v) for k, v in values.items() if k != "total"}


def declare(raw: dict, stages: dict[Stage, D], **kwargs) -> Declaration:
    return compute_declaration(DeclarationInput.model_validate(raw), stages, at=AT, **kwargs)


class TestFixture:
    def test_reproduces_expected_declaration(self, chain, raw_input, pack_stages):
        expected = chain["expected"]["declaration"]
        out = declare(raw_input, pack_stages).model_dump(mode="json", by_alias=True)

        assert out["functionalUnit"]["totalEnergyKwh"] == expected["totalEnergyKwh"]
        assert {s["stage"]: s["value"] for s in out["stages"]} == {s.value: expected[s.value] for s in Stage}
        assert out["carbonFootprint"]["value"] == expected["total"]
        assert out["absoluteCarbonFootprint"]["value"] == expected["absoluteKgCo2e"]

    def test_stages_in_annex_ii_order_with_their_titles(self, raw_input, pack_stages):
        decl = declare(raw_input, pack_stages)
        assert [s.stage for s in decl.stages] == list(Stage)
        assert [s.title for s in decl.stages] == [
            "Raw material acquisition and pre-processing",
            "Main product production",
            "Distribution",
            "End of life and recycling",
        ]

    def test_exact_value_kept_beside_declared(self, raw_input, pack_stages):
        decl = declare(raw_input, pack_stages)
        rm = decl.stage(Stage.RAW_MATERIAL_ACQUISITION)
        assert rm.exact_value != rm.value
        assert str(rm.exact_value).startswith("0.1187014257166666")
        assert rm.exact_value.quantize(D("0.000001")) == rm.value
        assert decl.stage(Stage.END_OF_LIFE).exact_value == D("-0.00625")
        assert rm.absolute_kg_co2e == D("4273.2513258")
        assert decl.rounding == "decimal-places:6;half-even"

    def test_total_rounded_on_its_own_not_summed_from_rounded_stages(self, raw_input, pack_stages):
        decl = declare(raw_input, pack_stages)
        assert sum(s.value for s in decl.stages) == D("0.164678")
        assert decl.carbon_footprint.value == D("0.164679")

    def test_every_article_7_item_is_present(self, raw_input, pack_stages):
        out = declare(raw_input, pack_stages).model_dump(mode="json", by_alias=True)
        assert [letter for letter, _, _ in ART7_ITEMS] == list("abcdefg")
        for letter, _, field in ART7_ITEMS:
            assert out[field], f"Art. 7(1)({letter}) {field} is empty"
        assert out["manufacturer"] == raw_input["manufacturer"]
        assert out["batteryModel"]["modelId"] == "NM-EV75-NMC811"
        assert out["manufacturingPlant"]["country"] == "JP"
        assert out["declarationOfConformityId"] == "NM-DoC-2026-0001"
        assert out["studyUrl"] == raw_input["studyUrl"]

    def test_serializes_as_a_credential_subject_and_back(self, raw_input, pack_stages):
        decl = declare(raw_input, pack_stages)
        subject = json.loads(json.dumps(decl.model_dump(mode="json", by_alias=True)))
        assert subject["type"] == "BatteryCarbonFootprintDeclaration"
        assert subject["issuedAt"] == "2026-05-01T09:30:00Z"
        assert all(isinstance(s["value"], str) for s in subject["stages"])  # decimals stay strings
        assert Declaration.model_validate(subject) == decl

    def test_id_is_deterministic_and_can_be_given(self, raw_input, pack_stages):
        assert declare(raw_input, pack_stages).id == declare(raw_input, pack_stages).id
        assert declare(raw_input, pack_stages).id.startswith("urn:uuid:")
        assert declare(raw_input, pack_stages, declaration_id="urn:x:1").id == "urn:x:1"


class TestCyclesPerYear:
    @pytest.mark.parametrize(
        ("vehicle", "cycles"),
        [("M1", "60"), ("N1", "60"), ("L", "20"), ("M2", "250"), ("M3", "250"), ("N2", "250"), ("N3", "250")],
    )
    def test_default_by_vehicle_category(self, raw_input, vehicle, cycles):
        raw_input["vehicleCategory"] = vehicle
        del raw_input["cyclesPerYear"]
        inp = DeclarationInput.model_validate(raw_input)
        assert inp.effective_cycles_per_year == D(cycles)

    def test_default_recorded_as_basis(self, raw_input, pack_stages):
        del raw_input["cyclesPerYear"]
        fu = declare(raw_input, pack_stages).functional_unit
        assert (fu.cycles_per_year, fu.cycles_per_year_basis, fu.total_energy_kwh) == (D(60), "default", D(36000))

    def test_override_without_reason_is_refused(self, raw_input):
        raw_input["cyclesPerYear"] = "100"
        with pytest.raises(ValidationError, match="cyclesOverrideReason") as info:
            DeclarationInput.model_validate(raw_input)
        assert "default for M1 is 60" in str(info.value)

    def test_override_with_reason(self, raw_input, pack_stages):
        raw_input["cyclesPerYear"] = "100"
        raw_input["cyclesOverrideReason"] = "Fleet taxi use, documented in section 3.2 of the study"
        decl = declare(raw_input, pack_stages)
        fu = decl.functional_unit
        assert (fu.cycles_per_year_basis, fu.total_energy_kwh) == ("override", D(60000))
        assert fu.cycles_override_reason.startswith("Fleet taxi")
        assert decl.carbon_footprint.value == D("0.098807")  # 5928.4337818 / 60000 = 0.09880722969...

    def test_blank_reason_is_refused(self, raw_input):
        raw_input["cyclesPerYear"] = "100"
        raw_input["cyclesOverrideReason"] = "  "
        with pytest.raises(ValidationError):
            DeclarationInput.model_validate(raw_input)

    def test_without_vehicle_category_cycles_are_required(self, raw_input):
        raw_input["batteryCategory"] = "industrial"
        del raw_input["vehicleCategory"], raw_input["cyclesPerYear"]
        with pytest.raises(ValidationError, match="cyclesPerYear is required"):
            DeclarationInput.model_validate(raw_input)
        raw_input["cyclesPerYear"] = "300"
        raw_input["cyclesOverrideReason"] = "Stationary storage, one cycle per working day"
        assert DeclarationInput.model_validate(raw_input).effective_cycles_per_year == D(300)


class TestInputValidation:
    @pytest.mark.parametrize("field", ["usableEnergyKwh", "serviceLifeYears", "cyclesPerYear"])
    @pytest.mark.parametrize("value", ["0", "-1"])
    def test_energy_terms_must_be_positive(self, raw_input, field, value):
        raw_input[field] = value
        raw_input["cyclesOverrideReason"] = "test"
        with pytest.raises(ValidationError):
            DeclarationInput.model_validate(raw_input)

    def test_json_number_is_refused(self, raw_input):
        raw_input["usableEnergyKwh"] = 75.0
        with pytest.raises(ValidationError):
            DeclarationInput.model_validate(raw_input)

    @pytest.mark.parametrize(
        "plant",
        [
            {"name": "x", "country": "jp"},
            {"name": "x", "country": "JPN"},
            {"name": "x", "country": "JP", "subdivision": "DE-BY"},
            {"name": "x", "country": "JP", "bpna": "BPNL000000000001"},
        ],
    )
    def test_plant_location_is_checked(self, raw_input, plant):
        raw_input["plant"] = plant
        with pytest.raises(ValidationError):
            DeclarationInput.model_validate(raw_input)

    def test_unknown_field_is_refused(self, raw_input):
        raw_input["cyclesPerYaer"] = "60"
        with pytest.raises(ValidationError):
            DeclarationInput.model_validate(raw_input)

    def test_unknown_category_is_refused(self, raw_input):
        raw_input["batteryCategory"] = "portable"
        with pytest.raises(ValidationError):
            DeclarationInput.model_validate(raw_input)

    def test_naive_time_is_refused(self, raw_input, pack_stages):
        with pytest.raises(ValidationFailed, match="timezone"):
            compute_declaration(DeclarationInput.model_validate(raw_input), pack_stages, at=datetime(2026, 5, 1))

    def test_unknown_stage_is_refused(self, raw_input):
        with pytest.raises(ValidationFailed, match="use"):
            compute_declaration(DeclarationInput.model_validate(raw_input), {"use": D(1)}, at=AT)

    def test_missing_stages_count_as_zero(self, raw_input):
        decl = compute_declaration(DeclarationInput.model_validate(raw_input), {Stage.MAIN_PRODUCTION: D(3600)}, at=AT)
        assert decl.carbon_footprint.value == D("0.1")
        assert decl.stage(Stage.DISTRIBUTION).value == 0


class TestRounding:
    def _one_stage(self, raw_input, kg: str) -> D:
        # 12.5 kWh x 20 cycles (L) x 4 years = 1000 kWh, so kg / 1000 lands on exact ties.
        raw_input.update(usableEnergyKwh="12.5", vehicleCategory="L", cyclesPerYear="20", serviceLifeYears="4")
        return declare(raw_input, {Stage.MAIN_PRODUCTION: D(kg)}).carbon_footprint.value

    @pytest.mark.parametrize(
        ("kg", "declared"),
        [
            ("0.0005", "0"),
            ("0.0015", "0.000002"),
            ("0.0025", "0.000002"),
            ("-0.0035", "-0.000004"),
            ("0.00051", "0.000001"),
        ],
    )
    def test_six_places_half_even(self, raw_input, kg, declared):
        assert self._one_stage(raw_input, kg) == D(declared)


def scheme(*bounds: tuple[str, str | None]) -> dict:
    return {
        "source": "internal test scheme",
        "boundaries": [{"class": c, "upToKgCo2ePerKwh": b} for c, b in bounds],
    }


class TestPerformanceClass:
    def test_not_yet_defined_without_boundaries(self, raw_input, pack_stages):
        pc = declare(raw_input, pack_stages).model_dump(mode="json", by_alias=True)["performanceClass"]
        assert pc["class"] is None
        assert pc["status"] == "not-yet-defined"
        assert (
            "not yet defined" in pc["note"]
            and "No carbon footprint performance classes have been published" in pc["note"]
        )

    @pytest.mark.parametrize(
        ("bounds", "expected"),
        [
            ((("A", "0.1"), ("B", "0.164679"), ("C", None)), "B"),  # inclusive upper bound, on the declared value
            ((("A", "0.1"), ("B", "0.164678"), ("C", None)), "C"),
            ((("A", "0.2"), ("B", None)), "A"),
        ],
    )
    def test_assigned_from_configured_boundaries(self, raw_input, pack_stages, bounds, expected):
        raw_input["performanceClasses"] = scheme(*bounds)
        pc = declare(raw_input, pack_stages).performance_class
        assert (pc.performance_class, pc.status.value, pc.scheme_source) == (
            expected,
            "assigned",
            "internal test scheme",
        )

    def test_above_every_closed_boundary_is_refused(self, raw_input, pack_stages):
        raw_input["performanceClasses"] = scheme(("A", "0.05"), ("B", "0.1"))
        with pytest.raises(ValidationFailed, match="above the worst class"):
            declare(raw_input, pack_stages)

    @pytest.mark.parametrize(
        "bounds",
        [
            (("A", "0.2"), ("B", "0.1")),
            (("A", None), ("B", "0.1")),
            (("A", "0.1"), ("A", "0.2")),
            (("A", "0.1"), ("B", "0.1")),
        ],
    )
    def test_malformed_schemes_are_refused(self, bounds):
        with pytest.raises(ValidationError):
            PerformanceClassScheme.model_validate(scheme(*bounds))


class TestSupplierContributions:
    def test_tier_one_lines_with_share_of_absolute(self, raw_input, pack_stages):
        cells = SupplierContributionInput(
            company_name="Setouchi Cell Manufacturing K.K.",
            company_id="urn:pact:setouchi-cell.example:company:setouchi-cell",
            product_id="urn:pact:setouchi-cell.example:product:cell-p100ah",
            product_name="Pouch cell 100 Ah",
            quantity=D(204),
            declared_unit="piece",
            kg_co2e_per_declared_unit=D("25.30604795"),
        )
        (c,) = declare(raw_input, pack_stages, supplier_contributions=[cells]).supplier_contributions
        assert c.kg_co2e == D("5162.4337818")  # 204 x 25.30604795
        assert c.share_percent == D("87.08")  # 5162.4337818 / 5928.4337818
        assert c.kg_co2e_per_kwh == D("0.143401")  # 5162.4337818 / 36000 = 0.14340093838...
        assert c.quantity == D(204) and c.declared_unit == "piece"

    def test_wire_names(self, raw_input, pack_stages):
        line = SupplierContributionInput.model_validate(
            {
                "companyName": "Kyushu Battery Systems Corp.",
                "productId": "pack",
                "quantity": "1",
                "declaredUnit": "piece",
                "kgCo2ePerDeclaredUnit": "5928.4337818",
            }
        )
        out = declare(raw_input, pack_stages, supplier_contributions=[line]).model_dump(mode="json", by_alias=True)
        assert out["supplierContributions"][0]["kgCo2e"] == "5928.4337818"
        assert out["supplierContributions"][0]["sharePercent"] == "100"


def cert(tier: int, status: str, company: str = "Example Co") -> CertificationInput:
    return CertificationInput(
        tier=tier, company_name=company, verifier="Example Notified Body 0042", date=date(2026, 4, 1), status=status
    )


class TestVerificationStatus:
    @pytest.mark.parametrize(
        ("statuses", "overall"),
        [
            ((), "not-verified"),
            (("valid",), "valid"),
            (("valid", "valid", "valid"), "valid"),
            (("valid", "not-verified"), "not-verified"),
            (("valid", "invalid", "not-verified"), "invalid"),
        ],
    )
    def test_overall_from_per_tier_certifications(self, raw_input, pack_stages, statuses, overall):
        certs = [cert(i, s) for i, s in enumerate(statuses)]
        decl = declare(raw_input, pack_stages, certifications=certs)
        assert decl.verification_status is VerificationStatus(overall)
        assert [(c.tier, c.status.value) for c in decl.certifications] == list(enumerate(statuses))

    def test_certification_on_the_wire(self, raw_input, pack_stages):
        out = declare(raw_input, pack_stages, certifications=[cert(1, "valid")]).model_dump(mode="json", by_alias=True)
        assert out["certifications"][0] == {
            "tier": 1,
            "companyName": "Example Co",
            "companyId": None,
            "productId": None,
            "verifier": "Example Notified Body 0042",
            "verifierId": None,
            "date": "2026-04-01",
            "status": "valid",
            "reference": None,
        }
