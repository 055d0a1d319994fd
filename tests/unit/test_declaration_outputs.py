"""Exports (Battery Pass 1.2.0, Catena-X battery_pass 6.1.0), Annex IX DoC, HTML page and committed schemas."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal as D
from pathlib import Path

import pytest
from pydantic import ValidationError

from connector.declaration import (
    CertificationInput,
    ConformityInput,
    Declaration,
    DeclarationInput,
    SupplierContributionInput,
    build_declaration_of_conformity,
    compute_declaration,
    render_conformity_html,
    render_conformity_text,
    render_declaration_html,
    to_battery_pass,
    to_catenax_battery_pass,
)
from connector.declaration.exports import BatteryPassCarbonFootprint, CatenaxBatteryPassCarbonFootprint
from connector.declaration.html import stage_chart
from connector.demo.chains import DEFAULT_CHAIN
from connector.errors import ValidationFailed
from connector.stages import Stage

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = DEFAULT_CHAIN
AT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def chain() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def make_declaration(chain: dict, **changes) -> Declaration:
    raw = {**chain["declaration"], **changes}
    values = chain["expected"]["footprints"][raw["packProductId"]]
    stages = {Stage(k): D(v) for k, v in values.items() if k != "total"}
    cells = SupplierContributionInput(
        company_name="Setouchi Cell Manufacturing K.K.",
        product_id="urn:pact:setouchi-cell.example:product:cell-p100ah",
        product_name="Pouch cell 100 Ah NMC811/graphite",
        quantity=D(204),
        declared_unit="piece",
        kg_co2e_per_declared_unit=D("25.30604795"),
    )
    certs = [
        CertificationInput(
            tier=1,
            company_name="Kyushu Battery Systems Corp.",
            verifier="Example Notified Body 0042",
            date=date(2026, 4, 2),
            status="valid",
            reference="NB0042-2026-117",
        ),
        CertificationInput(
            tier=2,
            company_name="Setouchi Cell Manufacturing K.K.",
            verifier="Example Notified Body 0042",
            date=date(2026, 3, 20),
            status="not-verified",
        ),
    ]
    return compute_declaration(
        DeclarationInput.model_validate(raw), stages, supplier_contributions=[cells], certifications=certs, at=AT
    )


@pytest.fixture(scope="module")
def declaration(chain) -> Declaration:
    return make_declaration(chain)


# --- Battery Pass CarbonFootprintForBatteries 1.2.0 ---------------------------------------------------------

BATTERY_PASS_REQUIRED = {
    "batteryCarbonFootprint": float,
    "carbonFootprintPerLifecycleStage": list,
    "carbonFootprintPerformanceClass": str,
    "carbonFootprintStudy": str,
}
BATTERY_PASS_STAGES = ["RawMaterialExtraction", "MainProduction", "Distribution", "Recycling"]


class TestBatteryPass:
    def test_required_fields_and_types(self, declaration):
        out = to_battery_pass(declaration)
        for name, kind in BATTERY_PASS_REQUIRED.items():
            assert isinstance(out[name], kind), name
        assert isinstance(out["absoluteCarbonFootprint"], float)
        assert set(out) <= set(BATTERY_PASS_REQUIRED) | {"absoluteCarbonFootprint"}

    def test_values_are_the_declared_figures_as_doubles(self, chain, declaration):
        expected = chain["expected"]["declaration"]
        out = to_battery_pass(declaration)
        assert out["batteryCarbonFootprint"] == 0.164679
        stages = {e["lifecycleStage"]: e["carbonFootprint"] for e in out["carbonFootprintPerLifecycleStage"]}
        assert [e["lifecycleStage"] for e in out["carbonFootprintPerLifecycleStage"]] == BATTERY_PASS_STAGES
        assert stages == {
            "RawMaterialExtraction": 0.118701,
            "MainProduction": 0.049088,
            "Distribution": 0.003139,
            "Recycling": -0.00625,
        }
        for e, s in zip(out["carbonFootprintPerLifecycleStage"], Stage, strict=True):
            assert D(repr(e["carbonFootprint"])) == D(expected[s.value])  # no digit lost at the float boundary
        assert out["absoluteCarbonFootprint"] == 5928.4337818  # kg, as the 1.2.0 model's unit
        assert out["carbonFootprintStudy"] == "https://nippon-motors.example/cfp/NM-EV75-NMC811-study.pdf"

    def test_a_credit_rounded_to_zero_is_not_minus_zero(self, chain):
        raw = chain["declaration"]
        decl = compute_declaration(
            DeclarationInput.model_validate(raw), {Stage.MAIN_PRODUCTION: D(3600), Stage.END_OF_LIFE: D("-0.01")}, at=AT
        )
        assert decl.stage(Stage.END_OF_LIFE).value.is_zero()
        assert '"carbonFootprint": 0.0}' in json.dumps(to_battery_pass(decl))
        assert decl.model_dump(mode="json", by_alias=True)["stages"][3]["value"] == "0"

    def test_performance_class_not_yet_defined(self, declaration):
        assert to_battery_pass(declaration)["carbonFootprintPerformanceClass"] == "not yet defined"

    def test_performance_class_when_assigned(self, chain):
        decl = make_declaration(
            chain,
            performanceClasses={
                "source": "test",
                "boundaries": [{"class": "A", "upToKgCo2ePerKwh": "0.2"}, {"class": "B"}],
            },
        )
        assert to_battery_pass(decl)["carbonFootprintPerformanceClass"] == "A"

    def test_is_valid_against_its_model_and_json(self, declaration):
        out = to_battery_pass(declaration)
        assert (
            BatteryPassCarbonFootprint.model_validate(json.loads(json.dumps(out))).model_dump(
                mode="json", exclude_none=True
            )
            == out
        )


# --- Catena-X battery_pass 6.1.0 ----------------------------------------------------------------------------

CATENAX_REQUIRED = {"value", "unit", "type", "lifecycle", "manufacturingPlant", "rulebook", "declaration"}
CATENAX_LIFECYCLES = [  # the end-of-life credit is negative: 6.1.0 cannot carry it (value >= 0)
    "raw material acquisition and pre-processing",
    "main product production",
    "distribution",
    "total",
]


class TestCatenaX:
    def test_entries_have_required_fields_unit_and_type(self, declaration):
        out = to_catenax_battery_pass(declaration)
        entries = out["sustainability"]["carbonFootprint"]
        assert [e["lifecycle"] for e in entries] == CATENAX_LIFECYCLES
        for e in entries:
            assert CATENAX_REQUIRED <= set(e) <= CATENAX_REQUIRED | {"performanceClass"}
            assert e["unit"] == "kg CO2 / kWh"
            assert e["type"] == "Climate Change Total"
            assert isinstance(e["value"], float)
            assert "performanceClass" not in e  # optional in 6.1.0, and none is defined yet
            assert e["declaration"][0] == {
                "contentType": "URL",
                "header": "Public carbon footprint study",
                "content": "https://nippon-motors.example/cfp/NM-EV75-NMC811-study.pdf",
            }
        assert [e["value"] for e in entries] == [0.118701, 0.049088, 0.003139, 0.164679]
        assert out["conformity"] == {"declarationOfConformityId": "NM-DoC-2026-0001"}

    def test_negative_policy(self, declaration):
        omitted = to_catenax_battery_pass(declaration)["sustainability"]["carbonFootprint"]
        assert omitted == to_catenax_battery_pass(declaration, negative="omit")["sustainability"]["carbonFootprint"]
        assert "end of life and recycling" not in [e["lifecycle"] for e in omitted]
        assert all(e["value"] >= 0 for e in omitted)
        with pytest.raises(ValidationFailed, match="end of life and recycling"):
            to_catenax_battery_pass(declaration, negative="raise")

    def test_plant_bpna_methodology_and_links(self, chain):
        decl = make_declaration(
            chain,
            plant={**chain["declaration"]["plant"], "bpna": "BPNA000000000KX1"},
            methodologyUrl="https://example.org/cfb-ev",
            declarationUrl="https://nippon-motors.example/cfp/NM-EV75-NMC811.json",
            performanceClasses={"source": "test", "boundaries": [{"class": "A", "upToKgCo2ePerKwh": "0.2"}]},
        )
        e = to_catenax_battery_pass(decl)["sustainability"]["carbonFootprint"][0]
        assert e["manufacturingPlant"] == [{"facility": "BPNA000000000KX1"}]
        assert e["rulebook"] == [
            {"contentType": "URL", "header": decl.methodology, "content": "https://example.org/cfb-ev"}
        ]
        assert [d["header"] for d in e["declaration"]] == [
            "Public carbon footprint study",
            "Carbon footprint declaration",
        ]
        assert e["performanceClass"] == "A"

    def test_without_bpna_the_plant_list_is_empty(self, declaration):
        assert to_catenax_battery_pass(declaration)["sustainability"]["carbonFootprint"][0]["manufacturingPlant"] == []

    def test_is_valid_against_its_model(self, declaration):
        out = to_catenax_battery_pass(declaration)
        assert CatenaxBatteryPassCarbonFootprint.model_validate(out).model_dump(mode="json", exclude_none=True) == out


# --- Annex IX declaration of conformity ---------------------------------------------------------------------


def conformity(**changes) -> ConformityInput:
    raw = {
        "objectDescription": "Traction battery pack NM-EV75-NMC811, 75 kWh, lithium-ion NMC811",
        "standards": ["EN IEC 62660-1:2019"],
        "conformityModule": "G",
        "notifiedBody": {
            "name": "Example Notified Body 0042",
            "number": "0042",
            "task": "verified the carbon footprint declaration (Art. 7)",
            "certificate": "NB0042-2026-117",
        },
        "signedFor": "Nippon Motors Corporation",
        "placeOfIssue": "Toyota",
        "dateOfIssue": "2026-05-01",
        "signatoryName": "Hanako Example",
        "signatoryFunction": "Head of Product Compliance",
        **changes,
    }
    return ConformityInput.model_validate(raw)


class TestDeclarationOfConformity:
    def test_annex_ix_items_numbered_one_to_nine(self, declaration):
        doc = build_declaration_of_conformity(declaration, conformity())
        assert [i.number for i in doc.items] == list(range(1, 10))
        item = {i.number: i for i in doc.items}
        assert item[1].lines == ("NM-DoC-2026-0001",)
        assert doc.id == declaration.declaration_of_conformity_id
        assert "Model: NM-EV75-NMC811" in item[2].lines
        assert "Nippon Motors Corporation" in item[3].lines[0]
        assert item[4].lines == (
            "This declaration of conformity is issued under the sole responsibility of the manufacturer.",
        )
        assert any("2023/1542" in line for line in item[6].lines)
        assert item[7].lines == ("EN IEC 62660-1:2019",)
        assert "0042" in item[8].lines[0] and "module G" in item[8].lines[0]
        assert any("0.164679 kg CO2e/kWh" in line for line in item[9].lines)
        assert any("Hanako Example" in line for line in item[9].lines)

    def test_authorised_representative_and_batch(self, declaration):
        doc = build_declaration_of_conformity(
            declaration,
            conformity(
                authorisedRepresentative={"name": "NM Europe GmbH", "address": "Example-Str. 1, Berlin"},
                batchOrSerial="B-1",
            ),
        )
        item = {i.number: i for i in doc.items}
        assert "Authorised representative: NM Europe GmbH, Example-Str. 1, Berlin" in item[3].lines
        assert "Batch or serial number: B-1" in item[2].lines

    def test_needs_the_battery_regulation_and_a_notified_body(self):
        with pytest.raises(ValidationError):
            conformity(legislation=["Directive 2014/30/EU"])
        with pytest.raises(ValidationError):
            conformity(conformityModule="A")
        with pytest.raises(ValidationError):
            conformity(notifiedBody=None)

    def test_text_and_html(self, declaration):
        doc = build_declaration_of_conformity(declaration, conformity())
        text = render_conformity_text(doc)
        assert text.startswith("EU DECLARATION OF CONFORMITY")
        for n in range(1, 10):
            assert re.search(rf"^{n}\. ", text, re.M), n
        page = render_conformity_html(doc)
        assert "NM-DoC-2026-0001" in page and page.count('<li value="') == 9

    def test_as_json(self, declaration):
        out = build_declaration_of_conformity(declaration, conformity()).model_dump(mode="json", by_alias=True)
        assert out["type"] == "EUDeclarationOfConformity"
        assert out["notifiedBody"]["number"] == "0042"
        assert out["items"][0] == {
            "number": 1,
            "title": "EU declaration of conformity No",
            "lines": ["NM-DoC-2026-0001"],
        }


# --- HTML page ----------------------------------------------------------------------------------------------


class TestHtml:
    def test_page_shows_every_article_7_item_and_the_figures(self, declaration):
        page = render_declaration_html(declaration)
        for letter in "abcdefg":
            assert f"({letter})" in page
        for value in ["0.164679", "0.118701", "0.049088", "0.003139", "-0.00625", "5928.4337818", "36000"]:
            assert value in page
        assert "Kitakyushu pack plant" in page and "NM-DoC-2026-0001" in page
        assert "not yet defined" in page

    def test_suppliers_and_verification(self, declaration):
        page = render_declaration_html(declaration)
        assert "Setouchi Cell Manufacturing K.K." in page and "87.08 %" in page
        assert "766" in page  # own processes, secondary data and the EoL credit: 5928.4337818 - 5162.4337818
        assert 'class="badge not-verified"' in page and 'class="badge valid"' in page
        assert "NB0042-2026-117" in page

    def test_self_contained(self, declaration):
        page = render_declaration_html(declaration)
        assert "<svg" in page and "<style>" in page
        assert not re.search(r"<script|<link|<img|@import|url\(", page)

    def test_escapes_input(self, chain):
        decl = make_declaration(
            chain, manufacturer={**chain["declaration"]["manufacturer"], "name": "<script>x</script>"}
        )
        page = render_declaration_html(decl)
        assert "<script>x" not in page and "&lt;script&gt;x" in page

    def test_chart_draws_the_credit_left_of_zero(self, declaration):
        chart = stage_chart(declaration)
        eol, total = chart.bars[3], chart.bars[4]
        assert eol.css == "neg" and eol.x + eol.width == chart.zero_x
        assert all(b.x == chart.zero_x for b in chart.bars if b is not eol)
        assert total.css == "b-total" and max(b.x + b.width for b in chart.bars) == total.x + total.width

    def test_without_suppliers_or_certifications(self, chain):
        raw = chain["declaration"]
        values = chain["expected"]["footprints"][raw["packProductId"]]
        decl = compute_declaration(
            DeclarationInput.model_validate(raw), {Stage(k): D(v) for k, v in values.items() if k != "total"}, at=AT
        )
        page = render_declaration_html(decl)
        assert "No direct-supplier contributions" in page and "not verified" in page
