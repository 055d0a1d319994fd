"""Our node as a participant on an Ouranos platform, against our own DTS server (decision 0022).

The platform is a node of ours serving the DTS API for the participant's company (its tenant there); the other
company reaches that platform node over PACT. Asking: the participant's request goes out as a tradeRequest, the
supplier links its part and answers, and the participant reads the CFP with its certification file: the attested
footprint, exact, with its sealed evidence. Without the file the values never enter as attested. Answering: the
participant polls tradeResponse, links its product and writes its CFP; the customer gets it from the platform.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import select

from connector.exchange import propagation, requests
from connector.protocols.ouranos import asking, mapping
from connector.services import catalog
from connector.services import models as m
from connector.storage.ouranos_links import OuranosLink
from connector.storage.tables import CfpRequest, UpstreamFootprint
from tests.integration.network import Router
from tests.integration.ouranos_nodes import PlatformNode, login_for, start_node
from tests.pki import make_pki

pytestmark = pytest.mark.asyncio

PACK = "urn:pact:kyushu-pack.example:company:kyushu-pack"
CELL = "urn:pact:setouchi-cell.example:company:setouchi-cell"
CELL_URN = "urn:pact:setouchi-cell.example:product:p100"
CORPORATE = {PACK: "1111111111111", CELL: "2222222222222"}
HOST = {PACK: "kyushu-pack.test", CELL: "setouchi-cell.test"}
ROLE = {PACK: "isCustomer", CELL: "isSupplier"}
RAW, MAIN, DIST = "raw_material_acquisition", "main_production", "distribution"


async def wait_for(check: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = await asyncio.to_thread(check)
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def partner(node: PlatformNode, company: str, url: str, protocol: str, **flags: bool) -> None:
    with node.session() as session:
        body = {"companyId": company, "name": company.rsplit(":", 1)[-1], "nodeUrl": url, "protocol": protocol}
        body.update({k: v for k, v in flags.items()})
        catalog.create_partner(node.ctx(session), m.PartnerCreate.model_validate(body))
        session.commit()


def make_cell(node: PlatformNode) -> str:
    """The supplier's cell, computed: values with more decimals than Ouranos carries, and a distribution stage."""
    with node.session() as session:
        ctx = node.ctx(session)
        product = catalog.create_product(
            ctx,
            m.ProductCreate.model_validate({"productIds": [CELL_URN], "name": "Cell P100", "declaredUnit": "piece"}),
        )
        for stage, value in ((RAW, "10.1234567"), (MAIN, "2.25"), (DIST, "0.5")):
            catalog.add_emission(ctx, product.id, m.EmissionCreate.model_validate({"stage": stage, "value": value}))
        propagation.compute_and_publish(ctx, product.id)
        session.commit()
        return product.id


def ask_for_cell(node: PlatformNode) -> str:
    """The customer's pack of 4 cells: the request for the cell's footprint; its event id."""
    with node.session() as session:
        ctx = node.ctx(session)
        pack = catalog.create_product(
            ctx,
            m.ProductCreate.model_validate(
                {
                    "productIds": ["urn:pact:kyushu-pack.example:product:pack-75"],
                    "name": "Pack 75",
                    "declaredUnit": "piece",
                }
            ),
        )
        line = catalog.add_bom_line(
            ctx,
            pack.id,
            m.SupplierLineCreate.model_validate(
                {"supplierCompanyId": CELL, "supplierProductId": CELL_URN, "quantity": "4", "unit": "piece"}
            ),
        )
        req = requests.request_footprint(ctx, line.id, message="CFP of the P100 cell please")
        session.commit()
        return req.event_id


def outgoing(node: PlatformNode, event_id: str) -> CfpRequest | None:
    with node.session() as session:
        return session.exec(
            select(CfpRequest).where(CfpRequest.event_id == event_id, CfpRequest.direction == "outgoing")
        ).first()


def upstream(node: PlatformNode) -> UpstreamFootprint | None:
    with node.session() as session:
        return session.exec(select(UpstreamFootprint).where(UpstreamFootprint.supplier_company_id == CELL)).first()


@asynccontextmanager
async def platform_nodes(
    make_db: Callable[[], Engine], participant: str, pki: Any = None, **participant_flags: bool
) -> AsyncIterator[dict[str, PlatformNode]]:
    """pack, cell and ``platform``, a node hosting the tenant of ``participant`` (pack or cell), which reaches it
    with its login there; the other company is a PACT node that the platform reaches over PACT. Whichever node answers
    for the cell over PACT (the cell, or the platform when the cell is the participant) holds requests it cannot
    match. ``participant_flags`` go on the participant's partner entry for the other company; ``pki``, the dataspace's
    (a new one by default)."""
    other = CELL if participant == PACK else PACK
    numbers = {other: CORPORATE[other]}
    holds: dict[str, Any] = {"hold_unmatched_requests": True}
    pki = pki or make_pki("Dataspace", at=datetime.now(UTC) - timedelta(days=1))
    router = Router()
    async with AsyncExitStack() as stack:
        platform = await start_node(
            stack,
            router,
            pki,
            make_db,
            participant,
            "platform.test",
            corporate_number=CORPORATE[participant],
            partner_corporate_numbers=numbers,
            **(holds if participant == CELL else {}),
        )
        node: dict[str, PlatformNode] = {}
        for company in (CELL, PACK):
            if company == participant:
                settings = {"ouranos_platforms": login_for(platform), "partner_corporate_numbers": numbers}
            else:
                settings = holds if company == CELL else {}
            node[company] = await start_node(stack, router, pki, make_db, company, HOST[company], **settings)
        partner(platform, other, node[other].url, "pact", **{ROLE[other]: True})
        partner(node[participant], other, platform.url, "ouranos", **{ROLE[other]: True}, **participant_flags)
        partner(node[other], participant, platform.url, "pact", **{ROLE[participant]: True})
        yield {"pack": node[PACK], "platform": platform, "cell": node[CELL]}


@pytest_asyncio.fixture
async def asking_nodes(make_db: Callable[[], Engine]) -> AsyncIterator[dict[str, PlatformNode]]:
    """pack (our participant, asking) -> platform (a node hosting pack's tenant) -PACT-> cell (the supplier)."""
    async with platform_nodes(make_db, PACK) as nodes:
        yield nodes


async def settled(pack: PlatformNode, event_id: str, what: str = "answer") -> CfpRequest:
    """The pack's outgoing request ``event_id`` once it is no longer pending."""
    return await wait_for(lambda: (r := outgoing(pack, event_id)) is not None and r.state != "pending" and r, what)


def held_request(cell: PlatformNode) -> CfpRequest | None:
    with cell.session() as session:
        return session.exec(
            select(CfpRequest).where(CfpRequest.direction == "incoming", CfpRequest.state == "pending")
        ).first()


def link_at_supplier(cell: PlatformNode, request_id: str, product_id: str) -> None:
    """The supplier links its own part to the trade (what PUT tradeResponse does on its side)."""
    with cell.session() as session:
        requests.link_product(cell.ctx(session), request_id, product_id)
        session.commit()


async def test_asking_reads_the_attested_footprint_exactly(asking_nodes: dict[str, PlatformNode]) -> None:
    pack, cell = asking_nodes["pack"], asking_nodes["cell"]
    cell_id = make_cell(cell)
    event_id = ask_for_cell(pack)
    # the request reaches the supplier through the platform: a trade for the part pack registered there
    held = await wait_for(lambda: held_request(cell), "the request at the supplier")
    assert held.message == "CFP of the P100 cell please"
    with pack.session() as session:
        link = session.exec(select(OuranosLink).where(OuranosLink.local_id == event_id)).one()
    assert held.product_ids == [mapping.PART_URN + link.trace_id]
    link_at_supplier(cell, held.id, cell_id)
    done = await settled(pack, event_id, "answer")
    assert done.state == "fulfilled", done.reason
    got = upstream(pack)
    assert got is not None and got.basis == "attested" and got.attestation
    assert got.product_id == CELL_URN  # filed under the id our bill of materials asks for
    # exact: the attested values, not the platform's 5 decimals; and the stage Ouranos lacks came along
    assert Decimal(got.stages[RAW]) == Decimal("10.1234567")
    assert Decimal(got.stages[DIST]) == Decimal("0.5")
    # the proof is the supplier's own: the attestation it issued to us, as the platform received it
    at_platform = upstream(asking_nodes["platform"])
    assert at_platform is not None and got.attestation == at_platform.attestation
    assert got.evidence == at_platform.evidence


async def test_without_a_certification_file_values_are_never_attested(
    asking_nodes: dict[str, PlatformNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_files(dts: Any, trace: str) -> list[dict[str, Any]]:
        return []

    monkeypatch.setattr(asking, "_proofs", no_files)
    pack, cell = asking_nodes["pack"], asking_nodes["cell"]
    cell_id = make_cell(cell)
    event_id = ask_for_cell(pack)
    held = await wait_for(lambda: held_request(cell), "the request at the supplier")
    link_at_supplier(cell, held.id, cell_id)
    done = await settled(pack, event_id, "answer")
    got = upstream(pack)
    assert done.state == "fulfilled", done.reason
    # issue 17: stored as an entered value, with where it came from, never as attested
    assert got is not None and got.basis == "entered" and got.attestation is None
    assert got.source_kind == "ouranos-partner" and got.entered_by == f"partner:{CELL}"
    assert got.product_id == CELL_URN
    assert Decimal(got.stages[RAW]) == Decimal("10.12346")  # as the platform carries it
    assert Decimal(got.stages[DIST]) == 0  # a stage Ouranos does not have


async def test_a_rejection_on_the_platform_rejects_the_request(asking_nodes: dict[str, PlatformNode]) -> None:
    pack, cell = asking_nodes["pack"], asking_nodes["cell"]
    event_id = ask_for_cell(pack)
    held = await wait_for(lambda: held_request(cell), "the request at the supplier")
    with cell.session() as session:
        requests.reject_request(cell.ctx(session), held.id, "we do not make that cell", "NotFound")
        session.commit()
    done = await settled(pack, event_id, "reject")
    assert done.state == "rejected"
    assert "we do not make that cell" in (done.reason or "")


async def test_a_platform_without_our_login_fails_the_request(make_db: Callable[[], Engine]) -> None:
    pki = make_pki("Dataspace", at=datetime.now(UTC) - timedelta(days=1))
    router = Router()
    async with AsyncExitStack() as stack:
        pack = await start_node(stack, router, pki, make_db, PACK, HOST[PACK])
        partner(pack, CELL, "http://platform.test", "ouranos", isSupplier=True)
        event_id = ask_for_cell(pack)
        done = await settled(pack, event_id, "x")
        assert done.state == "failed"
        assert "CONNECTOR_OURANOS_PLATFORMS" in (done.reason or "")


@pytest_asyncio.fixture
async def answering_nodes(make_db: Callable[[], Engine]) -> AsyncIterator[dict[str, PlatformNode]]:
    """pack (a PACT node, asking) -PACT-> platform (a node hosting cell's tenant) <- cell (our participant)."""
    async with platform_nodes(make_db, CELL, autoFulfil=True) as nodes:
        yield nodes


async def test_answering_links_our_part_and_writes_our_cfp(answering_nodes: dict[str, PlatformNode]) -> None:
    pack, cell = answering_nodes["pack"], answering_nodes["cell"]
    make_cell(cell)
    event_id = ask_for_cell(pack)
    done = await settled(pack, event_id, "answer")
    assert done.state == "fulfilled", done.reason
    # the participant recorded the trade as a request it received, and answered it
    with cell.session() as session:
        received = session.exec(select(CfpRequest).where(CfpRequest.direction == "incoming")).one()
        part = session.exec(select(OuranosLink).where(OuranosLink.kind == "part")).one()
    assert received.protocol == "ouranos" and received.state == "fulfilled"
    assert received.message == "CFP of the P100 cell please"
    got = upstream(pack)
    assert got is not None and got.basis == "attested"
    # the platform signed what our CFP said there: Ouranos' two stages, at its 5 decimals
    assert Decimal(got.stages[RAW]) == Decimal("10.12346")
    assert Decimal(got.stages[MAIN]) == Decimal("2.25")
    assert part.trace_id


async def test_a_proof_file_that_fails_verification_refuses_the_answer(
    asking_nodes: dict[str, PlatformNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certification file that does not verify is never dropped for the unsigned values: the answer is refused."""

    async def forged(dts: Any, trace: str) -> list[dict[str, Any]]:
        return [{"sdJwt": "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl~", "evidence": None, "certifications": []}]

    monkeypatch.setattr(asking, "_proofs", forged)
    pack, cell = asking_nodes["pack"], asking_nodes["cell"]
    cell_id = make_cell(cell)
    event_id = ask_for_cell(pack)
    held = await wait_for(lambda: held_request(cell), "the request at the supplier")
    link_at_supplier(cell, held.id, cell_id)
    done = await settled(pack, event_id, "answer")
    assert done.state == "refused", done.reason
    assert upstream(pack) is None
