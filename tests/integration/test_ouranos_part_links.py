"""Remembered part links (decision 0028): the supplier links a held trade for a customer's platform part once; later
trades for that part link themselves and are answered, end to end through the platform, with the verifiers named at
the first link. A removed link stops it, and an automatic link never answers a customer without a grant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy.engine import Engine
from sqlmodel import select

from connector.exchange import grants, outbox, requests
from connector.protocols.ouranos import answering
from connector.storage.ouranos_links import OuranosLink
from connector.storage.part_links import PartLink
from connector.storage.tables import AuditEntry, BomLine, CfpRequest, Grant, OutboxMessage, Product
from tests.integration.network import Router
from tests.integration.ouranos_nodes import PlatformNode, start_node
from tests.integration.test_ouranos_client import (
    CELL,
    CORPORATE,
    PACK,
    ask_for_cell,
    make_cell,
    outgoing,
    partner,
    platform_nodes,
    settled,
    wait_for,
)
from tests.pki import VERIFIER_ID, make_pki

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def nodes(make_db: Callable[[], Engine]) -> AsyncIterator[dict[str, Any]]:
    """pack (our participant, asking) -> platform (a node hosting pack's tenant) -PACT-> cell (the supplier, which
    holds what it cannot match); and a verifier certificate of the dataspace."""
    pki = make_pki("Dataspace", at=datetime.now(UTC) - timedelta(days=1))
    verifier = pki.company(VERIFIER_ID, "verifier", at=datetime.now(UTC) - timedelta(hours=1))
    async with platform_nodes(make_db, PACK, pki) as nodes:
        yield {**nodes, "verifier": verifier.certificate.public_bytes(Encoding.PEM).decode()}


def api(node: PlatformNode) -> httpx.AsyncClient:
    """The node's operator API, as its operator calls it."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=node.app), base_url=node.url, headers={"X-API-Key": node.key}
    )


def incoming(cell: PlatformNode) -> list[CfpRequest]:
    with cell.session() as session:
        return list(
            session.exec(
                select(CfpRequest).where(CfpRequest.direction == "incoming").order_by(CfpRequest.created_at)  # type: ignore[arg-type]
            )
        )


def ask_again(pack: PlatformNode) -> str:
    """The pack maker asks its cell maker again for the same BOM line (the same part on the platform)."""
    with pack.session() as session:
        line = session.exec(select(BomLine).where(BomLine.supplier_company_id == CELL)).one()
        req = requests.request_footprint(pack.ctx(session), line.id, message="again please")
        session.commit()
        return req.event_id


async def first_trade_linked(n: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The first trade, held at the supplier and linked by its operator (with a verifier); answered. Returns our
    cell's product id and the link the supplier's node now remembers."""
    pack, cell = n["pack"], n["cell"]
    cell_id = make_cell(cell)
    event_id = ask_for_cell(pack)
    held = await wait_for(lambda: [r for r in incoming(cell) if r.state == "pending"], "the trade at the supplier")
    assert held[0].product_id is None  # unknown part: it waits for the operator, as before
    async with api(cell) as client:
        linked = await client.post(
            f"/api/v1/requests/{held[0].id}/link", json={"productId": cell_id, "verifierCertificates": [n["verifier"]]}
        )
        assert linked.status_code == 200, linked.text
        listed = (await client.get("/api/v1/part-links")).json()
    assert (await settled(pack, event_id)).state == "fulfilled"
    assert listed["total"] == 1
    return cell_id, listed["items"][0]


async def test_a_second_trade_for_the_part_links_itself_and_is_answered(nodes: dict[str, Any]) -> None:
    pack, cell = nodes["pack"], nodes["cell"]
    cell_id, link = await first_trade_linked(nodes)
    with pack.session() as session:
        trace = session.exec(select(OuranosLink).where(OuranosLink.kind == "trade")).first().trace_id  # type: ignore[union-attr]
    assert link["traceId"] == trace and link["platformUrl"] == nodes["platform"].url
    assert link["companyId"] == PACK and link["productId"] == cell_id and link["verifierCount"] == 1

    event_id = ask_again(pack)
    done = await settled(pack, event_id)  # nobody links it: the remembered link does
    assert done.state == "fulfilled", done.reason
    second = incoming(cell)[-1]
    assert second.state == "fulfilled" and second.product_id == cell_id
    assert second.verifier_certs == [nodes["verifier"]]  # sealed to the verifier named at the first link
    assert "linked automatically" in (second.reason or "")
    with cell.session() as session:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.action == "request.linked").order_by(AuditEntry.seq)  # type: ignore[arg-type]
        ).all()
    assert [e.details.get("automatic", False) for e in entries] == [False, True]
    async with api(cell) as client:
        shown = (await client.get(f"/api/v1/requests/{second.id}")).json()
    assert "linked automatically" in shown["reason"]


async def test_a_removed_link_stops_linking(nodes: dict[str, Any]) -> None:
    pack, cell = nodes["pack"], nodes["cell"]
    cell_id, link = await first_trade_linked(nodes)
    async with api(cell) as client:
        assert (await client.delete(f"/api/v1/part-links/{link['id']}")).status_code == 204
        assert (await client.get(f"/api/v1/part-links/{link['id']}")).status_code == 404
    event_id = ask_again(pack)
    held = await wait_for(lambda: [r for r in incoming(cell) if r.state == "pending"], "the second trade")
    assert held[0].product_id is None  # held for the operator again
    with cell.session() as session:
        product = session.get(Product, cell_id)
        assert product is not None and "urn:uuid:" + link["traceId"] not in product.product_ids
    assert outgoing(pack, event_id).state == "pending"  # type: ignore[union-attr]


async def test_an_automatic_link_never_answers_a_customer_without_a_grant(nodes: dict[str, Any]) -> None:
    pack, cell = nodes["pack"], nodes["cell"]
    cell_id, _ = await first_trade_linked(nodes)
    with cell.session() as session:  # the operator withdraws the pack maker's grant
        grant = session.exec(select(Grant).where(Grant.company_id == PACK)).one()
        grants.revoke_grant(cell.ctx(session), grant.id)
        session.commit()
    event_id = ask_again(pack)
    second = await wait_for(lambda: [r for r in incoming(cell) if r.product_id and r.state == "pending"], "the link")
    # linked (so the operator sees which product), but not answered: the decision is taken as the trade arrives
    assert second[0].product_id == cell_id and "no grant" in (second[0].reason or "")
    with cell.session() as session:
        answers = session.exec(select(OutboxMessage).where(OutboxMessage.kind == outbox.ANSWER)).all()
        assert len(answers) == 1  # the first trade's only
        assert session.exec(select(Grant).where(Grant.company_id == PACK)).first() is None
    assert outgoing(pack, event_id).state == "pending"  # type: ignore[union-attr]
    async with api(cell) as client:  # the operator decides to answer after all: accepting grants
        assert (await client.post(f"/api/v1/requests/{second[0].id}/accept")).status_code == 200
    assert (await settled(pack, event_id)).state == "fulfilled"


async def test_a_trade_polled_from_a_platform_is_remembered_by_its_trace_id(make_db: Callable[[], Engine]) -> None:
    """Our participant's poller path: the trade names the customer's part by partsName and downstreamTraceId; the
    link is kept under the platform's URL and the traceId, never under the part's name (another customer's part of
    the same name is another part)."""
    pki = make_pki("Dataspace", at=datetime.now(UTC) - timedelta(days=1))
    platform = "http://platform.test"
    async with AsyncExitStack() as stack:
        cell = await start_node(
            stack,
            Router(),
            pki,
            make_db,
            CELL,
            "setouchi-cell.test",
            hold_unmatched_requests=True,
            partner_corporate_numbers={PACK: CORPORATE[PACK]},
        )
        partner(cell, PACK, platform, "ouranos", isCustomer=True)
        cell_id = make_cell(cell)
        trace = "0f6e2b1c-9d8a-4e3f-8a7b-6c5d4e3f2a1b"

        def trade(trade_id: str, trace_id: str) -> dict[str, Any]:
            return {
                "tradeModel": {"tradeId": trade_id, "downstreamOperatorId": "op-pack", "downstreamTraceId": trace_id},
                "statusModel": {"message": "CFP please"},
                "partsModel": {"partsName": "Cell A"},
            }

        def record(*trades: dict[str, Any]) -> None:
            with cell.session() as session:
                answering._record(cell.ctx(session), platform, list(trades), {"op-pack": CORPORATE[PACK]})
                session.commit()

        # two trades for the part arrive before the operator links one: linking the first links the other too
        record(trade("11111111-1111-4111-8111-111111111111", trace))
        record(trade("44444444-4444-4444-8444-444444444444", trace))
        first, early = incoming(cell)
        assert first.state == "pending" and first.product_id is None and early.product_id is None
        with cell.session() as session:
            requests.link_product(cell.ctx(session), first.id, cell_id)
            session.commit()
        early = {r.event_id: r for r in incoming(cell)}[early.event_id]
        assert early.state == "fulfilled" and "linked automatically" in (early.reason or "")
        with cell.session() as session:
            link = session.exec(select(PartLink)).one()
            product = session.get(Product, cell_id)
        assert (link.platform_url, link.trace_id, link.parts_name) == (platform, trace, "Cell A")
        assert product is not None and "Cell A" not in product.product_ids  # a platform's part name names nothing

        other_part = "2f6e2b1c-9d8a-4e3f-8a7b-6c5d4e3f2a1b"
        record(
            trade("22222222-2222-4222-8222-222222222222", trace),
            trade("33333333-3333-4333-8333-333333333333", other_part),
        )
        by_trade = {r.event_id: r for r in incoming(cell)}
        again = by_trade["22222222-2222-4222-8222-222222222222"]
        assert again.state == "fulfilled" and again.product_id == cell_id
        same_name = by_trade["33333333-3333-4333-8333-333333333333"]
        assert same_name.state == "pending" and same_name.product_id is None
        with cell.session() as session:
            answers = session.exec(select(OutboxMessage).where(OutboxMessage.kind == outbox.ANSWER)).all()
        assert sorted(a.body["requestId"] for a in answers) == sorted([first.event_id, early.event_id, again.event_id])
