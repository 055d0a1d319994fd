"""A text holding U+0000 is a client's error on every back end: PostgreSQL cannot store or compare it, and psycopg's
refusal used to surface as a 500 (operator API, Catena-X, DTS, console alike)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from connector.errors import TextWithNul

from .conftest import Api, assert_problem
from .factories import product_body


@pytest.mark.parametrize(
    "body",
    [
        product_body(name="a\x00b"),
        product_body(productIds=["urn:pact:test-node.example:product:a\x00"]),
        product_body(plant={"name": "P\x00", "country": "JP"}),
    ],
    ids=["name", "urn", "plant"],
)
@pytest.mark.asyncio
async def test_a_nul_in_a_written_text_is_a_400(api: Api, body: dict) -> None:
    body_ = assert_problem(await api.post("/api/v1/products", body), 400)
    assert "NUL" in body_["detail"]
    assert (await api.get("/api/v1/products")).json()["items"] == []


@pytest.mark.asyncio
async def test_a_nul_in_a_looked_up_id_is_a_client_error(api: Api) -> None:
    r = await api.get("/api/v1/products/a%00b")
    assert r.status_code in (400, 404), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("params", [{"v": "a\x00"}, [{"v": "ok"}, {"v": "b\x00"}]], ids=["one", "many"])
def test_every_engine_refuses_it_before_the_database(engine: Engine, params: object) -> None:
    with engine.connect() as conn, pytest.raises(TextWithNul):
        conn.execute(text("select :v"), params)
