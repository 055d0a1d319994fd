"""Bad input gets a clear problem+json answer and writes nothing."""

from __future__ import annotations

import json

import pytest

from .conftest import assert_problem, make_settings, open_api
from .factories import create_product, own_line, product_body, secondary_line, supplier_line, upstream_body

pytestmark = pytest.mark.asyncio

P = "/api/v1/products"


async def bom(api, pid: str) -> list:
    return (await api.get(f"{P}/{pid}/bom")).json()


async def emissions(api, pid: str) -> list:
    return (await api.get(f"{P}/{pid}/emissions")).json()


@pytest.mark.parametrize("quantity", ["0", "-1", "-0.001", "0.000"])
async def test_non_positive_quantity(api, quantity):
    pid = (await create_product(api))["id"]
    assert_problem(await api.post(f"{P}/{pid}/bom", supplier_line(quantity=quantity)), 422, "quantity")
    assert_problem(await api.post(f"{P}/{pid}/bom", secondary_line(quantity=quantity)), 422, "quantity")
    assert await bom(api, pid) == []


@pytest.mark.parametrize(
    "value",
    [
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "inf",
        "sNaN",
        "1e3",
        "1E-2",
        "",
        " ",
        "1,5",
        "0x10",
        "1_000",
        ".5",
        "5.",
        "--1",
    ],
)
async def test_not_a_decimal_string(api, value):
    pid = (await create_product(api))["id"]
    assert_problem(await api.post(f"{P}/{pid}/bom", supplier_line(quantity=value)), 422, "quantity")
    assert_problem(await api.post(f"{P}/{pid}/bom", secondary_line(factor=value)), 422, "factor")
    assert_problem(await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": value}), 422, "value")
    assert_problem(await api.post("/api/v1/upstream-footprints", upstream_body(main_production=value)), 422, "stages")
    assert_problem(await api.post(P, product_body(massPerDeclaredUnit=value)), 422, "massPerDeclaredUnit")
    assert await bom(api, pid) == [] and await emissions(api, pid) == []
    assert (await api.get("/api/v1/upstream-footprints")).json()["total"] == 0
    assert (await api.get(P)).json()["total"] == 1


@pytest.mark.parametrize("number", [2.5, 2, 0.1, 10**30])
async def test_json_numbers_are_refused(api, number):
    pid = (await create_product(api))["id"]
    body = assert_problem(await api.post(f"{P}/{pid}/bom", supplier_line(quantity=number)), 422, "quantity")
    assert "string" in json.dumps(body["errors"])
    assert_problem(await api.post(f"{P}/{pid}/bom", secondary_line(factor=number)), 422, "factor")
    assert_problem(await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": number}), 422, "value")
    assert_problem(await api.post("/api/v1/upstream-footprints", upstream_body(main_production=number)), 422, "stages")
    assert_problem(await api.post(P, product_body(primaryDataShare=number)), 422, "primaryDataShare")
    assert await bom(api, pid) == [] and await emissions(api, pid) == []
    assert (await api.get("/api/v1/upstream-footprints")).json()["total"] == 0


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_json_nan_literals_are_refused(api, literal):
    pid = (await create_product(api))["id"]
    raw = json.dumps(supplier_line()).replace('"quantity": "2"', f'"quantity": {literal}')
    resp = await api.client.post(
        f"{P}/{pid}/bom", content=raw, headers={**api.as_("editor"), "content-type": "application/json"}
    )
    assert resp.status_code in (400, 422)
    assert_problem(resp, resp.status_code)
    assert await bom(api, pid) == []


async def test_unknown_units(api):
    pid = (await create_product(api))["id"]
    assert_problem(await api.post(f"{P}/{pid}/bom", supplier_line(unit="furlong")), 422, "unit")
    assert_problem(await api.post(f"{P}/{pid}/bom", secondary_line(unit="bushel")), 422, "unit")
    assert_problem(
        await api.post(
            f"{P}/{pid}/emissions",
            {"stage": "main_production", "amount": "1", "unit": "parsec", "factor": "1", "source": "x"},
        ),
        422,
        "unit",
    )
    assert_problem(await api.post(P, product_body(declaredUnit="furlong")), 422, "declaredUnit")
    up = upstream_body()
    up["declaredUnit"] = "furlong"
    assert_problem(await api.post("/api/v1/upstream-footprints", up), 422, "declaredUnit")
    assert await bom(api, pid) == [] and await emissions(api, pid) == []
    assert (await api.get(P)).json()["total"] == 1
    assert (await api.get("/api/v1/upstream-footprints")).json()["total"] == 0


async def test_incompatible_unit_for_own_product(api):
    part = await create_product(api, declaredUnit="kilogram")
    whole = await create_product(api, declaredUnit="piece")
    body = assert_problem(
        await api.post(f"{P}/{whole['id']}/bom", own_line(part["productIds"][0], "2", "kWh")), 422, "unit"
    )
    assert "kilogram" in body["detail"]
    assert await bom(api, whole["id"]) == []


async def test_incompatible_unit_against_upstream_at_compute(api):
    pid = (await create_product(api))["id"]
    assert (await api.post(f"{P}/{pid}/bom", supplier_line(unit="piece"))).status_code == 201
    assert (await api.post("/api/v1/upstream-footprints", upstream_body())).status_code == 201
    assert_problem(await api.post(f"{P}/{pid}/footprints"), 422, "unit")
    assert (await api.get(f"{P}/{pid}/footprints")).json() == []


async def test_bom_cycle_is_refused(api):
    a = await create_product(api, name="A")
    b = await create_product(api, name="B")
    c = await create_product(api, name="C")
    assert (await api.post(f"{P}/{a['id']}/bom", own_line(b["productIds"][0]))).status_code == 201
    assert (await api.post(f"{P}/{b['id']}/bom", own_line(c["productIds"][0]))).status_code == 201
    body = assert_problem(await api.post(f"{P}/{c['id']}/bom", own_line(a["productIds"][0])), 422, "bom")
    assert body["type"].endswith("bom-cycle")
    body = assert_problem(await api.post(f"{P}/{b['id']}/bom", own_line(a["productIds"][0])), 422, "bom")
    assert_problem(await api.post(f"{P}/{a['id']}/bom", own_line(a["productIds"][0])), 422, "bom")
    assert len(await bom(api, a["id"])) == 1
    assert len(await bom(api, b["id"])) == 1
    assert await bom(api, c["id"]) == []


async def test_bom_cycle_is_refused_whatever_the_urn_case(api):
    a = await create_product(api, name="A")
    b = await create_product(api, name="B")
    upper = b["productIds"][0].upper().replace("URN:", "urn:")
    assert (await api.post(f"{P}/{a['id']}/bom", own_line(upper))).status_code == 201
    assert_problem(await api.post(f"{P}/{b['id']}/bom", own_line(a["productIds"][0])), 422, "bom")
    assert await bom(api, b["id"]) == []


async def test_bom_line_to_missing_own_product(api):
    pid = (await create_product(api))["id"]
    missing = "urn:pact:test-node.example:product:nope"
    assert_problem(await api.post(f"{P}/{pid}/bom", own_line(missing)), 422, "supplierProductId")
    assert await bom(api, pid) == []


async def test_bad_urns_and_unknown_fields(api):
    pid = (await create_product(api))["id"]
    assert_problem(await api.post(f"{P}/{pid}/bom", supplier_line(supplier="acme")), 422, "supplierCompanyId")
    assert_problem(await api.post(f"{P}/{pid}/bom", supplier_line(colour="red")), 422, "colour")
    assert_problem(await api.post(f"{P}/{pid}/bom", {**secondary_line(), "kind": "magic"}), 422)
    assert_problem(await api.post(f"{P}/{pid}/bom", secondary_line(stage="use_phase")), 422, "stage")
    assert_problem(await api.post(P, product_body(productIds=["not-a-urn"])), 422, "productIds")
    assert_problem(await api.post(P, product_body(productIds=[])), 422, "productIds")
    assert_problem(await api.post(P, product_body(primaryDataShare="100.5")), 422, "primaryDataShare")
    assert_problem(
        await api.post(P, product_body(dqr={"technological": "0", "geographical": "1", "temporal": "1"})),
        422,
        "technological",
    )
    assert_problem(await api.post(P, product_body(plant={"name": "x", "country": "jp"})), 422, "country")
    assert await bom(api, pid) == []
    assert (await api.get(P)).json()["total"] == 1


async def test_emission_shape(api):
    pid = (await create_product(api))["id"]
    url = f"{P}/{pid}/emissions"
    assert_problem(await api.post(url, {"stage": "main_production"}), 422)
    assert_problem(
        await api.post(url, {"stage": "main_production", "value": "1", "amount": "1", "factor": "1", "source": "x"}),
        422,
    )
    assert_problem(await api.post(url, {"stage": "main_production", "amount": "1", "factor": "1"}), 422)
    assert_problem(
        await api.post(url, {"stage": "main_production", "amount": "-1", "factor": "1", "source": "x"}), 422, "amount"
    )
    assert await emissions(api, pid) == []


async def test_malformed_json(api):
    pid = (await create_product(api))["id"]
    for raw in ('{"kind": "secondary", ', "not json", "{'a': 1}"):
        resp = await api.client.post(
            f"{P}/{pid}/bom", content=raw, headers={**api.as_("editor"), "content-type": "application/json"}
        )
        body = assert_problem(resp, 400)
        assert "json" in body["detail"].lower()
    resp = await api.client.post(P, content="[1,", headers={**api.as_("editor"), "content-type": "application/json"})
    assert_problem(resp, 400)
    assert await bom(api, pid) == []
    assert (await api.get(P)).json()["total"] == 1


async def test_oversized_body(engine, tmp_path):
    async for api in open_api(engine, make_settings(tmp_path, max_body_bytes=300)):
        big = product_body(description="x" * 1000)
        body = assert_problem(await api.post(P, big), 413)
        assert "300" in body["detail"]

        # streamed without a Content-Length: counted as it arrives
        async def chunks():
            raw = json.dumps(big).encode()
            for i in range(0, len(raw), 100):
                yield raw[i : i + 100]

        resp = await api.client.post(
            P, content=chunks(), headers={**api.as_("editor"), "content-type": "application/json"}
        )
        assert_problem(resp, 413)
        assert (await api.get(P)).json()["total"] == 0
        assert (await api.post(P, product_body())).status_code == 201


async def test_unknown_route_and_method_are_problems(api):
    assert_problem(await api.get("/api/v1/nothing-here"), 404)
    assert_problem(await api.client.put(P, headers=api.as_("editor")), 405)


@pytest.mark.parametrize("value", ["1" + "0" * 90, "0." + "0" * 90 + "1", "1." + "1" * 40])
async def test_too_many_digits(api, value):
    """Refused alike on both back ends (PostgreSQL's varchar would have made it a 500), and never silently rounded."""
    pid = (await create_product(api))["id"]
    assert_problem(await api.post(f"{P}/{pid}/bom", supplier_line(quantity=value)), 422, "quantity")
    assert_problem(await api.post(f"{P}/{pid}/bom", secondary_line(factor=value)), 422, "factor")
    assert_problem(await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": value}), 422, "value")
    assert_problem(await api.post("/api/v1/upstream-footprints", upstream_body(main_production=value)), 422, "stages")
    assert await bom(api, pid) == [] and await emissions(api, pid) == []
    assert (await api.get("/api/v1/upstream-footprints")).json()["total"] == 0


async def test_thirty_digits_are_kept_exactly(api):
    pid = (await create_product(api))["id"]
    quantity = "123456789012345.123456789012345"
    resp = await api.post(f"{P}/{pid}/bom", supplier_line(quantity=quantity))
    assert resp.status_code == 201, resp.text
    assert (await bom(api, pid))[0]["quantity"] == quantity
