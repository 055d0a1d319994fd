"""Every footprint we serve over PACT v3 meets the official ProductFootprint schema, on varied data.

The constraints below are the ones the official OpenAPI (wbcsd/data-exchange-protocol ``spec/v3/openapi.yaml``, and
the conformance suite's ``src/schemas/openapi_v3_0.yaml``) puts on a ProductFootprint, written out here in our own
JSON Schema: required members, enumerations, the decimal-string patterns, set semantics (``minItems``/``uniqueItems``)
and the ``oneOf`` that allows at most one geography field. The official file itself is never read by the tests;
``scripts/validate-pact.py`` validates a running node against it (docs/pact-conformance.md).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import pytest_asyncio
from jsonschema import Draft202012Validator

from connector.certification import to_pact_verification
from connector.config import Settings
from tests.pki import signing_settings

from .conftest import COMPANY, Api, assert_problem
from .factories import issued_footprint, pact_bearer

pytestmark = pytest.mark.asyncio

CUSTOMER = "urn:pact:schema-customer.example:company:schema-customer"
_seq = itertools.count(1)

# -- the official constraints, in our words ----------------------------------------------------------------------------
DECIMAL = {"type": "string", "pattern": r"^[+-]?\d+(\.\d+)?$"}
POSITIVE_OR_ZERO = {"type": "string", "pattern": r"^[+]?\d+(\.\d+)?$"}
POSITIVE_NON_ZERO = {"type": "string", "pattern": r"^[+]?(\d*[1-9]\d*)(\.\d+)?|(0+\.\d*[1-9]\d*)$"}
DATE_TIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
}  # RFC 3339
UUID = {"type": "string", "pattern": r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"}
URN = {"type": "string", "pattern": r"^([uU][rR][nN]):"}
URI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$"}
NON_EMPTY = {"type": "string", "minLength": 1}


def _set(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 1, "uniqueItems": True}


UNITS = [
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
    "piece",
    "hour",
    "megabit second",
]
GEOGRAPHY = ["geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision"]
VERIFICATION = {
    "type": "object",
    "properties": {
        "coverage": {"enum": ["PCF calculation model", "PCF program", "product level"]},
        "providerName": {"type": "string"},
        "completedAt": DATE_TIME,
        "standardName": {"type": "string"},
        "comments": {"type": "string"},
    },
}
CARBON_FOOTPRINT = {
    "type": "object",
    "required": [
        "declaredUnitOfMeasurement",
        "declaredUnitAmount",
        "productMassPerDeclaredUnit",
        "referencePeriodStart",
        "referencePeriodEnd",
        "pcfExcludingBiogenicUptake",
        "pcfIncludingBiogenicUptake",
        "fossilGhgEmissions",
        "fossilCarbonContent",
        "ipccCharacterizationFactors",
        "crossSectoralStandards",
        "exemptedEmissionsPercent",
    ],
    # exactly one geography field, or none (global granularity)
    "oneOf": [
        {"oneOf": [{"required": [g]} for g in GEOGRAPHY]},
        {"not": {"anyOf": [{"required": [g]} for g in GEOGRAPHY]}},
    ],
    "properties": {
        "declaredUnitOfMeasurement": {"enum": UNITS},
        "declaredUnitAmount": POSITIVE_NON_ZERO,
        "productMassPerDeclaredUnit": DECIMAL,
        "referencePeriodStart": DATE_TIME,
        "referencePeriodEnd": DATE_TIME,
        "geographyCountry": {"type": "string", "pattern": r"^[A-Z]{2}$"},
        "geographyCountrySubdivision": {"type": "string", "pattern": r"^[A-Z]{2}-[A-Z0-9]{1,3}$"},
        "boundaryProcessesDescription": {"type": "string"},
        "pcfExcludingBiogenicUptake": DECIMAL,
        "pcfIncludingBiogenicUptake": DECIMAL,
        "fossilCarbonContent": POSITIVE_OR_ZERO,
        "fossilGhgEmissions": POSITIVE_OR_ZERO,
        "packagingEmissionsIncluded": {"type": "boolean"},
        "ccsTechnologicalCO2CaptureIncluded": {"type": "boolean"},
        "ipccCharacterizationFactors": _set({"type": "string", "pattern": r"^AR\d+$"}),
        "crossSectoralStandards": _set({"type": "string"}),
        "productOrSectorSpecificRules": _set(
            {
                "type": "object",
                "required": ["operator", "ruleNames"],
                "properties": {
                    "operator": {"enum": ["PEF", "EPD International", "Other"]},
                    "ruleNames": _set(NON_EMPTY),
                    "otherOperatorName": NON_EMPTY,
                },
            }
        ),
        "exemptedEmissionsPercent": DECIMAL,
        "primaryDataShare": DECIMAL,
        "dqi": {
            "type": "object",
            "required": ["technologicalDQR", "geographicalDQR", "temporalDQR"],
            "properties": {k: DECIMAL for k in ("technologicalDQR", "geographicalDQR", "temporalDQR")},
        },
        "verification": VERIFICATION,
    },
    # packagingEmissionsIncluded false: packagingGhgEmissions MUST be undefined
    "if": {"properties": {"packagingEmissionsIncluded": {"const": False}}},
    "then": {"not": {"required": ["packagingGhgEmissions"]}},
}
PRODUCT_FOOTPRINT = {
    "type": "object",
    "required": [
        "id",
        "specVersion",
        "created",
        "status",
        "companyName",
        "companyIds",
        "productDescription",
        "productIds",
        "productNameCompany",
        "pcf",
    ],
    "properties": {
        "id": UUID,
        "specVersion": {"type": "string", "pattern": r"^\d+\.\d+\.\d+(-\d{8})?$"},
        "precedingPfIds": _set(UUID),
        "created": DATE_TIME,
        "status": {"enum": ["Active", "Deprecated"]},
        "validityPeriodStart": DATE_TIME,
        "validityPeriodEnd": DATE_TIME,
        "companyName": NON_EMPTY,
        "companyIds": _set(URN),
        "productDescription": {"type": "string"},
        "productIds": _set(URN),
        "productClassifications": _set(URN),
        "productNameCompany": NON_EMPTY,
        "comment": {"type": "string"},
        "pcf": CARBON_FOOTPRINT,
        "extensions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["specVersion", "dataSchema", "data"],
                "properties": {
                    "specVersion": {"type": "string"},
                    "dataSchema": URI,
                    "documentation": URI,
                    "data": {"type": "object"},
                },
            },
        },
    },
}
VALIDATOR = Draft202012Validator(PRODUCT_FOOTPRINT)


def _errors(pf: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in VALIDATOR.iter_errors(pf)]


# -- a node with varied data ------------------------------------------------------------------------------------------
@pytest.fixture
def settings(tmp_path) -> Settings:
    """A node that signs: its footprints carry our extension (attestation) as they do in production."""
    return signing_settings(tmp_path, COMPANY, "Schema Node", "Schema")


async def _shared(api: Api, urn: str, value: str = "2.5", **product: Any) -> tuple[str, str]:
    pid, fid = await issued_footprint(api, urn, value, **product)
    r = await api.post("/api/v1/grants", {"productId": pid, "companyId": CUSTOMER})
    assert r.status_code in (201, 409), r.text
    return pid, fid


def _urn(name: str) -> str:
    return f"urn:pact:test-node.example:product:{name}-{next(_seq)}"


@pytest_asyncio.fixture
async def varied(api: Api) -> dict[str, Any]:
    """A subdivision, a country alone, no plant; with and without classifications (one listed twice); several
    productIds; a Deprecated version beside its Active one; DQR and primary share; a piece product."""
    cls = "urn:pact:test-node.example:classification:cathode"
    sub = await _shared(
        api,
        _urn("sub"),
        plant={"name": "Kyushu", "country": "JP", "subdivision": "JP-40"},
        classifications=[cls, cls],
        primaryDataShare="62.5",
        dqr={"technological": "1.5", "geographical": "2", "temporal": "3"},
    )
    country = await _shared(api, _urn("country"), plant={"name": "Nagoya", "country": "JP"})
    nowhere = await _shared(
        api, _urn("nowhere"), value="0.75", plant=None, declaredUnit="piece", massPerDeclaredUnit="0.42"
    )
    many = await _shared(
        api,
        _urn("many"),
        productIds=[_urn("many"), _urn("gtin"), _urn("sku")],
        plant={"name": "Antofagasta", "country": "CL", "subdivision": "CL-AN"},
    )
    # a second version: the first one becomes Deprecated
    r = await api.post(f"/api/v1/products/{country[0]}/emissions", {"stage": "main_production", "value": "1.25"})
    assert r.status_code == 201, r.text
    r = await api.post(f"/api/v1/products/{country[0]}/footprints")
    assert r.status_code == 201, r.text
    return {
        "headers": await pact_bearer(api, CUSTOMER),
        "sub": sub,
        "country": country,
        "nowhere": nowhere,
        "many": many,
        "classification": cls,
    }


async def _list(api: Api, headers: dict[str, str], params: Any = None) -> list[dict[str, Any]]:
    r = await api.client.get("/3/footprints", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def test_every_served_footprint_meets_the_official_constraints(api: Api, varied) -> None:
    data = await _list(api, varied["headers"])
    assert len(data) == 5 and {pf["status"] for pf in data} == {"Active", "Deprecated"}
    for pf in data:
        assert _errors(pf) == [], pf["productNameCompany"]
        one = (await api.client.get(f"/3/footprints/{pf['id']}", headers=varied["headers"])).json()["data"]
        assert _errors(one) == []
        assert pf.get("extensions"), "a signing node's footprints carry our extension"
    by_id = {pf["id"]: pf for pf in data}
    sub = by_id[varied["sub"][1]]
    assert {k: v for k, v in sub["pcf"].items() if k.startswith("geography")} == {
        "geographyCountrySubdivision": "JP-40"
    }  # the most specific, alone
    assert sub["productClassifications"] == [varied["classification"]]  # a set: listed once
    assert {k for k in by_id[varied["nowhere"][1]]["pcf"] if k.startswith("geography")} == set()
    assert "productClassifications" not in by_id[varied["nowhere"][1]]  # absent rather than empty
    assert len(by_id[varied["many"][1]]["productIds"]) == 3
    # the mass of one declared unit: the operator's figure, else 1 for a kilogram (was sent as 0)
    assert by_id[varied["nowhere"][1]]["pcf"]["productMassPerDeclaredUnit"] == "0.42"
    assert by_id[varied["sub"][1]]["pcf"]["productMassPerDeclaredUnit"] == "1"


async def test_the_constraints_here_refuse_what_the_official_schema_refuses(api: Api, varied) -> None:
    """The test-local schema can fail: the shapes we used to send, and others the official file refuses."""
    pf = next(pf for pf in await _list(api, varied["headers"]) if pf["id"] == varied["sub"][1])
    assert _errors(pf) == []
    broken = [
        {**pf, "pcf": {**pf["pcf"], "geographyCountry": "JP", "geographyCountrySubdivision": "JP-40"}},  # two fields
        {**pf, "productClassifications": []},
        {**pf, "precedingPfIds": []},
        {**pf, "pcf": {**pf["pcf"], "declaredUnitOfMeasurement": "gram"}},
        {**pf, "pcf": {**pf["pcf"], "fossilGhgEmissions": "-1"}},
        {**pf, "pcf": {**pf["pcf"], "declaredUnitAmount": "0"}},
        {**pf, "pcf": {k: v for k, v in pf["pcf"].items() if k != "exemptedEmissionsPercent"}},
        {**pf, "created": "2026-01-01"},
        {**pf, "pcf": {**pf["pcf"], "pcfExcludingBiogenicUptake": "1E+1"}},
    ]
    for bad in broken:
        assert _errors(bad), bad


async def test_geography_filter_matches_the_field_each_footprint_carries(api: Api, varied) -> None:  # suite case 22
    h = varied["headers"]
    for value in ("JP-40", "JP", "CL-AN", "jp-40"):
        data = await _list(api, h, {"geography": value})
        assert data, value
        for pf in data:
            carried = [pf["pcf"][g] for g in GEOGRAPHY if g in pf["pcf"]]
            assert [c.lower() for c in carried] == [value.lower()], (value, carried)
    assert [pf["id"] for pf in await _list(api, h, {"geography": "JP-40"})] == [varied["sub"][1]]
    # a country does not also select the footprints that carry one of its subdivisions
    assert varied["sub"][1] not in [pf["id"] for pf in await _list(api, h, {"geography": "JP"})]
    assert await _list(api, h, {"geography": "CL"}) == []


@pytest.mark.parametrize(
    "name",
    [
        "productId",
        "companyId",
        "geography",
        "classification",
        "status",
        "validOn",
        "validAfter",
        "validBefore",
        "limit",
        "offset",
    ],
)
async def test_an_empty_parameter_is_as_if_absent(api: Api, varied, name: str) -> None:  # suite case 23
    everything = await _list(api, varied["headers"])
    assert await _list(api, varied["headers"], [(name, "")]) == everything
    if name not in ("limit", "offset", "validOn", "validAfter", "validBefore"):  # a repeated one: the others apply
        first = everything[0]
        value = {
            "productId": first["productIds"][0],
            "companyId": first["companyIds"][0],
            "status": first["status"],
            "classification": varied["classification"],
            "geography": "JP-40",
        }[name]
        some = await _list(api, varied["headers"], [(name, ""), (name, value)])
        assert some and some == await _list(api, varied["headers"], [(name, value)])


async def test_validity_filters_read_the_dates_the_footprints_state(api: Api, varied) -> None:  # cases 24-26
    h = varied["headers"]
    for pf in await _list(api, h):
        on = await _list(api, h, {"validOn": pf["validityPeriodStart"]})
        assert pf["id"] in [x["id"] for x in on]
        assert all(x["validityPeriodStart"] <= pf["validityPeriodStart"] <= x["validityPeriodEnd"] for x in on)
        after = await _list(api, h, {"validAfter": pf["validityPeriodStart"]})
        assert pf["id"] not in [x["id"] for x in after]
        assert all(x["validityPeriodStart"] > pf["validityPeriodStart"] for x in after)


async def test_a_product_declared_in_a_unit_pact_cannot_carry_is_refused(api: Api) -> None:
    for unit in ("gram", "ton", "Wh", "megawatt hour"):
        r = await api.post("/api/v1/products", {"productIds": [_urn("g")], "name": "G", "declaredUnit": unit})
        assert_problem(r, 422, "declaredUnit")
    r = await api.post("/api/v1/products", {"productIds": [_urn("kwh")], "name": "E", "declaredUnit": "kWh"})
    assert r.status_code == 201 and r.json()["declaredUnit"] == "kilowatt hour"


async def test_the_verification_record_meets_the_official_constraints() -> None:
    record = to_pact_verification(
        {
            "verifierName": "NB 0042",
            "iat": 1772366400,
            "standard": "EU-2023/1542-Art7",
            "scope": "full evidence tree",
            "sub": "A" * 43,
            "iss": "urn:pact:nb.example:x:nb",
        }
    )
    assert list(Draft202012Validator(VERIFICATION).iter_errors(record)) == []


async def test_a_changed_plant_or_classification_is_served_at_once(api: Api, varied) -> None:
    """A product's plant and classifications can change after its footprint was rendered (and the rendering
    remembered): the footprint goes out with the new values, and the filters agree with what it carries."""
    h, (pid, fid) = varied["headers"], varied["sub"]
    for _ in range(2):  # rendered, then served from the remembered rendering
        assert (await api.client.get(f"/3/footprints/{fid}", headers=h)).json()["data"]["pcf"][
            "geographyCountrySubdivision"
        ] == "JP-40"
    r = await api.patch(
        f"/api/v1/products/{pid}",
        {"plant": {"name": "Kyushu", "country": "JP", "subdivision": "JP-41"}, "classifications": []},
    )
    assert r.status_code == 200, r.text
    pf = (await api.client.get(f"/3/footprints/{fid}", headers=h)).json()["data"]
    assert pf["pcf"]["geographyCountrySubdivision"] == "JP-41" and "productClassifications" not in pf
    listed = await _list(api, h, {"geography": "JP-41"})
    assert [x["id"] for x in listed] == [fid] and listed[0]["pcf"]["geographyCountrySubdivision"] == "JP-41"
    assert await _list(api, h, {"geography": "JP-40"}) == []
