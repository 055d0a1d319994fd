"""Plain request-body factories."""

from __future__ import annotations

import base64
import itertools
from typing import Any

from .conftest import COMPANY

_seq = itertools.count(1)


def product_urn(name: str | None = None) -> str:
    return f"urn:pact:test-node.example:product:{name or f'p{next(_seq)}'}"


def product_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"productIds": [product_urn()], "name": "Test product", "declaredUnit": "kilogram"}
    body.update(overrides)
    return body


def supplier_line(
    supplier: str = "urn:pact:supplier.example:company:supplier",
    product: str = "urn:pact:supplier.example:product:thing",
    quantity: Any = "2",
    unit: str = "kilogram",
    **overrides: Any,
) -> dict[str, Any]:
    body = {
        "kind": "supplier",
        "supplierCompanyId": supplier,
        "supplierProductId": product,
        "quantity": quantity,
        "unit": unit,
    }
    body.update(overrides)
    return body


def own_line(product: str, quantity: Any = "1", unit: str = "kilogram") -> dict[str, Any]:
    return supplier_line(COMPANY, product, quantity, unit)


def secondary_line(**overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "secondary",
        "dataset": "needle coke",
        "quantity": "1.25",
        "unit": "kilogram",
        "factor": "3.2",
        "stage": "raw_material_acquisition",
    }
    body.update(overrides)
    return body


def upstream_body(
    product: str = "urn:pact:supplier.example:product:thing",
    supplier: str = "urn:pact:supplier.example:company:supplier",
    **stages: str,
) -> dict[str, Any]:
    return {
        "supplierCompanyId": supplier,
        "productId": product,
        "declaredUnit": "kilogram",
        "stages": stages or {"raw_material_acquisition": "1.5"},
    }


async def create_product(api, **overrides: Any) -> dict[str, Any]:
    resp = await api.post("/api/v1/products", product_body(**overrides))
    assert resp.status_code == 201, resp.text
    return resp.json()


async def issued_footprint(api, urn: str, value: str = "2.5", **product: Any) -> tuple[str, str]:
    """A product with one direct emission, computed: (product id, footprint id)."""
    body = {
        "productIds": [urn],
        "name": urn.rsplit(":", 1)[1],
        "declaredUnit": "kilogram",
        "plant": {"name": "P", "country": "JP"},
        **product,
    }
    r = await api.post("/api/v1/products", body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert (
        await api.post(f"/api/v1/products/{pid}/emissions", {"stage": "raw_material_acquisition", "value": value})
    ).status_code == 201
    r = await api.post(f"/api/v1/products/{pid}/footprints")
    assert r.status_code == 201, r.text
    return pid, r.json()["footprint"]["id"]


async def pact_bearer(api, company_id: str) -> dict[str, str]:
    """Authorization header of a PACT client made for ``company_id`` (client_secret_basic, then /auth/token)."""
    creds = (await api.post("/api/v1/pact-clients", {"companyId": company_id}, role="admin")).json()
    basic = base64.b64encode(f"{creds['clientId']}:{creds['clientSecret']}".encode()).decode()
    r = await api.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, headers={"authorization": f"Basic {basic}"}
    )
    assert r.status_code == 200, r.text
    return {"authorization": f"Bearer {r.json()['access_token']}"}


def commit_elsewhere(engine: Any, *statements: Any) -> None:
    """Commit ``statements`` as another process would (the CLI on the same database): on the DBAPI connection itself,
    past SQLAlchemy and so past the write generation's engine events, which see every write of this process."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for stmt in statements:
            cursor.execute(str(stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})))
        cursor.close()
        raw.commit()
    finally:
        raw.close()
