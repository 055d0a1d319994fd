"""The "exactly one" rules hold under real concurrency: each writer in its own thread, session and connection,
released together. On PostgreSQL (several connections write at once) concurrent computes once forked a product's
versions; SQLite serialises writers, and runs the same tests as a check."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import Session, select

from connector.api import schemas as s
from connector.exchange import grants, propagation, requests
from connector.services import footprints
from connector.services.context import NodeContext
from connector.storage.tables import CfpRequest, Footprint, Grant, UpstreamFootprint

from .factories import create_product, supplier_line, upstream_body

pytestmark = pytest.mark.asyncio

WRITERS = 4
ROUNDS = 5
CUSTOMER = "urn:pact:customer.example:company:customer"
SUPPLIER = "urn:pact:supplier.example:company:supplier"


def _together(api, work: Callable[[NodeContext], Any], writers: int = WRITERS) -> list[Any]:
    """Run ``work`` in ``writers`` threads at once, each in its own session, committed; what each returned or
    raised."""
    barrier = threading.Barrier(writers)
    results: list[Any] = [None] * writers

    def one(i: int) -> None:
        with Session(api.engine, expire_on_commit=False) as session:
            ctx = NodeContext(session, api.settings)
            barrier.wait()
            try:
                results[i] = work(ctx)
                session.commit()
            except Exception as exc:  # noqa: BLE001 - reported to the test
                session.rollback()
                results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _rows(api, model: Any, *where: Any) -> list[Any]:
    with Session(api.engine, expire_on_commit=False) as session:
        return list(session.exec(select(model).where(*where)))


async def test_concurrent_computes_never_fork_a_products_versions(api) -> None:
    product = await create_product(api)
    for round_ in range(ROUNDS):
        r = await api.post(
            f"/api/v1/products/{product['id']}/emissions", {"stage": "main_production", "value": f"1.{round_ + 1}"}
        )
        assert r.status_code == 201, r.text
        results = await asyncio.to_thread(
            _together, api, lambda ctx: propagation.compute_and_publish(ctx, product["id"])
        )
        assert not [r for r in results if isinstance(r, BaseException)], results
        assert sum(1 for _, changed in results if changed) == 1  # one caller issued it; the others got it back
        versions = _rows(api, Footprint, Footprint.product_id == product["id"])
        active = [f for f in versions if f.status == "Active"]
        assert len(active) == 1, [(f.version, f.status, f.preceding_ids) for f in versions]
        assert sorted(f.version for f in versions) == list(range(1, round_ + 2))
        assert active[0].version == round_ + 1
        assert {fp.id for fp, _ in results} == {active[0].id}


async def test_concurrent_grants_of_one_pair_make_one_grant(api) -> None:
    product = await create_product(api)
    results = await asyncio.to_thread(_together, api, lambda ctx: grants.grant(ctx, product["id"], CUSTOMER).id)
    assert not [r for r in results if isinstance(r, BaseException)], results
    made = _rows(api, Grant, Grant.product_id == product["id"])
    assert len(made) == 1 and set(results) == {made[0].id}


async def test_concurrent_requests_for_one_line_open_one_request(api) -> None:
    product = await create_product(api)
    r = await api.post(
        "/api/v1/partners", {"companyId": SUPPLIER, "name": "Supplier", "nodeUrl": "https://s.test", "isSupplier": True}
    )
    assert r.status_code == 201, r.text
    line = (await api.post(f"/api/v1/products/{product['id']}/bom", supplier_line())).json()
    results = await asyncio.to_thread(_together, api, lambda ctx: requests.request_footprint(ctx, line["id"]).id)
    assert not [r for r in results if isinstance(r, BaseException)], results
    pending = _rows(api, CfpRequest, CfpRequest.bom_line_id == line["id"], CfpRequest.state == "pending")
    assert len(pending) == 1 and set(results) == {pending[0].id}


async def test_concurrent_answers_for_one_supplier_product_leave_one_active(api) -> None:
    body = s.UpstreamFootprintCreate.model_validate(upstream_body())
    results = await asyncio.to_thread(_together, api, lambda ctx: footprints.record_upstream(ctx, body).footprint_id)
    assert not [r for r in results if isinstance(r, BaseException)], results
    held = _rows(api, UpstreamFootprint)
    assert len(held) == WRITERS and sum(1 for u in held if u.status == "Active") == 1
