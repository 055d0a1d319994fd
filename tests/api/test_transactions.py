"""One transaction per request, committed before the response is sent."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import Session

from .conftest import assert_problem
from .factories import create_product, product_body

pytestmark = pytest.mark.asyncio


async def test_failed_commit_is_an_error_not_a_success(api, monkeypatch):
    def failing_commit(self):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Session, "commit", failing_commit)
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
        resp = await client.post("/api/v1/products", json=product_body(), headers=api.as_("editor"))
    assert resp.status_code == 500
    monkeypatch.undo()
    assert (await api.get("/api/v1/products")).json()["total"] == 0


async def test_error_rolls_back_earlier_writes_of_the_request(api):
    """A BOM line refused after the product row was loaded leaves nothing behind (one transaction)."""
    a = await create_product(api)
    resp = await api.post(
        f"/api/v1/products/{a['id']}/bom",
        {
            "kind": "supplier",
            "supplierCompanyId": api.settings.company_id,
            "supplierProductId": a["productIds"][0],
            "quantity": "1",
            "unit": "kilogram",
        },
    )
    assert_problem(resp, 422)
    assert (await api.get(f"/api/v1/products/{a['id']}/bom")).json() == []
