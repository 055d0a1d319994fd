"""Computing, versioning and reading footprints; recording upstream footprints."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from .conftest import assert_problem
from .factories import create_product, own_line, secondary_line, supplier_line, upstream_body

pytestmark = pytest.mark.asyncio

P = "/api/v1/products"
UP = "/api/v1/upstream-footprints"
SUPPLIER = "urn:pact:supplier.example:company:supplier"
THING = "urn:pact:supplier.example:product:thing"


def stage_values(fp: dict) -> dict[str, Decimal]:
    return {k: Decimal(v) for k, v in fp["stages"].items()}


async def test_compute_new_then_unchanged_then_new_version(api):
    pid = (await create_product(api))["id"]
    await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": "1.5"})
    await api.post(f"{P}/{pid}/bom", supplier_line(quantity="440", unit="gram"))
    assert (await api.post(UP, upstream_body(raw_material_acquisition="15.2"))).status_code == 201

    first = await api.post(f"{P}/{pid}/footprints")
    assert first.status_code == 201, first.text
    fp1 = first.json()["footprint"]
    assert first.json()["changed"] is True
    assert fp1["version"] == 1 and fp1["status"] == "Active" and fp1["precedingPfIds"] == []
    assert stage_values(fp1) == {
        "raw_material_acquisition": Decimal("6.688"),
        "main_production": Decimal("1.5"),
        "distribution": 0,
        "end_of_life": 0,
    }
    assert Decimal(fp1["total"]) == Decimal("8.188")
    assert fp1["rounding"] == "decimal-places:12;half-even"
    assert fp1["declaredUnit"] == "kilogram"

    again = await api.post(f"{P}/{pid}/footprints")
    assert again.status_code == 200 and again.json()["changed"] is False
    assert again.json()["footprint"]["id"] == fp1["id"]

    # a newer upstream value makes a new version that deprecates the previous one
    assert (await api.post(UP, upstream_body(raw_material_acquisition="15"))).status_code == 201
    second = await api.post(f"{P}/{pid}/footprints")
    assert second.status_code == 201, second.text
    fp2 = second.json()["footprint"]
    assert fp2["version"] == 2 and fp2["precedingPfIds"] == [fp1["id"]]
    assert Decimal(fp2["stages"]["raw_material_acquisition"]) == Decimal("6.6")

    # an own change makes a third
    await api.post(f"{P}/{pid}/emissions", {"stage": "end_of_life", "value": "-0.5"})
    fp3 = (await api.post(f"{P}/{pid}/footprints")).json()["footprint"]
    assert fp3["version"] == 3 and fp3["precedingPfIds"] == [fp2["id"], fp1["id"]]
    assert Decimal(fp3["total"]) == Decimal("7.6")

    versions = (await api.get(f"{P}/{pid}/footprints")).json()
    assert [(v["version"], v["status"]) for v in versions] == [(3, "Active"), (2, "Deprecated"), (1, "Deprecated")]

    got = await api.get(f"/api/v1/footprints/{fp1['id']}")
    assert got.status_code == 200 and got.json()["status"] == "Deprecated" and got.json()["stages"] == fp1["stages"]
    assert_problem(await api.get(f"/api/v1/footprints/{uuid.uuid4()}"), 404)

    listed = (await api.get("/api/v1/footprints")).json()
    assert listed["total"] == 3
    active = (await api.get("/api/v1/footprints", params={"status": "Active"})).json()
    assert [f["id"] for f in active["items"]] == [fp3["id"]]
    deprecated = await api.get("/api/v1/footprints", params={"status": "Deprecated", "limit": 1})
    assert deprecated.json()["total"] == 2 and "offset=1" in deprecated.headers["link"]


async def test_values_are_decimal_strings(api):
    pid = (await create_product(api))["id"]
    await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": "0.1"})
    await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": "0.2"})
    fp = (await api.post(f"{P}/{pid}/footprints")).json()["footprint"]
    assert fp["stages"]["main_production"] == "0.3"  # never 0.30000000000000004
    assert fp["total"] == "0.3" and isinstance(fp["total"], str)


async def test_missing_upstream_is_409_and_writes_nothing(api):
    pid = (await create_product(api))["id"]
    await api.post(f"{P}/{pid}/bom", supplier_line())
    body = assert_problem(await api.post(f"{P}/{pid}/footprints"), 409)
    assert THING in body["detail"]
    assert (await api.get(f"{P}/{pid}/footprints")).json() == []
    assert (await api.get("/api/v1/footprints")).json()["total"] == 0


async def test_upstream_of_another_supplier_does_not_count(api):
    pid = (await create_product(api))["id"]
    await api.post(f"{P}/{pid}/bom", supplier_line())
    await api.post(UP, upstream_body(supplier="urn:pact:other.example:company:other"))
    assert_problem(await api.post(f"{P}/{pid}/footprints"), 409)


async def test_own_product_input_uses_its_active_footprint(api):
    part = await create_product(api, declaredUnit="kilogram")
    whole = await create_product(api, declaredUnit="piece")
    await api.post(f"{P}/{whole['id']}/bom", own_line(part["productIds"][0], "250", "gram"))
    assert_problem(await api.post(f"{P}/{whole['id']}/footprints"), 409)  # the part has no footprint yet

    await api.post(f"{P}/{part['id']}/emissions", {"stage": "main_production", "value": "4"})
    await api.post(f"{P}/{part['id']}/footprints")
    fp = (await api.post(f"{P}/{whole['id']}/footprints")).json()["footprint"]
    assert Decimal(fp["stages"]["main_production"]) == Decimal("1")


async def test_secondary_and_activity_lines(api):
    pid = (await create_product(api))["id"]
    await api.post(f"{P}/{pid}/bom", secondary_line(quantity="1.25", factor="3.2"))
    await api.post(
        f"{P}/{pid}/emissions",
        {"stage": "main_production", "amount": "12", "unit": "kWh", "factor": "0.45", "source": "grid"},
    )
    fp = (await api.post(f"{P}/{pid}/footprints")).json()["footprint"]
    assert Decimal(fp["stages"]["raw_material_acquisition"]) == Decimal("4")
    assert Decimal(fp["stages"]["main_production"]) == Decimal("5.4")


async def test_primary_share_and_dqr(api):
    pid = (
        await create_product(
            api, primaryDataShare="100", dqr={"technological": "1", "geographical": "1", "temporal": "1"}
        )
    )["id"]
    await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": "3"})
    await api.post(f"{P}/{pid}/bom", supplier_line(quantity="1"))
    up = upstream_body(raw_material_acquisition="1")
    up.update(primaryDataShare="0", dqr={"technological": "3", "geographical": "3", "temporal": "5"})
    await api.post(UP, up)
    fp = (await api.post(f"{P}/{pid}/footprints")).json()["footprint"]
    assert Decimal(fp["primaryDataShare"]) == Decimal(75)
    assert {k: Decimal(v) for k, v in fp["dqr"].items()} == {
        "technological": Decimal("1.5"),
        "geographical": Decimal("1.5"),
        "temporal": Decimal(2),
    }


async def test_record_and_list_upstream(api):
    fid = str(uuid.uuid4())
    body = {
        **upstream_body(raw_material_acquisition="15.2", end_of_life="-0.2"),
        "footprintId": fid,
        "primaryDataShare": "90",
        "dqr": {"technological": "2", "geographical": "2", "temporal": "2"},
    }
    first = await api.post(UP, body)
    assert first.status_code == 201, first.text
    read = first.json()
    assert read["footprintId"] == fid and read["status"] == "Active" and read["source"] == "manual"
    assert read["verified"] is False and read["primaryDataShare"] == "90"
    assert {k: Decimal(v) for k, v in read["stages"].items()} == {
        "raw_material_acquisition": Decimal("15.2"),
        "main_production": 0,
        "distribution": 0,
        "end_of_life": Decimal("-0.2"),
    }
    assert Decimal(read["total"]) == Decimal("15")

    second = (await api.post(UP, upstream_body(raw_material_acquisition="14"))).json()
    listed = (await api.get(UP)).json()
    assert listed["total"] == 2
    status = {u["id"]: u["status"] for u in listed["items"]}
    assert status == {read["id"]: "Deprecated", second["id"]: "Active"}
    page = await api.get(UP, params={"limit": 1})
    assert len(page.json()["items"]) == 1 and 'rel="next"' in page.headers["link"]


async def test_same_upstream_footprint_id_twice_conflicts(api):
    fid = str(uuid.uuid4())
    assert (await api.post(UP, {**upstream_body(), "footprintId": fid})).status_code == 201
    assert_problem(await api.post(UP, {**upstream_body(), "footprintId": fid}), 409)
    assert (await api.get(UP)).json()["total"] == 1


async def test_upstream_validation(api):
    assert_problem(await api.post(UP, {**upstream_body(), "stages": {"use_phase": "1"}}), 422, "stages")
    assert_problem(await api.post(UP, {**upstream_body(), "footprintId": "abc"}), 422, "footprintId")
    assert_problem(await api.post(UP, {**upstream_body(), "primaryDataShare": "-1"}), 422, "primaryDataShare")
    assert_problem(await api.post(UP, {**upstream_body(), "productId": "thing"}), 422, "productId")
    assert (await api.get(UP)).json()["total"] == 0


async def test_changed_share_or_dqr_issues_a_new_version(api):
    pid = (await create_product(api, primaryDataShare="100"))["id"]
    await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": "2"})
    fp1 = (await api.post(f"{P}/{pid}/footprints")).json()["footprint"]
    assert Decimal(fp1["primaryDataShare"]) == 100 and fp1["dqr"] is None

    await api.patch(f"{P}/{pid}", {"primaryDataShare": "40"})
    resp = await api.post(f"{P}/{pid}/footprints")
    assert resp.status_code == 201, resp.text
    fp2 = resp.json()["footprint"]
    assert Decimal(fp2["primaryDataShare"]) == 40 and fp2["precedingPfIds"] == [fp1["id"]]

    await api.patch(f"{P}/{pid}", {"dqr": {"technological": "2", "geographical": "2", "temporal": "2"}})
    resp = await api.post(f"{P}/{pid}/footprints")
    assert resp.status_code == 201, resp.text
    assert {k: Decimal(v) for k, v in resp.json()["footprint"]["dqr"].items()} == {
        "technological": 2,
        "geographical": 2,
        "temporal": 2,
    }
    assert (await api.post(f"{P}/{pid}/footprints")).status_code == 200
