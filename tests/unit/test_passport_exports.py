"""Both passport exports against the constraints of their official models, written here in our own code.

Learnt from the published JSON Schemas (batterypass/BatteryPassDataModel ``io.BatteryPass.CarbonFootprint`` 1.2.0
and eclipse-tractusx/sldt-semantic-models ``io.catenax.battery.battery_pass`` 6.1.0), which are never copied here;
``scripts/validate-passports.py`` checks the demo's files against the schemas themselves (docs/declaration.md).
"""

from __future__ import annotations

import codecs
import importlib.util
import json
import re
import sys
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from connector.declaration import Declaration, DeclarationInput, compute_declaration, to_battery_pass
from connector.declaration import to_catenax_battery_pass as to_catenax
from connector.declaration.exports import CATENAX_LEFT_TO_MERGE, catenax_left_to_merge, check_catenax_passport
from connector.demo.chains import DEFAULT_CHAIN, catenax_passport_of
from connector.errors import ValidationFailed
from connector.stages import Stage

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)

# --- the constraints, in our words --------------------------------------------------------------------------

# Battery Pass CarbonFootprintForBatteries 1.2.0: five members, four required; numbers unbounded (a recycling
# credit is negative); stage entries need both members; the stage is one of four names; the study is a URI.
BP_MEMBERS = {
    "batteryCarbonFootprint": "number",
    "carbonFootprintPerLifecycleStage": "list",
    "carbonFootprintPerformanceClass": "string",
    "carbonFootprintStudy": "uri",
    "absoluteCarbonFootprint": "number",
}
BP_REQUIRED = set(BP_MEMBERS) - {"absoluteCarbonFootprint"}
BP_STAGE_MEMBERS = {"lifecycleStage": "stage", "carbonFootprint": "number"}
BP_STAGES = {"RawMaterialExtraction", "MainProduction", "Distribution", "Recycling"}

# Catena-X battery_pass 6.1.0: 13 top-level members, all but specVersion and sources required.
CX_MEMBERS = {
    "specVersion", "identification", "operation", "characteristics", "sustainability", "materials", "performance",
    "conformity", "safety", "sources", "metadata", "commercial", "handling",
}  # fmt: skip
CX_REQUIRED = CX_MEMBERS - {"specVersion", "sources"}
# (members, required) of the objects the carbon footprint lives in; "doclist" = list of documents.
CX_SUSTAINABILITY = ({"documents": "object", "carbonFootprint": "footprints", "status": "status"},
                     {"documents", "carbonFootprint", "status"})  # fmt: skip
CX_CONFORMITY = (
    {"declarationOfConformityId": "string", "declarationOfConformity": "doclist", "resultOfTestReport": "doclist",
     "thirdPartyAssurance": "doclist", "dueDiligencePolicy": "doclist"},
    {"declarationOfConformity", "resultOfTestReport", "thirdPartyAssurance", "dueDiligencePolicy"},
)  # fmt: skip
CX_FOOTPRINT = (
    {"value": "non-negative", "rulebook": "doclist", "lifecycle": "string", "unit": "string", "type": "impact",
     "performanceClass": "string", "manufacturingPlant": "facilities", "declaration": "doclist"},
    {"value", "rulebook", "lifecycle", "unit", "type", "manufacturingPlant", "declaration"},
)  # fmt: skip
CX_DOCUMENT = ({"content": "string", "contentType": "string", "header": "header"}, {"content", "contentType", "header"})
CX_STATUS = {"original", "repurposed", "re-used", "remanufactured", "waste"}
CX_IMPACT_CATEGORIES = {
    "Climate Change Total", "Climate Change Fossil", "Climate Change Biogenic Removals and Emissions",
    "Climate Change Land Use and Land Use Change", "Ozone Depletion", "Acidification",
    "Eutrophication Aquatic Freshwater", "Eutrophication Fresh Marine", "Eutrophication Terrestrial",
    "Photochemical Ozone Formation", "Abiotic Depletion- Minerals and Metals", "Fossil Fuels", "Water Use",
    "Particulate Matter Emissions", "Ionizing Radiation, Human Health", "Eco-Toxicity",
    "Human Toxicity, Cancer Effects", "Human Toxicity, Non-Cancer Effects", "Land Use Related Impacts/Soil Quality",
}  # fmt: skip
BPNA = re.compile(r"^BPNA[a-zA-Z0-9]{12}$")
HEADER_MAX = 100
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def _number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _scalar_problem(kind: str, v: Any, where: str) -> str | None:
    ok = {
        "number": _number(v),
        "non-negative": _number(v) and v >= 0,
        "string": isinstance(v, str),
        "uri": isinstance(v, str) and bool(URI.match(v)),
        "stage": v in BP_STAGES,
        "impact": v in CX_IMPACT_CATEGORIES,
        "status": v in CX_STATUS,
        "header": isinstance(v, str) and len(v) <= HEADER_MAX,
    }[kind]
    return None if ok else f"{where}: {v!r} is not a valid {kind}"


def battery_pass_problems(doc: Any) -> list[str]:
    """What the Battery Pass 1.2.0 model would refuse in ``doc`` (a whole aspect)."""
    if not isinstance(doc, dict):
        return ["/: not an object"]
    out = [f"/{m}: required" for m in sorted(BP_REQUIRED - set(doc))]
    out += [f"/{m}: not a member" for m in sorted(set(doc) - set(BP_MEMBERS))]
    for name, kind in BP_MEMBERS.items():
        if name not in doc:
            continue
        if kind != "list":
            out.append(_scalar_problem(kind, doc[name], f"/{name}") or "")
            continue
        if not isinstance(doc[name], list):
            out.append(f"/{name}: not a list")
            continue
        for i, entry in enumerate(doc[name]):
            out += [f"/{name}/{i}/{m}: required" for m in sorted(set(BP_STAGE_MEMBERS) - set(entry))]
            out += [f"/{name}/{i}/{m}: not a member" for m in sorted(set(entry) - set(BP_STAGE_MEMBERS))]
            out += [_scalar_problem(k, entry[m], f"/{name}/{i}/{m}") or "" for m, k in BP_STAGE_MEMBERS.items()
                    if m in entry]  # fmt: skip
    return [p for p in out if p]


def _object(spec: tuple[dict[str, str], set[str]], v: Any, where: str, merge: list[str] | None) -> list[str]:
    """Problems of one object; with ``merge`` (an object outside any list), missing required members are listed
    there instead, as the sections the aspect's owner merges."""
    members, required = spec
    if not isinstance(v, dict):
        return [f"{where or '/'}: not an object"]
    missing = [f"{where}/{m}" for m in members if m in required and m not in v]
    if merge is None:
        out = [f"{m}: required" for m in missing]
    else:
        merge += missing
        out = []
    out += [f"{where}/{m}: not a member" for m in v if m not in members]
    for m, kind in members.items():
        if m in v:
            out += _member(kind, v[m], f"{where}/{m}", merge)
    return out


def _member(kind: str, v: Any, where: str, merge: list[str] | None) -> list[str]:
    if kind in {"doclist", "footprints", "facilities"}:
        if not isinstance(v, list):
            return [f"{where}: not a list"]
        out: list[str] = []
        for i, item in enumerate(v):
            if kind == "doclist":
                out += _object(CX_DOCUMENT, item, f"{where}/{i}", None)
            elif kind == "footprints":
                out += _object(CX_FOOTPRINT, item, f"{where}/{i}", None)
            elif not (isinstance(item, dict) and set(item) == {"facility"} and BPNA.match(str(item["facility"]))):
                out.append(f"{where}/{i}: not a facility with a BPNA")
        return out
    if kind == "object":  # sustainability.documents: its members are not ours to check here
        return [] if isinstance(v, dict) else [f"{where}: not an object"]
    return [p for p in [_scalar_problem(kind, v, where)] if p]


def catenax_fragment_problems(doc: Any) -> tuple[list[str], list[str]]:
    """(problems, sections left to merge) of a Catena-X 6.1.0 fragment, by the rule of decision 0010."""
    if not isinstance(doc, dict) or not doc:
        return ["/: not a non-empty object"], []
    merge: list[str] = [f"/{m}" for m in sorted(CX_REQUIRED - set(doc))]
    out = [f"/{m}: not a member" for m in doc if m not in CX_MEMBERS]
    if "specVersion" in doc and not isinstance(doc["specVersion"], str):
        out.append("/specVersion: not a string")
    if "sustainability" in doc:
        out += _object(CX_SUSTAINABILITY, doc["sustainability"], "/sustainability", merge)
    if "conformity" in doc:
        out += _object(CX_CONFORMITY, doc["conformity"], "/conformity", merge)
    carried = set(doc) - {"specVersion", "sustainability", "conformity"}
    out += [f"/{m}: carried, but not checked by this test" for m in sorted(carried & CX_MEMBERS)]
    return out, merge


# The whole 6.1.0 passport, for the merged export: every member by name ("?" = optional), as a nested dict; a
# list of one spec is a list of such items; a set is an enumeration; strings name a kind of scalar.
D_ = {"content": "string", "contentType": "string", "header": "header"}
DOCS = [D_]
REC = {"value": "number", "time": "timestamp"}
UNITS = {"unit:partPerMillion", "unit:percent", "unit:percentVolume", "unit:partPerThousand", "unit:partPerTrillionUs",
         "unit:partPerBillionUs"}  # fmt: skip
LINEAR = {"value": "number", "unit": {"unit:millimetre", "unit:centimetre", "unit:metre", "unit:kilometre",
                                      "unit:inch", "unit:foot", "unit:yard"}}  # fmt: skip
MAT_ID = [{"id": "string", "type": {"CAS", "EC", "IUPAC"}, "name": "string"}]
ACTIVE = {"location": "string", "recycled": "percent", "documentation": DOCS, "critical": "bool"}
HAZ = {"impactOfSubstances": DOCS, "concentration": "non-negative", "location": "string", "materialUnit": UNITS,
       "critical": "bool", "documentation": DOCS}  # fmt: skip
LEAD = {**HAZ, "recycled": "percent"}
SOURCE_CATEGORIES = {
    "Product Specifications", "Manufacturer Information", "User Manuals and Guides", "Certifications and Compliance",
    "Product Images and Videos", "Warranty Information", "Reviews and Ratings", "Product Variations",
    "Supply Chain Information", "Environmental Impact", "Compatibility and Accessories", "FAQs and Support",
    "Purchase and Retail Information", "Privacy and Data Handling", "Third-Party Integrations", "Legal Information",
    "Safety Information", "Repair and Installation", "Waste Generation and Prevention", "Specific Voluntary Labels",
    "Product Packaging", "Return and Disposal", "End of Life", "Material and Substance Information",
    "Technical Documentation", "Treatment facilities", "Other",
}  # fmt: skip
PART = {"manufacturerPartId": "string", "nameAtManufacturer": "string"}
FACILITIES = [{"facility": "bpna"}]
CX_WHOLE: dict[str, Any] = {
    "specVersion?": "string",
    "identification": {
        "category": {"SLI", "LMT", "EV", "industrial", "portable", "incorporated"}, "idDmc": "string",
        "chemistry": "string",
        "identification": {
            "serial?": [{"key": "serial-key", "value": "string"}], "batch?": [{"key": "batch-key", "value": "string"}],
            "type": PART, "codes": [{"key": "string", "value": "string"}],
            "dataCarrier": {"carrierType": "string", "carrierLayout": "string"},
            "classification": [{"classificationStandard": "string", "classificationID": "string",
                                "classificationDescription?": "string"}],
        },
    },
    "operation": {"intoServiceDate?": "date",
                  "manufacturer": {"facility": FACILITIES, "manufacturer": "bpnl", "manufacturingDate?": "date"}},
    "characteristics": {
        "warranty": {"lifeValue": "number",
                     "lifeUnit": {"unit:day", "unit:month", "unit:year", "unit:cycle", "unit:runningOrOperatingHour"}},
        "physicalDimension": {"height?": LINEAR, "length?": LINEAR, "width?": LINEAR, "weight": {"value": "number",
            "unit": {"unit:gram", "unit:kilogram", "unit:tonneMetricTon", "unit:tonUsOrShortTonUkorus",
                     "unit:ounceAvoirdupois", "unit:pound"}}},
    },
    "sustainability": {
        "documents": {"separateCollection": DOCS, "wastePrevention": DOCS, "euTaxonomyDisclosureStatement?": DOCS,
                      "sustainabilityReport?": DOCS},
        "carbonFootprint": [{"value": "non-negative", "rulebook": DOCS, "lifecycle": "string", "unit": "string",
                             "type": CX_IMPACT_CATEGORIES, "performanceClass?": "string",
                             "manufacturingPlant": FACILITIES, "declaration": DOCS}],
        "status": CX_STATUS,
    },
    "materials": {
        "active": {"nickel": ACTIVE, "lithium": ACTIVE, "cobalt": ACTIVE, "lead": LEAD,
                   "other?": [{**ACTIVE, "materialIdentification": MAT_ID}]},
        "hazardous": {"cadmium": HAZ, "mercury": HAZ, "lead": LEAD, "other?": [{**HAZ, "materialIdentification": MAT_ID}]},
        "composition": [{"id": MAT_ID, "concentration": "non-negative", "unit": UNITS, "critical": "bool",
                         "documentation": DOCS, "recycled": "percent", "location": "string", "renewable": "percent"}],
    },
    "performance": {
        "rated": {
            "voltage": {"min": "number", "max": "number", "nominal": "number", "temperature?": "number"},
            "roundTripEfficiency": {"depthOfDischarge": "number", "initial": "number", "50PercentLife": "number",
                                    "temperature?": "number"},
            "energy?": {"value": "number", "temperature?": "number"},
            "resistance": {"cell": "number", "module?": "number", "pack": "number", "temperature?": "number"},
            "power": {"value": "number", "at20SoC": "number", "at80SoC": "number", "temperature?": "number"},
            "capacity": {"value": "number", "thresholdExhaustion": "number", "temperature?": "number"},
            "performanceDocument?": DOCS, "temperature": {"lower": "number", "upper": "number"},
            "selfDischargingRate": "number", "testReport?": DOCS,
            "lifetime": {"expectedYears": "number", "report": DOCS, "cycleLifeTesting": {
                "temperature": "number", "cycles": "number", "depthOfDischarge": "number",
                "appliedChargeRate": "number", "appliedDischargeRate": "number"}},
        },
        "dynamic": {
            "stateOfCharge": REC, "fullCycles": REC, "performanceDocument?": DOCS, "selfDischargingRate": "number",
            "power": {"fade": REC, "remaining": REC}, "capacity": {"fade": REC, "throughput": REC, "capacity": REC},
            "roundTripEfficiency": {"fade": REC, "remaining": REC},
            "resistance": {"increase": {"pack": REC, "module?": REC, "cell": REC},
                           "remaining": {"pack": REC, "module?": REC, "cell": REC}},
            "energy": {"soce": REC, "remaining": REC, "throughput?": REC},
            "negativeEvents?": DOCS, "operatingEnvironment?": DOCS,
        },
    },
    "conformity": {"declarationOfConformityId?": "string", "declarationOfConformity": DOCS,
                   "resultOfTestReport": DOCS, "thirdPartyAssurance": DOCS, "dueDiligencePolicy": DOCS},
    "safety": {"usableExtinguishAgent": [{"document?": DOCS, "media": "string", "fireClass": "string"}],
               "safetyMeasures": DOCS, "meaningOfLabels": DOCS, "safeDischarging?": DOCS, "dismantling": DOCS,
               "removalFromAppliance?": DOCS},
    "sources?": [{"content": "string", "category": SOURCE_CATEGORIES, "type": "string", "header": "header"}],
    "metadata": {"version": "string", "status?": {"draft", "approved", "invalid", "expired"},
                 "expirationDate": "date", "issueDate": "date", "economicOperatorId": "bpnl",
                 "passportIdentifier": "uuid", "predecessor": "uuid", "backupReference": "string",
                 "registrationIdentifier?": "string", "lastModification?": "date"},
    "commercial": {"placedOnMarket?": "date", "purpose": ["string"]},
    "handling": {"content": {"producer": [{"id": "bpnl"}], "sparePart": [PART]}, "applicable": "bool"},
}  # fmt: skip
_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
WHOLE_SCALARS: dict[str, Any] = {
    "string": lambda v: isinstance(v, str),
    "header": lambda v: isinstance(v, str) and len(v) <= HEADER_MAX,
    "number": _number,
    "non-negative": lambda v: _number(v) and v >= 0,
    "percent": lambda v: _number(v) and 0 <= v <= 100,
    "bool": lambda v: isinstance(v, bool),
    "date": lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None,
    "timestamp": lambda v: isinstance(v, str) and re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}", v) is not None,
    "uuid": lambda v: isinstance(v, str) and re.fullmatch(f"(urn:uuid:)?{_UUID}", v) is not None,
    "bpnl": lambda v: isinstance(v, str) and re.fullmatch(r"BPNL[a-zA-Z0-9]{12}", v) is not None,
    "bpna": lambda v: isinstance(v, str) and BPNA.match(v) is not None,
    "serial-key": lambda v: (
        isinstance(v, str) and re.fullmatch(r"manufacturerId|partInstanceId|batchId|van|customKey:\w+", v) is not None
    ),
    "batch-key": lambda v: isinstance(v, str) and re.fullmatch(r"manufacturerId|batchId|customKey:\w+", v) is not None,
}


def whole_problems(spec: Any, v: Any, where: str = "") -> list[str]:
    """What the 6.1.0 model would refuse in ``v``, a whole passport (or a part of it, against ``spec``)."""
    if isinstance(spec, dict):
        if not isinstance(v, dict):
            return [f"{where or '/'}: not an object"]
        members = {k.rstrip("?"): sub for k, sub in spec.items()}
        out = [f"{where}/{k}: required" for k in spec if not k.endswith("?") and k not in v]
        out += [f"{where}/{k}: not a member" for k in v if k not in members]
        for k, sub in members.items():
            if k in v:
                out += whole_problems(sub, v[k], f"{where}/{k}")
        return out
    if isinstance(spec, list):
        if not isinstance(v, list):
            return [f"{where}: not a list"]
        return [p for i, item in enumerate(v) for p in whole_problems(spec[0], item, f"{where}/{i}")]
    if isinstance(spec, set):
        return [] if isinstance(v, str) and v in spec else [f"{where}: {v!r} is not one of the enumeration"]
    return [] if WHOLE_SCALARS[spec](v) else [f"{where}: {v!r} is not a valid {spec}"]


# --- the example chain and its variants ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chain() -> dict:
    return json.loads(DEFAULT_CHAIN.read_text(encoding="utf-8"))


def declare(chain: dict, stages: dict[Stage, D] | None = None, **changes: Any) -> Declaration:
    raw = {**chain["declaration"], **changes}
    if stages is None:
        values = chain["expected"]["footprints"][raw["packProductId"]]
        stages = {Stage(k): D(v) for k, v in values.items() if k != "total"}
    return compute_declaration(DeclarationInput.model_validate(raw), stages, at=AT)


def as_json(doc: dict) -> Any:
    return json.loads(json.dumps(doc))


def variants(chain: dict) -> dict[str, Declaration]:
    plant = chain["declaration"]["plant"]
    return {
        "example": declare(chain),
        "plant with BPNA": declare(chain, plant={**plant, "bpna": "BPNA000000000KX1"}),
        "no subdivision, no BPNA": declare(chain, plant={"name": plant["name"], "country": plant["country"]}),
        "town, links, class": declare(
            chain,
            plant={**plant, "town": "Kitakyushu"},
            methodologyUrl="https://example.org/cfb-ev",
            declarationUrl="https://nippon-motors.example/cfp/NM-EV75-NMC811.json",
            performanceClasses={"source": "test", "boundaries": [{"class": "A", "upToKgCo2ePerKwh": "0.2"}]},
        ),
        "no credit": declare(chain, {Stage.MAIN_PRODUCTION: D(3600), Stage.DISTRIBUTION: D(36)}),
    }


EXAMPLE_LEFT_TO_MERGE = [
    "/characteristics", "/commercial", "/handling", "/identification", "/materials", "/metadata", "/operation",
    "/performance", "/safety", "/sustainability/documents", "/sustainability/status",
    "/conformity/declarationOfConformity", "/conformity/resultOfTestReport", "/conformity/thirdPartyAssurance",
    "/conformity/dueDiligencePolicy",
]  # fmt: skip


class TestBatteryPass:
    def test_every_variant_is_a_valid_whole_aspect(self, chain):
        for name, decl in variants(chain).items():
            assert battery_pass_problems(as_json(to_battery_pass(decl))) == [], name

    def test_carries_the_credit_and_every_stage(self, chain):
        out = to_battery_pass(declare(chain))
        assert [e["lifecycleStage"] for e in out["carbonFootprintPerLifecycleStage"]] == [
            "RawMaterialExtraction", "MainProduction", "Distribution", "Recycling"]  # fmt: skip
        assert out["carbonFootprintPerLifecycleStage"][3]["carbonFootprint"] == -0.00625  # no minimum in 1.2.0

    def test_a_negative_total_is_still_valid(self, chain):
        decl = declare(chain, {Stage.MAIN_PRODUCTION: D(360), Stage.END_OF_LIFE: D(-720)})
        out = as_json(to_battery_pass(decl))
        assert out["batteryCarbonFootprint"] == -0.01 and battery_pass_problems(out) == []


class TestCatenaX:
    def test_every_variant_is_a_valid_fragment(self, chain):
        for name, decl in variants(chain).items():
            problems, merge = catenax_fragment_problems(as_json(to_catenax(decl)))
            assert problems == [], name
            assert sorted(merge) == sorted(EXAMPLE_LEFT_TO_MERGE) == sorted(CATENAX_LEFT_TO_MERGE), name

    def test_the_example_chain(self, chain):
        out = to_catenax(declare(chain))
        assert set(out) == {"specVersion", "sustainability", "conformity"}
        assert out["specVersion"] == "urn:io.catenax.battery.battery_pass:6.1.0"
        assert out["conformity"] == {"declarationOfConformityId": "NM-DoC-2026-0001"}
        entries = out["sustainability"]["carbonFootprint"]
        # the end-of-life credit (-0.00625) cannot be carried (value >= 0); the total still includes it
        assert [(e["lifecycle"], e["value"]) for e in entries] == [
            ("raw material acquisition and pre-processing", 0.118701),
            ("main product production", 0.049088),
            ("distribution", 0.003139),
            ("total", 0.164679),
        ]
        for e in entries:
            assert e["manufacturingPlant"] == []  # the plant has no BPNA: the only facility the model takes
            assert e["rulebook"] == [] and e["unit"] == "kg CO2 / kWh" and e["type"] == "Climate Change Total"
            assert "performanceClass" not in e

    def test_without_a_credit_every_stage_is_carried(self, chain):
        entries = to_catenax(variants(chain)["no credit"])["sustainability"]["carbonFootprint"]
        assert [e["lifecycle"] for e in entries] == [
            "raw material acquisition and pre-processing", "main product production", "distribution",
            "end of life and recycling", "total"]  # fmt: skip
        assert entries[3]["value"] == 0.0

    def test_plant_bpna_links_and_class(self, chain):
        v = variants(chain)
        assert {json.dumps(e["manufacturingPlant"]) for e in to_catenax(v["plant with BPNA"])["sustainability"]
                ["carbonFootprint"]} == {'[{"facility": "BPNA000000000KX1"}]'}  # fmt: skip
        e = to_catenax(v["town, links, class"])["sustainability"]["carbonFootprint"][0]
        assert e["rulebook"] == [{"contentType": "URL", "header": v["town, links, class"].methodology,
                                  "content": "https://example.org/cfb-ev"}]  # fmt: skip
        assert [d["header"] for d in e["declaration"]] == ["Public carbon footprint study",
                                                           "Carbon footprint declaration"]  # fmt: skip
        assert e["performanceClass"] == "A"

    def test_what_the_owner_merges_names_the_plant_only_without_bpna(self, chain):
        v = variants(chain)
        plant = "/sustainability/carbonFootprint/*/manufacturingPlant"
        assert catenax_left_to_merge(v["example"]) == [*CATENAX_LEFT_TO_MERGE, plant]
        assert catenax_left_to_merge(v["no subdivision, no BPNA"]) == [*CATENAX_LEFT_TO_MERGE, plant]
        assert catenax_left_to_merge(v["plant with BPNA"]) == list(CATENAX_LEFT_TO_MERGE)

    def test_a_negative_total_is_refused_clearly(self, chain):
        decl = declare(chain, {Stage.MAIN_PRODUCTION: D(360), Stage.END_OF_LIFE: D(-720)})
        with pytest.raises(ValidationFailed, match=r"value >= 0.*total is -0\.01"):
            to_catenax(decl)

    def test_raise_policy_refuses_the_credit(self, chain):
        with pytest.raises(ValidationFailed, match="end of life and recycling is -0.00625"):
            to_catenax(declare(chain), negative="raise")

    def test_a_header_longer_than_the_model_allows_is_refused(self, chain):
        decl = declare(chain, methodology="M" * 101, methodologyUrl="https://example.org/m")
        with pytest.raises(ValidationFailed, match="100 characters"):
            to_catenax(decl)
        assert to_catenax(declare(chain, methodology="M" * 100, methodologyUrl="https://example.org/m"))


@pytest.fixture(scope="module")
def passport() -> dict:
    path = catenax_passport_of(DEFAULT_CHAIN)
    assert path is not None and path == DEFAULT_CHAIN.with_name("nmc811-catenax-passport.json")
    return json.loads(path.read_text(encoding="utf-8"))


class TestCatenaXWhole:
    """With the automaker's passport (examples/nmc811-catenax-passport.json) the export is the whole aspect."""

    def test_the_example_passport_lacks_only_the_carbon_footprint(self, passport):
        assert whole_problems(CX_WHOLE, passport) == ["/sustainability/carbonFootprint: required"]
        check_catenax_passport(passport)  # what the declaration adds completes it

    def test_every_variant_merged_is_a_valid_whole_aspect(self, chain, passport):
        for name, decl in variants(chain).items():
            whole = as_json(to_catenax(decl, passport=passport))
            assert whole_problems(CX_WHOLE, whole) == [], name
            fragment = to_catenax(decl)
            assert whole["sustainability"]["carbonFootprint"] == fragment["sustainability"]["carbonFootprint"], name
            assert whole["conformity"]["declarationOfConformityId"] == "NM-DoC-2026-0001"
            assert whole["specVersion"] == "urn:io.catenax.battery.battery_pass:6.1.0"
            # the rest is the automaker's, unchanged
            for member in set(passport) - {"sustainability", "conformity"}:
                assert whole[member] == passport[member], (name, member)
            assert whole["sustainability"]["documents"] == passport["sustainability"]["documents"]
            assert whole["conformity"]["dueDiligencePolicy"] == passport["conformity"]["dueDiligencePolicy"]
        assert "carbonFootprint" not in passport["sustainability"]  # the caller's passport is not changed

    @pytest.mark.parametrize(
        "pointer",
        ["/metadata", "/safety/dismantling", "/sustainability/status", "/conformity/thirdPartyAssurance",
         "/performance/dynamic/energy/soce", "/materials/composition/0/renewable",
         "/performance/rated/roundTripEfficiency/50PercentLife"],
    )  # fmt: skip
    def test_a_missing_required_member_is_refused_by_name(self, chain, passport, pointer):
        broken = json.loads(json.dumps(passport))
        *path, last = [int(p) if p.isdigit() else p for p in pointer.strip("/").split("/")]
        parent = broken
        for p in path:
            parent = parent[p]
        del parent[last]
        assert f"{pointer}: required" in whole_problems(CX_WHOLE, broken)  # the model refuses it...
        for refuse in (lambda: to_catenax(declare(chain), passport=broken), lambda: check_catenax_passport(broken)):
            with pytest.raises(ValidationFailed, match=re.escape(pointer)) as caught:  # ...and so do we
                refuse()
            assert {"field": pointer, "message": "required member missing"} in caught.value.errors
            assert "lacks 1 required member(s)" in caught.value.detail

    @pytest.mark.parametrize(
        ("change", "pointer"),
        [
            (lambda p: p["sustainability"].update(status="new"), "/sustainability/status"),
            (lambda p: p["metadata"].update(economicOperatorId="BPNA000000000NM1"), "/metadata/economicOperatorId"),
            (lambda p: p["metadata"].update(issueDate="01.05.2026"), "/metadata/issueDate"),
            (lambda p: p["metadata"].update(passportIdentifier="NM75-1"), "/metadata/passportIdentifier"),
            (lambda p: p["materials"]["active"]["cobalt"].update(recycled=101), "/materials/active/cobalt/recycled"),
            (lambda p: p["characteristics"]["warranty"].update(lifeValue="8"), "/characteristics/warranty/lifeValue"),
            (lambda p: p["characteristics"]["warranty"].update(lifeUnit="year"), "/characteristics/warranty/lifeUnit"),
            (lambda p: p["identification"].update(category="BEV"), "/identification/category"),
            (lambda p: p["identification"]["identification"]["serial"][0].update(key="vin"),
             "/identification/identification/serial/0/key"),
            (lambda p: p["performance"]["dynamic"]["stateOfCharge"].update(time="2026-05-01"),
             "/performance/dynamic/stateOfCharge/time"),
            (lambda p: p["safety"]["dismantling"][0].update(header="h" * 101), "/safety/dismantling/0/header"),
            (lambda p: p["handling"].update(applicable="yes"), "/handling/applicable"),
            (lambda p: p["commercial"].update(market="EU"), "/commercial/market"),
            (lambda p: p.update(carbonFootprint=[]), "/carbonFootprint"),
        ],
    )  # fmt: skip
    def test_a_value_the_model_refuses_is_refused(self, chain, passport, change, pointer):
        broken = json.loads(json.dumps(passport))
        change(broken)
        assert [p for p in whole_problems(CX_WHOLE, broken) if p.startswith(pointer + ":")]  # the model refuses it
        with pytest.raises(ValidationFailed) as caught:
            to_catenax(declare(chain), passport=broken)
        assert [e["field"] for e in caught.value.errors] == [pointer]

    def test_the_declarations_members_replace_the_passports(self, chain, passport):
        stale = json.loads(json.dumps(passport))
        stale["specVersion"] = "urn:io.catenax.battery.battery_pass:6.0.0"
        stale["conformity"]["declarationOfConformityId"] = "NM-DoC-2025-0007"
        stale["sustainability"]["carbonFootprint"] = [{**to_catenax(declare(chain))["sustainability"]
                                                       ["carbonFootprint"][0], "value": 9.9}]  # fmt: skip
        assert to_catenax(declare(chain), passport=stale) == to_catenax(declare(chain), passport=passport)

    def test_a_passport_that_is_not_an_object_is_refused(self, chain):
        with pytest.raises(ValidationFailed, match="must be a JSON object"):
            to_catenax(declare(chain), passport=[])  # type: ignore[arg-type]

    def test_the_declarations_own_refusals_still_apply(self, chain, passport):
        decl = declare(chain, {Stage.MAIN_PRODUCTION: D(360), Stage.END_OF_LIFE: D(-720)})
        with pytest.raises(ValidationFailed, match="total is -0.01"):
            to_catenax(decl, passport=passport)

    def test_the_passport_is_found_beside_its_chain(self, tmp_path):
        (tmp_path / "x-chain.json").write_text("{}")
        (tmp_path / "y.json").write_text("{}")
        assert catenax_passport_of(tmp_path / "x-chain.json") is None
        (tmp_path / "x-catenax-passport.json").write_text("{}")
        (tmp_path / "y-catenax-passport.json").write_text("{}")
        assert catenax_passport_of(tmp_path / "x-chain.json") == tmp_path / "x-catenax-passport.json"
        assert catenax_passport_of(tmp_path / "y.json") == tmp_path / "y-catenax-passport.json"
        assert (ROOT / "examples" / "nmc811-catenax-passport.json").resolve() == catenax_passport_of(DEFAULT_CHAIN)


class TestTheCheckersCanFail:
    """The constraint checkers above are not vacuous: each refuses what the official model refuses."""

    @pytest.fixture
    def fragment(self, chain) -> dict:
        return as_json(to_catenax(variants(chain)["town, links, class"]))

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (lambda e: e.update(value=-0.1), "/value: -0.1 is not a valid non-negative"),
            (lambda e: e.pop("rulebook"), "/rulebook: required"),
            (lambda e: e.update(type="Climate Change"), "/type: 'Climate Change' is not a valid impact"),
            (lambda e: e.update(manufacturingPlant=[{"facility": "BPNL000000000KX1"}]), "not a facility with a BPNA"),
            (lambda e: e["rulebook"][0].update(header="h" * 101), "/rulebook/0/header"),
            (lambda e: e.update(plant="x"), "/plant: not a member"),
            (lambda e: e.update(value="0.1"), "/value: '0.1' is not a valid non-negative"),
        ],
    )
    def test_catenax_entry(self, fragment, change, expected):
        change(fragment["sustainability"]["carbonFootprint"][0])
        problems, _ = catenax_fragment_problems(fragment)
        assert any(expected in p for p in problems), problems

    def test_catenax_fragment_level(self, fragment):
        assert catenax_fragment_problems({**fragment, "carbonFootprint": []})[0] == ["/carbonFootprint: not a member"]
        assert catenax_fragment_problems({})[0]
        fragment["sustainability"]["status"] = "new"
        assert catenax_fragment_problems(fragment)[0] == ["/sustainability/status: 'new' is not a valid status"]

    @pytest.mark.parametrize(
        ("change", "expected"),
        [
            (lambda d: d.pop("carbonFootprintStudy"), "/carbonFootprintStudy: required"),
            (lambda d: d.update(carbonFootprintStudy="not a uri"), "/carbonFootprintStudy"),
            (lambda d: d["carbonFootprintPerLifecycleStage"][0].update(lifecycleStage="EndOfLife"), "lifecycleStage"),
            (lambda d: d.update(batteryCarbonFootprint="0.16"), "/batteryCarbonFootprint"),
            (lambda d: d.update(unit="kg"), "/unit: not a member"),
        ],
    )
    def test_battery_pass(self, chain, change, expected):
        doc = as_json(to_battery_pass(declare(chain)))
        change(doc)
        assert any(expected in p for p in battery_pass_problems(doc))


# --- scripts/validate-passports.py on schemas of our own making ---------------------------------------------


def _script() -> ModuleType:
    if (module := sys.modules.get("validate_passports")) is None:
        spec = importlib.util.spec_from_file_location("validate_passports", ROOT / "scripts" / "validate-passports.py")
        assert spec and spec.loader
        module = sys.modules["validate_passports"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


# A made-up aspect shaped like the SAMM-generated schemas (draft-04, components, local $ref).
TOY = {
    "$schema": "http://json-schema.org/draft-04/schema",
    "type": "object",
    "components": {"schemas": {
        "Entry": {"type": "object", "properties": {"v": {"type": "number", "minimum": 0}, "u": {"type": "string"}},
                  "required": ["v", "u"]},
        "Part": {"type": "object", "properties": {"entries": {"type": "array", "items": {"$ref": "#/components/schemas/Entry"}},
                                                  "docs": {"type": "string"}}, "required": ["entries", "docs"]},
    }},
    "properties": {"part": {"$ref": "#/components/schemas/Part"}, "other": {"type": "string"},
                   "link": {"type": "string", "format": "uri"}},
    "required": ["part", "other"],
}  # fmt: skip


class TestValidateScript:
    def test_fragment_lists_the_sections_to_merge(self):
        result = _script().validate(TOY, {"part": {"entries": [{"v": 1, "u": "kg"}]}}, fragment=True)
        assert result.errors == [] and result.to_merge == ["/other", "/part/docs"]

    def test_whole_counts_them(self):
        result = _script().validate(TOY, {"part": {"entries": [{"v": 1, "u": "kg"}]}}, fragment=False)
        assert len(result.errors) == 2 and result.to_merge == []

    @pytest.mark.parametrize(
        ("doc", "expected"),
        [
            ({"part": {"entries": [{"v": 1}]}}, "/part/entries/0: 'u' is a required property"),
            ({"part": {"entries": [{"v": -1, "u": "kg"}]}}, "/part/entries/0/v: -1 is less than the minimum of 0"),
            ({"part": {"entries": [{"v": 1, "u": "kg", "w": 2}]}}, "/part/entries/0/w: not a member of the model"),
            ({"link": "no scheme"}, "/link: 'no scheme' is not a 'uri'"),
            ({}, "/: an empty fragment carries nothing"),
        ],
    )
    def test_fragment_refuses_anything_else(self, doc, expected):
        assert expected in _script().validate(TOY, doc, fragment=True).errors

    def test_reads_utf16_schemas_and_exits_non_zero_on_errors(self, tmp_path, capsys):
        script = _script()
        schema, good, bad = tmp_path / "s.json", tmp_path / "good.json", tmp_path / "bad.json"
        schema.write_bytes(codecs.BOM_UTF16_LE + json.dumps(TOY).encode("utf-16-le"))
        good.write_text(json.dumps({"part": {"entries": [], "docs": "d"}, "other": "o"}))
        bad.write_text(json.dumps({"part": {"entries": [{"v": -1, "u": "kg"}]}}))
        assert script.main(["--whole", str(schema), str(good)]) == 0
        assert script.main(["--fragment", str(schema), str(bad)]) == 1
        assert "INVALID" in capsys.readouterr().out
        assert script.main(["--whole", str(schema), str(tmp_path / "missing.json")]) == 2
