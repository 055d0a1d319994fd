"""A commit the database does not confirm answers a retryable 503 problem, never a dropped connection; an
``Idempotency-Key`` makes the retry safe: the write's response is stored in the write's own transaction, so a retry
gets it back when the write was committed, and runs the write when it was not."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from .conftest import assert_problem
from .factories import create_product, product_body

pytestmark = pytest.mark.asyncio


def _lost_connection(monkeypatch) -> None:
    def commit(self):
        raise OperationalError(
            "COMMIT", {}, Exception("server closed the connection unexpectedly"), connection_invalidated=True
        )

    monkeypatch.setattr(Session, "commit", commit)


async def _post(api, url: str, json: object = None, headers: dict[str, str] | None = None):
    return await api.client.post(url, json=json, headers=headers or api.as_("editor"))


async def _products(api) -> int:
    return (await api.get("/api/v1/products")).json()["total"]


async def test_a_commit_on_a_lost_connection_is_a_retryable_503(api, monkeypatch) -> None:
    _lost_connection(monkeypatch)
    # the test client re-raises anything escaping the app: the client gets an answer, not a dropped connection
    resp = await _post(api, "/api/v1/products", product_body())
    body = assert_problem(resp, 503)
    assert int(resp.headers["Retry-After"]) > 0 and "Idempotency-Key" in body["detail"]
    monkeypatch.undo()
    assert await _products(api) == 0


async def test_a_retry_with_the_same_key_returns_the_first_response_without_a_second_write(api) -> None:
    body = product_body()
    first = await _post(api, "/api/v1/products", body, headers={**api.as_("editor"), "Idempotency-Key": "k-1"})
    assert first.status_code == 201, first.text
    again = await _post(api, "/api/v1/products", body, headers={**api.as_("editor"), "Idempotency-Key": "k-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _products(api) == 1
    # the same key for another request is refused; another API key's same key is its own
    other = await _post(
        api, "/api/v1/products", product_body(), headers={**api.as_("editor"), "Idempotency-Key": "k-1"}
    )
    assert_problem(other, 422, "Idempotency-Key")
    mine = await _post(api, "/api/v1/products", body, headers={**api.as_("admin"), "Idempotency-Key": "k-1"})
    assert mine.status_code == 409  # a new execution: the URN is taken by the first product


async def test_a_write_whose_commit_failed_runs_when_retried_with_its_key(api, monkeypatch) -> None:
    body = product_body()
    headers = {**api.as_("editor"), "Idempotency-Key": "k-2"}
    _lost_connection(monkeypatch)
    assert_problem(await _post(api, "/api/v1/products", body, headers=headers), 503)
    monkeypatch.undo()
    retried = await _post(api, "/api/v1/products", body, headers=headers)
    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert await _products(api) == 1


async def test_a_retried_compute_returns_the_version_it_issued(api) -> None:
    product = await create_product(api)
    await _post(api, f"/api/v1/products/{product['id']}/emissions", {"stage": "main_production", "value": "2"})
    url = f"/api/v1/products/{product['id']}/footprints"
    headers = {**api.as_("editor"), "Idempotency-Key": "compute-1"}
    first = await _post(api, url, headers=headers)
    again = await _post(api, url, headers=headers)
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert len((await api.get(url)).json()) == 1


async def test_a_write_returning_a_secret_takes_no_key(api) -> None:
    resp = await _post(
        api,
        "/api/v1/api-keys",
        {"name": "ci", "role": "viewer"},
        headers={**api.as_("admin"), "Idempotency-Key": "k-3"},
    )
    assert_problem(resp, 422, "Idempotency-Key")
