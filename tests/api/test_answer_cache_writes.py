"""The answer caches of the read paths see, at once, a write committed in the process by a Core statement rather
than an ORM flush (decision 0026): a request the outbox gave up on (``fail_request``, a Core UPDATE) is answered
failed by the Ouranos status GET right away, not after the cache's TTL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.api.app import create_app
from connector.exchange import outbox
from connector.protocols.ouranos import mapping
from connector.services import catalog
from connector.services import models as m
from connector.services.context import NodeContext
from connector.storage.tables import OutboxMessage, utcnow

from .conftest import make_settings, seed_keys
from .ouranos_client import CORPORATE, Dts, add_user, part

pytestmark = pytest.mark.asyncio

SUPPLIER = "urn:pact:supplier.example:company:supplier"


@pytest_asyncio.fixture
async def dts(engine: Engine, tmp_path) -> AsyncIterator[Dts]:
    # a TTL far longer than the test: only the write generation can make the cache let go
    settings = make_settings(tmp_path, corporate_number=CORPORATE, pact_read_cache_ttl=3600)
    app = create_app(settings, engine=engine)
    keys = seed_keys(engine)
    add_user(engine, settings)
    with Session(engine) as session:
        partner = {"companyId": SUPPLIER, "name": "Supplier", "nodeUrl": "https://s.test", "isSupplier": True}
        catalog.create_partner(NodeContext(session, settings), m.PartnerCreate.model_validate(partner))
        session.commit()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        d = Dts(client, keys["viewer"], settings)
        assert (await d.login()).status_code == 201
        yield d


async def _status(dts: Dts, trade_id: str) -> dict:
    rows = (await dts.get("status", statusTarget="REQUEST")).json()
    return next(r for r in rows if r["tradeId"] == trade_id)


async def test_a_request_the_outbox_gave_up_on_is_answered_failed_at_once(dts: Dts, engine: Engine) -> None:
    plant = await dts.plant_id()
    trace = (await dts.put("parts", part(dts, plant, "Cell"))).json()["traceId"]
    trade = {
        "tradeModel": {
            "tradeId": None,
            "downstreamOperatorId": dts.operator_id,
            "upstreamOperatorId": mapping.operator_id(SUPPLIER),
            "downstreamTraceId": trace,
            "upstreamTraceId": None,
        },
        "statusModel": {
            "statusId": None,
            "tradeId": None,
            "requestStatus": {},
            "message": "CFP please",
            "replyMessage": None,
            "requestType": "CFP",
            "responseDueDate": "2027-01-31",
        },
    }
    asked = await dts.put("tradeRequest", trade)
    assert asked.status_code == 201, asked.text
    trade_id = asked.json()["tradeModel"]["tradeId"]
    pending = await _status(dts, trade_id)
    assert pending["requestStatus"]["cfpResponseStatus"] == "NOT_COMPLETED"
    assert await _status(dts, trade_id) == pending  # answered again (from the cache)

    with Session(engine) as session:  # the outbox worker giving up, in this process
        message = session.exec(select(OutboxMessage)).one()
        outbox.mark_failed(session, dts.settings, message.id, "403 Forbidden", utcnow(), permanent=True)
        session.commit()

    failed = await _status(dts, trade_id)
    assert failed["requestStatus"]["cfpResponseStatus"] == "REJECT"
    assert "could not be delivered" in failed["replyMessage"] and "403 Forbidden" in failed["replyMessage"]
