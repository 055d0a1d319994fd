"""Products, bill-of-materials lines and own emissions: the happy paths on both back ends."""

from __future__ import annotations

import pytest

from .conftest import assert_problem
from .factories import create_product, own_line, product_body, product_urn, secondary_line, supplier_line

pytestmark = pytest.mark.asyncio

P = "/api/v1/products"


async def test_product_crud(api):
    urn = product_urn("crud")
    created = await create_product(
        api,
        productIds=[urn],
        name="Cell",
        declaredUnit="piece",
        massPerDeclaredUnit="0.95",
        plant={"name": "Himeji", "country": "JP", "subdivision": "JP-28"},
        primaryDataShare="80",
        dqr={"technological": "1.5", "geographical": "2", "temporal": "1"},
    )
    assert created["productIds"] == [urn]
    assert created["declaredUnit"] == "piece"
    assert created["massPerDeclaredUnit"] == "0.95"
    assert created["plant"] == {"name": "Himeji", "country": "JP", "subdivision": "JP-28"}
    assert created["primaryDataShare"] == "80"
    assert created["dqr"] == {"technological": "1.5", "geographical": "2", "temporal": "1"}

    got = await api.get(f"{P}/{created['id']}")
    assert got.status_code == 200 and got.json() == created

    patched = await api.patch(f"{P}/{created['id']}", {"name": "Pouch cell", "massPerDeclaredUnit": "1.05"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Pouch cell" and patched.json()["massPerDeclaredUnit"] == "1.05"
    assert patched.json()["plant"] == created["plant"]

    listed = (await api.get(P)).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "Pouch cell"

    assert (await api.delete(f"{P}/{created['id']}")).status_code == 204
    assert_problem(await api.get(f"{P}/{created['id']}"), 404)
    assert (await api.get(P)).json()["total"] == 0
    # the URN is free again once its product is gone
    await create_product(api, productIds=[urn])


async def test_unit_alias_is_normalised(api):
    created = await create_product(api, declaredUnit="kWh")
    assert created["declaredUnit"] == "kilowatt hour"


async def test_duplicate_product_id_conflicts(api):
    urn = product_urn("dup")
    await create_product(api, productIds=[urn])
    body = assert_problem(await api.post(P, product_body(productIds=[urn])), 409)
    assert urn in body["detail"]
    # the same URN differing only in case is the same identifier
    assert_problem(await api.post(P, product_body(productIds=[urn.upper().replace("URN:", "urn:")])), 409)
    assert (await api.get(P)).json()["total"] == 1


async def test_duplicate_ids_within_one_body(api):
    urn = product_urn("twice")
    assert_problem(await api.post(P, product_body(productIds=[urn, urn])), 422, "productIds")
    assert (await api.get(P)).json()["total"] == 0


async def test_pagination_limit_offset_and_link(api):
    for i in range(5):
        await create_product(api, name=f"n{i}")
    first = await api.get(P, params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (5, 2, 0, 2)
    assert 'rel="next"' in first.headers["link"] and "offset=2" in first.headers["link"]
    second = await api.get(P, params={"limit": 2, "offset": 2})
    assert "offset=4" in second.headers["link"]
    last = await api.get(P, params={"limit": 2, "offset": 4})
    assert len(last.json()["items"]) == 1 and "link" not in last.headers
    names = [p["name"] for r in (first, second, last) for p in r.json()["items"]]
    assert sorted(names) == [f"n{i}" for i in range(5)]
    assert_problem(await api.get(P, params={"limit": 0}), 422, "limit")
    assert_problem(await api.get(P, params={"offset": -1}), 422, "offset")


async def test_bom_lines_add_list_delete(api):
    product = await create_product(api)
    pid = product["id"]
    sup = await api.post(f"{P}/{pid}/bom", supplier_line(quantity="440", unit="g"))
    assert sup.status_code == 201, sup.text
    assert sup.json()["unit"] == "gram" and sup.json()["quantity"] == "440"
    sec = await api.post(f"{P}/{pid}/bom", secondary_line())
    assert sec.status_code == 201, sec.text
    assert sec.json()["factor"] == "3.2" and sec.json()["stage"] == "raw_material_acquisition"

    lines = (await api.get(f"{P}/{pid}/bom")).json()
    assert [line["id"] for line in lines] == [sup.json()["id"], sec.json()["id"]]

    assert (await api.delete(f"{P}/{pid}/bom/{sup.json()['id']}")).status_code == 204
    assert [line["id"] for line in (await api.get(f"{P}/{pid}/bom")).json()] == [sec.json()["id"]]
    assert_problem(await api.delete(f"{P}/{pid}/bom/{sup.json()['id']}"), 404)


async def test_bom_line_of_another_product_is_not_found(api):
    a = await create_product(api)
    b = await create_product(api)
    line = (await api.post(f"{P}/{a['id']}/bom", secondary_line())).json()
    assert_problem(await api.delete(f"{P}/{b['id']}/bom/{line['id']}"), 404)
    assert len((await api.get(f"{P}/{a['id']}/bom")).json()) == 1


async def test_own_product_as_input(api):
    part = await create_product(api, declaredUnit="kilogram")
    whole = await create_product(api, declaredUnit="piece")
    resp = await api.post(f"{P}/{whole['id']}/bom", own_line(part["productIds"][0], "300", "gram"))
    assert resp.status_code == 201, resp.text


async def test_emissions_add_list_delete(api):
    pid = (await create_product(api))["id"]
    direct = await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": "1.52"})
    assert direct.status_code == 201, direct.text
    assert direct.json()["kind"] == "direct" and direct.json()["value"] == "1.52"
    activity = await api.post(
        f"{P}/{pid}/emissions",
        {"stage": "main_production", "amount": "12", "unit": "kWh", "factor": "0.45", "source": "grid mix JP 2025"},
    )
    assert activity.status_code == 201, activity.text
    assert activity.json()["kind"] == "activity" and activity.json()["unit"] == "kilowatt hour"
    credit = await api.post(f"{P}/{pid}/emissions", {"stage": "end_of_life", "value": "-2.5"})
    assert credit.status_code == 201, credit.text

    listed = (await api.get(f"{P}/{pid}/emissions")).json()
    assert [e["id"] for e in listed] == [direct.json()["id"], activity.json()["id"], credit.json()["id"]]
    assert (await api.delete(f"{P}/{pid}/emissions/{direct.json()['id']}")).status_code == 204
    assert len((await api.get(f"{P}/{pid}/emissions")).json()) == 2
    assert_problem(await api.delete(f"{P}/{pid}/emissions/{direct.json()['id']}"), 404)


async def test_unknown_product_in_path_is_404(api):
    missing = "00000000-0000-0000-0000-000000000000"
    for resp in (
        await api.get(f"{P}/{missing}"),
        await api.patch(f"{P}/{missing}", {"name": "x"}),
        await api.delete(f"{P}/{missing}"),
        await api.get(f"{P}/{missing}/bom"),
        await api.post(f"{P}/{missing}/bom", secondary_line()),
        await api.get(f"{P}/{missing}/emissions"),
        await api.post(f"{P}/{missing}/emissions", {"stage": "main_production", "value": "1"}),
        await api.post(f"{P}/{missing}/footprints"),
        await api.get(f"{P}/{missing}/footprints"),
    ):
        assert_problem(resp, 404)


async def test_delete_product_removes_lines(api):
    part = await create_product(api)
    pid = part["id"]
    await api.post(f"{P}/{pid}/bom", secondary_line())
    await api.post(f"{P}/{pid}/emissions", {"stage": "main_production", "value": "1"})
    await api.post(f"{P}/{pid}/footprints")
    assert (await api.delete(f"{P}/{pid}")).status_code == 204
    assert (await api.get("/api/v1/footprints")).json()["total"] == 0


@pytest.mark.parametrize("field", ["name", "description", "manualConfirmation", "classifications"])
async def test_patch_null_on_a_required_field_is_422(api, field):
    product = await create_product(api, name="Keep")
    assert_problem(await api.patch(f"{P}/{product['id']}", {field: None}), 422, field)
    assert (await api.get(f"{P}/{product['id']}")).json() == product


async def test_patch_null_clears_optional_fields(api):
    product = await create_product(
        api, massPerDeclaredUnit="2", plant={"name": "X", "country": "JP"}, primaryDataShare="50"
    )
    resp = await api.patch(
        f"{P}/{product['id']}", {"massPerDeclaredUnit": None, "plant": None, "primaryDataShare": None}
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["massPerDeclaredUnit"] is None and body["plant"] is None and body["primaryDataShare"] is None


async def test_pages_break_timestamp_ties_by_primary_key(api) -> None:
    """Rows created in the same instant must not shift between pages: every page query orders by the key too.

    (Equal timestamps usually come back in insertion order on both back ends, so the order itself is asserted.)
    """
    from sqlalchemy import event

    statements: list[str] = []

    def capture(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(api.engine, "before_cursor_execute", capture)
    try:
        await api.get("/api/v1/products", params={"limit": 2})
        await api.get("/api/v1/footprints", params={"limit": 2})
    finally:
        event.remove(api.engine, "before_cursor_execute", capture)
    paged = [s for s in statements if "LIMIT" in s.upper() and "ORDER BY" in s.upper()]
    assert any("ORDER BY product.created_at, product.id" in " ".join(s.split()) for s in paged), paged
    assert any("ORDER BY footprint.created_at DESC, footprint.id DESC" in " ".join(s.split()) for s in paged), paged
