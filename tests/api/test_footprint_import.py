"""Importing a supplier's footprint file (PACT v3 from any producer, Catena-X PCF 7.x and 9.0.0) as an entered value
for the BOM line it is for, and the "missing supplier data" view (issue 17)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from connector.protocols.pact.rendering import render_footprint

from .conftest import assert_problem
from .factories import create_product, supplier_line

SUPPLIER = "urn:pact:andes.example:company:andes"
LIOH = "urn:pact:andes.example:product:lioh"
OTHER = "urn:pact:kansai.example:company:kansai"
PCAM = "urn:pact:kansai.example:product:pcam"
IMPORT = "/api/v1/upstream-footprints/import"
pytestmark = pytest.mark.asyncio

UUID_1 = "3b6f0a52-7c1e-4d93-9a28-5e4f1b7c2d60"
UUID_2 = "8c2d4e61-0a7b-4f35-b1c9-2e6d8f0a3b74"


def official_shape(pf_id: str = UUID_1, product: str = LIOH, company: str = SUPPLIER, **pcf: Any) -> dict[str, Any]:
    """A PACT v3 ProductFootprint shaped as the PACT specification's own examples (another producer's file): a
    cradle-to-gate total, no extension of ours."""
    body = {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2025-12-31T00:00:00Z",
        "geographyCountrySubdivision": "US-TX",
        "pcfExcludingBiogenicUptake": "0.384",
        "pcfIncludingBiogenicUptake": "-1.23",
        "fossilGhgEmissions": "0.35",
        "biogenicCO2Uptake": "-1.61",
        "packagingEmissionsIncluded": True,
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["GHGP-Product", "PACT-3.0"],
        "exemptedEmissionsPercent": "0",
        "primaryDataShare": "12.9",
        "dqi": {"technologicalDQR": "1.5", "geographicalDQR": "3.2", "temporalDQR": "2.4"},
    }
    body.update(pcf)
    return {
        "id": pf_id,
        "specVersion": "3.0.0",
        "created": "2025-04-30T00:00:00Z",
        "status": "Active",
        "validityPeriodStart": "2025-01-01T00:00:00Z",
        "validityPeriodEnd": "2027-12-31T00:00:00Z",
        "companyName": "Andes",
        "companyIds": [company],
        "productDescription": "Lithium hydroxide",
        "productIds": [product],
        "productClassifications": ["urn:pact:productclassification:cas:1310-66-3"],
        "productNameCompany": "LiOH",
        "comment": "",
        "pcf": {k: v for k, v in body.items() if v is not None},
    }


def catenax_9(pf_id: str = UUID_2, unit: str = "ton", amount: Any = 1, included: bool = True) -> dict[str, Any]:
    """A Catena-X PCF of the io.catenax.pcf 9.0.0 example payload's shape (each aspect a list of one object)."""
    return {
        "general": [{"comment": "typed by the supplier"}],
        "productLifeCycleStagesAndEmissions": [
            {
                "productionStage": [{"pcfExcludingBiogenicUptake": 2900.5, "pcfIncludingBiogenicUptake": 1900}],
                "distributionStage": [
                    {"distributionStagePcfExcludingBiogenicUptake": 150, "distributionStageIncluded": included}
                ],
            }
        ],
        "pcfAssessmentAndMethodology": [
            {
                "dataSourcesAndQuality": [
                    {"primaryDataShare": 56.12, "technologicalDQR": 2, "geographicalDQR": 2, "temporalDQR": 2}
                ],
                "pcfAssessmentInformation": [{"idAndVersion": [{"id": pf_id, "version": 0, "status": "Active"}]}],
            }
        ],
        "scopeOfPcfForm": [
            {"partialFullPcf": "Cradle-to-gate", "specVersion": "urn:io.catenax.pcf:datamodel:version:9.0.0"}
        ],
        "companyAndProductInformation": [
            {
                "productInformation": [
                    {"declaredUnitOfMeasurement": unit, "declaredUnitAmount": amount, "productIds": [PCAM]}
                ],
                "companyInformation": [{"companyIds": [OTHER], "companyName": "Kansai"}],
            }
        ],
    }


async def _product_with(api, *lines: dict[str, Any]) -> str:
    product = await create_product(api)
    for line in lines:
        r = await api.post(f"/api/v1/products/{product['id']}/bom", line)
        assert r.status_code == 201, r.text
    return product["id"]


async def _upstream(api) -> list[dict[str, Any]]:
    return (await api.get("/api/v1/upstream-footprints")).json()["items"]


async def test_a_file_of_the_official_pact_examples_shape_is_entered_per_line_unit(api) -> None:
    pid = await _product_with(api, supplier_line(SUPPLIER, LIOH, quantity="500", unit="gram"))
    r = await api.post(IMPORT, official_shape())
    assert r.status_code == 201, r.text
    (done,) = r.json()
    assert done["sourceKind"] == "pact-file" and done["enteredBy"] == "api-key:test editor"
    assert done["declaredUnit"] == "gram"
    # 0.384 kg CO2e per kilogram, booked to raw material acquisition (decision 0019), per gram
    assert Decimal(done["stages"]["raw_material_acquisition"]) == Decimal("0.000384")
    assert {k for k, v in done["stages"].items() if Decimal(v) != 0} == {"raw_material_acquisition"}
    (held,) = await _upstream(api)
    assert held["verified"] is False and held["primaryDataShare"] == "12.9"
    assert held["dqr"] == {"technological": "1.5", "geographical": "3.2", "temporal": "2.4"}
    # the product computes on it: 500 g x 0.000384
    r = await api.post(f"/api/v1/products/{pid}/footprints")
    assert r.status_code == 201, r.text
    assert Decimal(r.json()["footprint"]["total"]) == Decimal("0.192")
    view = (await api.get(f"/api/v1/products/{pid}/supplier-data")).json()
    assert [(v["state"], v["sourceKind"], v["enteredBy"]) for v in view] == [
        ("entered", "pact-file", "api-key:test editor")
    ]


async def test_our_own_pact_rendering_keeps_its_four_stages(api) -> None:
    await _product_with(api, supplier_line(SUPPLIER, LIOH, quantity="1", unit="kilogram"))
    stages = {"raw_material_acquisition": "2.5", "main_production": "1.25", "distribution": "0.2", "end_of_life": "0"}
    footprint = SimpleNamespace(
        id=UUID_1,
        total=Decimal("3.95"),
        stages=stages,
        primary_data_share=Decimal(40),
        dqr=None,
        preceding_ids=[],
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        status="Active",
        validity_start=None,
        validity_end=None,
        version=1,
        rounding="half-up to 6 places",
    )
    product = SimpleNamespace(
        declared_unit="kilogram",
        mass_per_declared_unit=None,
        plant_country="CL",
        plant_subdivision=None,
        description="",
        name="LiOH",
        product_ids=[LIOH],
        classifications=[],
        reference_period_start=None,
        reference_period_end=None,
        reporting_period="year",
    )
    try:
        pf = render_footprint(
            footprint=footprint,
            product=product,
            company_id=SUPPLIER,
            company_name="Andes",
            extension={"stages": stages, "rounding": "half-up to 6 places"},
        )
    except AttributeError as exc:  # the rendering reads a product member this stand-in lacks: name it
        raise AssertionError(f"stand-in product lacks {exc}") from None
    r = await api.post(IMPORT, pf)
    assert r.status_code == 201, r.text
    got = {k: Decimal(v) for k, v in r.json()[0]["stages"].items()}
    assert got == {k: Decimal(v) for k, v in stages.items()}


async def test_a_list_answer_and_the_v2_names_are_read(api) -> None:
    await _product_with(
        api, supplier_line(SUPPLIER, LIOH, unit="kilogram"), supplier_line(OTHER, PCAM, unit="kilogram")
    )
    v2 = official_shape(
        UUID_2, PCAM, OTHER, declaredUnitOfMeasurement=None, declaredUnitAmount=None, pcfExcludingBiogenicUptake=None
    )
    v2["pcf"].update({"declaredUnit": "ton", "unitaryProductAmount": "2", "pCfExcludingBiogenic": "3000"})
    r = await api.post(IMPORT, {"data": [official_shape(), v2]})
    assert r.status_code == 201, r.text
    by_product = {d["productId"]: d for d in r.json()}
    assert Decimal(by_product[PCAM]["stages"]["raw_material_acquisition"]) == Decimal("1.5")  # 3000 per 2 t, per kg
    assert Decimal(by_product[LIOH]["stages"]["raw_material_acquisition"]) == Decimal("0.384")


async def test_a_catenax_9_pcf_is_converted_and_its_distribution_kept(api) -> None:
    pid = await _product_with(api, supplier_line(OTHER, PCAM, quantity="2", unit="kilogram"))
    r = await api.post(IMPORT, catenax_9())
    assert r.status_code == 201, r.text
    (done,) = r.json()
    assert done["sourceKind"] == "catenax-pcf-file" and done["footprintId"] == UUID_2
    assert Decimal(done["stages"]["raw_material_acquisition"]) == Decimal("2.9005")  # 2900.5 per tonne, per kg
    assert Decimal(done["stages"]["distribution"]) == Decimal("0.15")
    (held,) = await _upstream(api)
    assert held["dqr"] == {"technological": "2", "geographical": "2", "temporal": "2"}
    assert held["primaryDataShare"] == "56.12"
    view = (await api.get("/api/v1/supplier-data")).json()
    assert [(v["productId"], v["state"], v["sourceKind"]) for v in view] == [(pid, "entered", "catenax-pcf-file")]


async def test_a_distribution_stage_not_included_is_left_out(api) -> None:
    await _product_with(api, supplier_line(OTHER, PCAM, unit="kilogram"))
    r = await api.post(IMPORT, catenax_9(included=False, unit="kilogram", amount=10))
    assert r.status_code == 201, r.text
    assert Decimal(r.json()[0]["stages"]["distribution"]) == 0
    assert Decimal(r.json()[0]["stages"]["raw_material_acquisition"]) == Decimal("290.05")


async def test_a_catenax_7_flat_pcf_is_read(api) -> None:
    await _product_with(api, supplier_line(OTHER, PCAM, unit="gram"))
    flat = {
        "specVersion": "urn:io.catenax.pcf:datamodel:version:7.0.0",
        "id": UUID_2,
        "companyIds": [OTHER],
        "productIds": [PCAM],
        "pcf": {
            "declaredUnit": "kilogram",
            "unitaryProductAmount": 1000.0,
            "pcfExcludingBiogenic": 2,
            "distributionStagePcfExcludingBiogenic": 1.5,
        },
    }
    r = await api.post(IMPORT, flat)
    assert r.status_code == 201, r.text
    stages = r.json()[0]["stages"]
    assert Decimal(stages["raw_material_acquisition"]) == Decimal("0.000002")  # 2 per 1000 kg, per gram
    assert Decimal(stages["distribution"]) == Decimal("0.0000015")


async def test_a_unit_that_does_not_convert_names_the_field_and_the_line(api) -> None:
    await _product_with(api, supplier_line(SUPPLIER, LIOH, unit="kilogram"))
    body = assert_problem(
        await api.post(IMPORT, official_shape(declaredUnitOfMeasurement="liter")), 422, "declaredUnitOfMeasurement"
    )
    assert "liter" in body["detail"] and LIOH in body["detail"] and "kilogram" in body["detail"]
    assert await _upstream(api) == []


async def test_missing_members_are_named(api) -> None:
    await _product_with(api, supplier_line(SUPPLIER, LIOH))
    body = assert_problem(
        await api.post(IMPORT, official_shape(pcfExcludingBiogenicUptake=None)), 422, "pcfExcludingBiogenicUptake"
    )
    assert "pcf.pcfExcludingBiogenicUptake" in body["detail"]
    no_ids = official_shape()
    del no_ids["productIds"]
    assert_problem(await api.post(IMPORT, no_ids), 422, "productIds")
    bad = catenax_9()
    del bad["companyAndProductInformation"][0]["productInformation"][0]["declaredUnitOfMeasurement"]
    body = assert_problem(await api.post(IMPORT, bad), 422, "declaredUnitOfMeasurement")
    assert "companyAndProductInformation.0.productInformation.0.declaredUnitOfMeasurement" in body["detail"]
    assert_problem(await api.post(IMPORT, official_shape(declaredUnitAmount="0")), 422, "declaredUnitAmount")
    assert_problem(await api.post(IMPORT, official_shape(pcfExcludingBiogenicUptake=12)), 422, "pcf")
    assert_problem(await api.post(IMPORT, {"hello": "world"}), 422, "file")
    assert await _upstream(api) == []


async def test_no_matching_line_and_an_ambiguous_file(api) -> None:
    body = assert_problem(await api.post(IMPORT, official_shape()), 422, "productIds")
    assert LIOH in body["detail"]
    # two suppliers sell this product: the file's company names neither, --supplier says which
    await _product_with(
        api,
        supplier_line("urn:pact:a.example:company:a", LIOH),
        supplier_line("urn:pact:b.example:company:b", LIOH),
    )
    body = assert_problem(await api.post(IMPORT, official_shape()), 422, "companyIds")
    assert "urn:pact:a.example:company:a" in body["detail"]
    r = await api.post(IMPORT, official_shape(), params={"supplier": "urn:pact:b.example:company:b"})
    assert r.status_code == 201, r.text
    assert r.json()[0]["supplierCompanyId"] == "urn:pact:b.example:company:b"


async def test_the_same_file_twice_is_a_conflict_and_a_viewer_cannot_import(api) -> None:
    await _product_with(api, supplier_line(SUPPLIER, LIOH))
    assert (await api.post(IMPORT, official_shape(), role="viewer")).status_code == 403
    assert (await api.post(IMPORT, official_shape())).status_code == 201
    assert_problem(await api.post(IMPORT, official_shape()), 409)


async def test_the_file_as_sent_is_kept_as_the_document(api, engine) -> None:
    from sqlmodel import Session, select

    from connector.storage.tables import UpstreamFootprint

    await _product_with(api, supplier_line(SUPPLIER, LIOH))
    raw = json.dumps(official_shape(), indent=1).encode()
    r = await api.client.post(IMPORT, content=raw, headers={**api.as_("editor"), "content-type": "application/json"})
    assert r.status_code == 201, r.text
    with Session(engine) as session:
        (row,) = session.exec(select(UpstreamFootprint)).all()
        assert row.basis == "entered" and row.source_kind == "pact-file" and row.document == raw
        assert row.document_sha256 == hashlib.sha256(raw).hexdigest()


async def test_the_view_shows_missing_and_attested_lines_and_the_request(api) -> None:
    pid = await _product_with(api, supplier_line(SUPPLIER, LIOH), supplier_line(OTHER, PCAM))
    view = (await api.get(f"/api/v1/products/{pid}/supplier-data")).json()
    assert [(v["supplierProductId"], v["state"], v["request"]) for v in view] == [
        (LIOH, "missing", None),
        (PCAM, "missing", None),
    ]
    assert (await api.get("/api/v1/products/nope/supplier-data")).status_code == 404


async def test_the_documented_examples_import_as_written(api) -> None:
    from connector.api.operator import examples as ex

    await _product_with(
        api,
        supplier_line(ex.LITHIUM_MAKER, ex.LIOH, quantity="0.45", unit="kilogram"),
        supplier_line(ex.PCAM_MAKER, ex.PCAM, quantity="1.02", unit="kilogram"),
    )
    got = {}
    for name, example in ex.FOOTPRINT_FILE.items():
        r = await api.post(IMPORT, example["value"])
        assert r.status_code == 201, (name, r.text)
        got[name] = Decimal(r.json()[0]["stages"]["raw_material_acquisition"])
    assert got == {"pact": Decimal("15.2"), "catenax": Decimal("21.341")}


async def test_a_v2_file_with_numbers_and_a_get_answer_are_read(api) -> None:
    await _product_with(api, supplier_line(SUPPLIER, LIOH, unit="kilogram"))
    v2 = official_shape(declaredUnitAmount=None, pcfExcludingBiogenicUptake=None, primaryDataShare=None, dqi=None)
    v2["specVersion"] = "2.0.0"
    v2["pcf"].update({"pCfExcludingBiogenic": "1.63", "primaryDataShare": 12.9})
    v2["pcf"]["dqi"] = {"technologicalDQR": 1.6, "temporalDQR": 2.6, "geographicalDQR": 1.8, "coveragePercent": 78}
    r = await api.post(IMPORT, {"data": v2})  # the shape of a GET /footprints/{id} answer
    assert r.status_code == 201, r.text
    (held,) = await _upstream(api)
    assert held["primaryDataShare"] == "12.9"
    assert held["dqr"] == {"technological": "1.6", "geographical": "1.8", "temporal": "2.6"}
    assert Decimal(held["total"]) == Decimal("1.63")
    # v3 keeps its decimal strings: a number there is refused, naming the member
    v3 = official_shape(UUID_2, primaryDataShare=12.9)
    assert_problem(await api.post(IMPORT, v3), 422, "primaryDataShare")


async def test_a_logged_in_user_is_named_as_who_entered_it(api) -> None:
    from .test_users import bearer

    await _product_with(api, supplier_line(SUPPLIER, LIOH))
    headers = await bearer(api, "nadia", "editor")
    r = await api.client.post(IMPORT, json=official_shape(), headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()[0]["enteredBy"] == "user:nadia"
    (line,) = (await api.get("/api/v1/supplier-data")).json()
    assert line["enteredBy"] == "user:nadia"
