"""``/api/v1/part-links`` (decision 0028): linking a held trade for a platform's part remembers the link; the operator
lists, changes and removes it. Bad input is problem+json."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from connector.storage.tables import CfpRequest

from .conftest import Api, assert_problem
from .factories import create_product

pytestmark = pytest.mark.asyncio

CUSTOMER = "urn:pact:kyushu-pack.example:company:kyushu-pack"
PLATFORM = "https://dts.platform.example"
TRACE = "0f6e2b1c-9d8a-4e3f-8a7b-6c5d4e3f2a1b"


def held_request(api: Api, product_ids: list[str]) -> str:
    with Session(api.engine, expire_on_commit=False) as session:
        row = CfpRequest(direction="incoming", event_id="evt-1", company_id=CUSTOMER, product_ids=product_ids)
        session.add(row)
        session.commit()
        return row.id


async def linked(api: Api) -> tuple[dict, dict]:
    """A held trade for the customer's platform part, linked to a product of ours: (the product, the link)."""
    r = await api.post("/api/v1/partners", {"companyId": CUSTOMER, "name": "Pack", "nodeUrl": PLATFORM})
    assert r.status_code == 201, r.text
    product = await create_product(api)
    request_id = held_request(api, [f"urn:uuid:{TRACE.upper()}"])
    r = await api.post(f"/api/v1/requests/{request_id}/link", {"productId": product["id"]})
    assert r.status_code == 200, r.text
    page = (await api.get("/api/v1/part-links")).json()
    assert page["total"] == 1
    return product, page["items"][0]


async def test_linking_a_trade_for_a_platform_part_remembers_it(api: Api) -> None:
    assert (await api.get("/api/v1/part-links")).json()["total"] == 0
    product, link = await linked(api)
    assert link["platformUrl"] == PLATFORM and link["traceId"] == TRACE  # the traceId as DTS writes it
    assert link["companyId"] == CUSTOMER and link["productId"] == product["id"] and link["verifierCount"] == 0
    assert (await api.get(f"/api/v1/part-links/{link['id']}")).json() == link


async def test_a_request_naming_no_platform_part_remembers_nothing(api: Api) -> None:
    await api.post("/api/v1/partners", {"companyId": CUSTOMER, "name": "Pack", "nodeUrl": PLATFORM})
    product = await create_product(api)
    request_id = held_request(api, ["urn:ouranos:part:not-a-trace-id"])
    assert (await api.post(f"/api/v1/requests/{request_id}/link", {"productId": product["id"]})).status_code == 200
    assert (await api.get("/api/v1/part-links")).json()["total"] == 0


async def test_the_operator_points_a_link_at_another_product(api: Api) -> None:
    first, link = await linked(api)
    second = await create_product(api, productIds=["urn:pact:test.example:product:other"], name="Other")
    r = await api.patch(f"/api/v1/part-links/{link['id']}", {"productId": second["id"], "verifierCertificates": []})
    assert r.status_code == 200, r.text
    assert r.json()["productId"] == second["id"]
    # the part's id no longer names the first product, or the first would still match the next trade
    got = (await api.get(f"/api/v1/products/{first['id']}")).json()
    assert all(TRACE not in urn.lower() for urn in got["productIds"])


async def test_part_link_errors_are_problems(api: Api) -> None:
    _, link = await linked(api)
    url = f"/api/v1/part-links/{link['id']}"
    assert_problem(await api.get("/api/v1/part-links/no-such-link"), 404)
    assert_problem(await api.patch("/api/v1/part-links/no-such-link", {"verifierCertificates": []}), 404)
    assert_problem(await api.delete("/api/v1/part-links/no-such-link"), 404)
    assert_problem(await api.patch(url, {"productId": "no-such-product"}), 404)
    assert_problem(await api.patch(url, {"productId": None}), 422, "productId")
    assert_problem(await api.patch(url, {"verifierCertificates": "PEM"}), 422, "verifierCertificates")
    assert_problem(await api.patch(url, {"x": 1}), 422)
    assert_problem(await api.patch(url, {"verifierCertificates": []}, role="viewer"), 403)
    assert_problem(await api.delete(url, role="viewer"), 403)
    assert (await api.delete(url)).status_code == 204
    assert_problem(await api.get(url), 404)


async def test_two_first_links_of_one_part_at_once_are_a_conflict_not_a_500(api: Api, monkeypatch) -> None:
    """Two held trades for one part linked at the same moment: both read "no link yet", the second to commit
    collides on the part's unique key. It gets a 409 it can retry, and nothing of it is kept."""
    from connector.exchange import part_links

    await api.post("/api/v1/partners", {"companyId": CUSTOMER, "name": "Pack", "nodeUrl": PLATFORM})
    product = await create_product(api)
    first = held_request(api, [f"urn:uuid:{TRACE}"])
    second = held_request(api, [f"urn:uuid:{TRACE}"])
    assert (await api.post(f"/api/v1/requests/{first}/link", {"productId": product["id"]})).status_code == 200
    monkeypatch.setattr(part_links.store, "of_part", lambda *_: None)  # as if read before the first committed
    assert_problem(await api.post(f"/api/v1/requests/{second}/link", {"productId": product["id"]}), 409)
    monkeypatch.undo()
    assert (await api.get(f"/api/v1/requests/{second}")).json()["state"] == "pending"  # rolled back, not lost
    assert (await api.get("/api/v1/part-links")).json()["total"] == 1
