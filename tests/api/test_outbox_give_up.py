"""An outgoing request whose RequestCreated event the outbox gave up on is closed as ``failed`` with the reason
(left ``pending`` it waited forever, and asking again only returned it); asking again sends a new one."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import Session, select

from connector.exchange import outbox
from connector.storage.tables import OutboxMessage, utcnow

from .factories import create_product, supplier_line

pytestmark = pytest.mark.asyncio


async def test_an_undeliverable_request_fails_visibly_and_asking_again_sends_again(api) -> None:
    r = await api.post(
        "/api/v1/partners",
        {
            "companyId": "urn:pact:supplier.example:company:supplier",
            "name": "Supplier",
            "nodeUrl": "https://s.test",
            "isSupplier": True,
        },
    )
    assert r.status_code == 201, r.text
    product = await create_product(api)
    line = (await api.post(f"/api/v1/products/{product['id']}/bom", supplier_line())).json()
    first = (await api.post("/api/v1/requests", {"bomLineId": line["id"]})).json()

    def give_up() -> None:
        with Session(api.engine) as session:
            message = session.exec(select(OutboxMessage)).one()
            outbox.mark_failed(session, api.settings, message.id, "403 Forbidden", utcnow(), permanent=True)
            session.commit()

    await asyncio.to_thread(give_up)
    got = (await api.get(f"/api/v1/requests/{first['id']}")).json()
    assert got["state"] == "failed"
    assert "could not be delivered" in got["reason"] and "403 Forbidden" in got["reason"]
    listed = (await api.get("/api/v1/requests", params={"state": "failed"})).json()
    assert [x["id"] for x in listed["items"]] == [first["id"]]
    audit = (await api.get("/api/v1/audit", params={"limit": 500})).json()["items"]
    assert [e["subject"] for e in audit if e["action"] == "request.failed"] == [first["eventId"]]

    again = await api.post("/api/v1/requests", {"bomLineId": line["id"]})
    assert again.status_code == 201 and again.json()["id"] != first["id"] and again.json()["state"] == "pending"
    pending = (await api.get("/api/v1/outbox", params={"state": "pending"})).json()["items"]
    assert len(pending) == 1  # the new request's event, to be sent
