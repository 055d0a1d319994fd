"""Partners CRUD."""

from __future__ import annotations

import pytest

from .conftest import assert_problem

pytestmark = pytest.mark.asyncio

URL = "/api/v1/partners"
SUPPLIER = "urn:pact:supplier.example:company:supplier"


async def test_partner_crud(api):
    created = await api.post(
        URL, {"companyId": SUPPLIER, "name": "Supplier Co", "nodeUrl": "https://sup.example", "isSupplier": True}
    )
    assert created.status_code == 201, created.text
    partner = created.json()
    assert partner["companyId"] == SUPPLIER and partner["isSupplier"] and not partner["isCustomer"]
    assert partner["nodeUrl"] == "https://sup.example" and partner["autoFulfil"] is False

    assert (await api.get(f"{URL}/{partner['id']}")).json() == partner
    patched = await api.patch(f"{URL}/{partner['id']}", {"isCustomer": True, "name": "Supplier Co Ltd"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["isCustomer"] and patched.json()["isSupplier"] and patched.json()["name"] == "Supplier Co Ltd"

    listed = (await api.get(URL)).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "Supplier Co Ltd"

    assert (await api.delete(f"{URL}/{partner['id']}")).status_code == 204
    assert_problem(await api.get(f"{URL}/{partner['id']}"), 404)
    assert_problem(await api.patch(f"{URL}/{partner['id']}", {"name": "x"}), 404)
    assert_problem(await api.delete(f"{URL}/{partner['id']}"), 404)
    assert (await api.get(URL)).json()["total"] == 0


async def test_partner_conflict_and_validation(api):
    assert (await api.post(URL, {"companyId": SUPPLIER, "name": "A"})).status_code == 201
    assert_problem(await api.post(URL, {"companyId": SUPPLIER, "name": "B"}), 409)
    assert_problem(await api.post(URL, {"companyId": "acme", "name": "B"}), 422, "companyId")
    assert_problem(
        await api.post(URL, {"companyId": "urn:pact:b.example:company:b", "name": "B", "nodeUrl": "ftp://b"}),
        422,
        "nodeUrl",
    )
    assert_problem(await api.post(URL, {"companyId": "urn:pact:b.example:company:b"}), 422, "name")
    pid = (await api.get(URL)).json()["items"][0]["id"]
    assert_problem(await api.patch(f"{URL}/{pid}", {"nodeUrl": "nope"}), 422, "nodeUrl")
    assert_problem(await api.patch(f"{URL}/{pid}", {"companyId": "urn:pact:c.example:company:c"}), 422, "companyId")
    listed = (await api.get(URL)).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "A" and listed["items"][0]["nodeUrl"] is None


async def test_partner_pagination(api):
    for i in range(3):
        await api.post(URL, {"companyId": f"urn:pact:p{i}.example:company:p{i}", "name": f"P{i}"})
    resp = await api.get(URL, params={"limit": 1, "offset": 1})
    assert resp.json()["total"] == 3 and [p["name"] for p in resp.json()["items"]] == ["P1"]
    assert "offset=2" in resp.headers["link"]


@pytest.mark.parametrize("field", ["name", "isSupplier", "isCustomer", "autoFulfil"])
async def test_patch_null_on_a_required_field_is_422(api, field):
    partner = (await api.post(URL, {"companyId": SUPPLIER, "name": "A", "isSupplier": True})).json()
    assert_problem(await api.patch(f"{URL}/{partner['id']}", {field: None}), 422, field)
    assert (await api.get(f"{URL}/{partner['id']}")).json() == partner


async def test_patch_null_clears_node_url(api):
    partner = (await api.post(URL, {"companyId": SUPPLIER, "name": "A", "nodeUrl": "https://a.example"})).json()
    resp = await api.patch(f"{URL}/{partner['id']}", {"nodeUrl": None})
    assert resp.status_code == 200 and resp.json()["nodeUrl"] is None


async def test_a_partner_records_the_protocol_that_reaches_it(api):
    partner = (await api.post(URL, {"companyId": SUPPLIER, "name": "A", "nodeUrl": "https://a.example"})).json()
    assert partner["protocol"] == "pact"  # the default: the only protocol before protocols were recorded
    explicit = await api.post(URL, {"companyId": "urn:pact:b.example:company:b", "name": "B", "protocol": "pact"})
    assert explicit.status_code == 201 and explicit.json()["protocol"] == "pact"
    unknown = {"companyId": "urn:pact:c.example:company:c", "name": "C", "protocol": "carrier-pigeon"}
    assert_problem(await api.post(URL, unknown), 422, "protocol")
    assert_problem(await api.patch(f"{URL}/{partner['id']}", {"protocol": "carrier-pigeon"}), 422, "protocol")
    assert_problem(await api.patch(f"{URL}/{partner['id']}", {"protocol": None}), 422, "protocol")
    patched = await api.patch(f"{URL}/{partner['id']}", {"protocol": "pact"})
    assert patched.status_code == 200 and patched.json() == partner
