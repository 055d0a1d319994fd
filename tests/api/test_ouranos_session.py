"""A scripted Ouranos session between two nodes, each serving the DTS API for its company and exchanging with the
other over PACT: the downstream registers parts and a structure and asks for the CFP of a bought part; the upstream
links its own part and writes its CFP; the downstream reads it (signed and verified on the way), and its own
product's CFP includes it. Then a cancelled and a rejected request. With ``CONNECTOR_DTS_OPENAPI`` set, every
response is validated against the official response schema (tests/ouranos_spec.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.api.app import create_app
from connector.config import Settings
from connector.identity import TrustStore
from connector.services import api_keys, catalog
from connector.services import models as m
from connector.services.context import NodeContext
from connector.services.identity import NodeIdentity
from tests import ouranos_spec
from tests.integration.network import Router
from tests.pki import make_pki

from .ouranos_client import Dts, add_user, cfp_body, part

pytestmark = pytest.mark.asyncio

PACK = "urn:pact:kyushu-pack.example:company:kyushu-pack"
CELL = "urn:pact:setouchi-cell.example:company:setouchi-cell"
CORPORATE = {PACK: "1111111111111", CELL: "2222222222222"}
HOST = {PACK: "kyushu-pack.test", CELL: "setouchi-cell.test"}


@pytest_asyncio.fixture
async def pair(make_db: Callable[[], Engine]) -> AsyncIterator[dict[str, Dts]]:
    now = datetime.now(UTC)
    pki = make_pki("Dataspace", at=now - timedelta(days=1))
    router = Router()
    out: dict[str, Dts] = {}
    async with AsyncExitStack() as stack:
        for cid, other in ((PACK, CELL), (CELL, PACK)):
            issued = pki.company(cid, "supplier", name=cid.rsplit(":", 1)[-1], at=now - timedelta(hours=1))
            identity = NodeIdentity(
                key=issued.key,
                chain=list(issued.chain),
                trust=TrustStore([pki.root.certificate], intermediates=[pki.inter.certificate]),
            )
            settings = Settings(
                company_id=cid,
                company_name=cid.rsplit(":", 1)[-1],
                public_url=f"http://{HOST[cid]}",
                outbox_base_delay=0.05,
                outbox_max_delay=0.2,
                corporate_number=CORPORATE[cid],
                partner_corporate_numbers={other: CORPORATE[other]},
                hold_unmatched_requests=True,
            )
            engine = make_db()
            app = create_app(settings, engine=engine, identity=identity, transport=router)
            await stack.enter_async_context(app.router.lifespan_context(app))
            router.apps[HOST[cid]] = httpx.ASGITransport(app=app)
            with Session(engine, expire_on_commit=False) as session:
                ctx = NodeContext(session, settings, identity)
                _, key = api_keys.create_key(session, "ouranos app", "viewer")
                catalog.create_partner(
                    ctx,
                    m.PartnerCreate.model_validate(
                        {
                            "companyId": other,
                            "name": other.rsplit(":", 1)[-1],
                            "nodeUrl": f"http://{HOST[other]}",
                            "isSupplier": cid == PACK,
                            "isCustomer": cid == CELL,
                        }
                    ),
                )
                session.commit()
            add_user(engine, settings)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{HOST[cid]}")
            await stack.enter_async_context(client)
            dts = Dts(client, key, settings)
            assert (await dts.login()).status_code == 201
            out[cid] = dts
        yield out


async def wait_for(check: Callable, what: str, timeout: float = 20.0) -> object:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = await check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def values(rows: list[dict]) -> dict[str, Decimal]:
    return {r["cfpType"]: Decimal(str(r["ghgEmission"])) for r in rows}


async def ask(down: Dts, up_operator: str, child: str, message: str) -> dict:
    body = {
        "tradeModel": {
            "tradeId": None,
            "downstreamOperatorId": down.operator_id,
            "upstreamOperatorId": up_operator,
            "downstreamTraceId": child,
            "upstreamTraceId": None,
        },
        "statusModel": {
            "statusId": None,
            "tradeId": None,
            "requestStatus": {},
            "message": message,
            "replyMessage": None,
            "requestType": "CFP",
            "responseDueDate": "2027-01-31",
        },
    }
    resp = await down.put("tradeRequest", body)
    assert resp.status_code == 201, resp.text
    return resp.json()


async def received(up: Dts, trade_id: str) -> dict | None:
    rows = (await up.get("tradeResponse")).json()
    return next((r for r in rows if r["tradeModel"]["tradeId"] == trade_id), None)


async def test_scripted_ouranos_session(pair: dict[str, Dts]) -> None:
    down, up = pair[PACK], pair[CELL]
    # the downstream finds its supplier by corporate number
    cell = (await down.auth_info("GET", "operator", openOperatorId=CORPORATE[CELL])).json()
    assert cell["operatorAttribute"]["globalOperatorId"] == CELL
    listed = (await down.auth_info("GET", "operator", operatorIds=cell["operatorId"])).json()
    assert [o["openOperatorId"] for o in listed] == [CORPORATE[CELL]]
    # parts and structure: a pack of 4 cells (bought), 2 kg of housing (own)
    plant = await down.plant_id()
    structure = {
        "parentPartsModel": part(down, plant, "Pack-75", unit="unit"),
        "childrenPartsModel": [
            part(down, plant, "Cell-P100", unit="unit", amount=4),
            part(down, plant, "Housing", unit="kilogram", amount=2, terminated=True),
        ],
    }
    made = (await down.put("partsStructure", structure)).json()
    pack, cell_part, housing = (
        made["parentPartsModel"]["traceId"],
        made["childrenPartsModel"][0]["traceId"],
        made["childrenPartsModel"][1]["traceId"],
    )
    assert (await down.put("cfp", cfp_body(housing, {"preProduction": 3, "mainProduction": 1}))).status_code == 201
    # the request for the cell's CFP
    asked = await ask(down, cell["operatorId"], cell_part, "CFP for Pack-75 please")
    trade_id = asked["tradeModel"]["tradeId"]
    assert asked["statusModel"]["requestStatus"]["cfpResponseStatus"] == "NOT_COMPLETED"
    assert asked["tradeModel"]["upstreamTraceId"] is None
    # the upstream sees it, with the downstream's amount withheld
    seen = await wait_for(lambda: received(up, trade_id), "the request at the upstream")
    assert seen["partsModel"]["amountRequired"] is None
    assert seen["tradeModel"]["downstreamTraceId"] == cell_part
    assert seen["statusModel"]["message"] == "CFP for Pack-75 please"
    # it links its own part and writes its CFP
    up_plant = await up.plant_id()
    own = (await up.put("parts", part(up, up_plant, "P100Ah", unit="unit"))).json()["traceId"]
    linked = await up.put("tradeResponse", tradeId=trade_id, traceId=own)
    assert linked.status_code == 201 and linked.json()["upstreamTraceId"] == own
    wrote = await up.put("cfp", cfp_body(own, {"preProduction": 10.5, "mainProduction": 2.25}, unit="kgCO2e/unit"))
    assert wrote.status_code == 201, wrote.text

    # the downstream's status completes and it reads the CFP
    async def completed() -> bool:
        rows = (await down.get("status", statusTarget="REQUEST")).json()
        return any(r["tradeId"] == trade_id and r["requestStatus"]["cfpResponseStatus"] == "COMPLETED" for r in rows)

    await wait_for(completed, "the answer at the downstream")
    child = values((await down.get("cfp", traceIds=cell_part)).json())
    assert child["preProductionResponse"] == Decimal("10.5")
    assert child["mainProductionResponse"] == Decimal("2.25")
    trades = (await down.get("tradeRequest", traceIds=cell_part)).json()
    assert [t["tradeId"] for t in trades] == [trade_id] and trades[0]["upstreamTraceId"]
    # its own product: writing its own values computes it, the cells' values times 4 as components
    assert (
        await down.put("cfp", cfp_body(pack, {"preProduction": 0.5, "mainProduction": 1}, unit="kgCO2e/unit"))
    ).status_code == 201
    totals = values((await down.get("cfp", traceIds=pack)).json())
    assert totals["preProduction"] == Decimal("0.5") and totals["mainProduction"] == Decimal(1)
    assert totals["preComponent"] == Decimal("10.5") * 4 + 3 * 2
    assert totals["mainComponent"] == Decimal("2.25") * 4 + 1 * 2
    # the proof came along: the upstream's attestation is a certification file of the bought part
    certs = (await down.get("cfpCertification", traceId=cell_part)).json()
    info = certs[0]["cfpCertificationFileInfo"][0]
    assert info["operatorId"] == cell["operatorId"]
    file = await down.client.get(
        f"/api/v1/datatransport/cfpCertificationFiles/{info['fileId']}", headers=down.headers()
    )
    assert file.status_code == 200 and file.headers["content-type"] == "application/vnd.cfp-connector.attestation+json"
    proof = file.json()
    assert proof["sdJwt"].count("~") >= 1 and "evidence" in proof  # the SD-JWT (and evidence when sealed to us)
    anonymous = await down.client.get(f"/api/v1/datatransport/cfpCertificationFiles/{info['fileId']}")
    assert anonymous.status_code == 403

    # a new version of the supplier's value flows down unasked: announced, fetched, and filed under our part's id
    again = cfp_body(own, {"preProduction": 11, "mainProduction": 2.25}, unit="kgCO2e/unit")
    assert (await up.put("cfp", again)).status_code == 201

    async def updated() -> bool:
        return values((await down.get("cfp", traceIds=cell_part)).json()).get("preProductionResponse") == Decimal(11)

    await wait_for(updated, "the new version at the downstream")

    # cancel: the downstream withdraws a second request
    other = (await down.put("parts", part(down, plant, "Cell-spare", unit="unit"))).json()["traceId"]
    second = await ask(down, cell["operatorId"], other, "spare cells")
    status = second["statusModel"]
    cancel = dict(status, requestStatus={"cfpResponseStatus": "CANCEL", "tradeTreeStatus": "UNTERMINATED"})
    assert (await down.put("status", cancel)).status_code == 201
    rows = (await down.get("status", statusId=status["statusId"])).json()
    assert rows[0]["requestStatus"]["cfpResponseStatus"] == "CANCEL"

    # reject: the upstream refuses a third, with a reply message the downstream reads
    third_part = (await down.put("parts", part(down, plant, "Cell-other", unit="unit"))).json()["traceId"]
    third = await ask(down, cell["operatorId"], third_part, "other cells")
    third_id = third["tradeModel"]["tradeId"]
    at_up = await wait_for(lambda: received(up, third_id), "the third request at the upstream")
    reject = dict(
        at_up["statusModel"],
        replyMessage="we do not make that cell",
        requestStatus={"cfpResponseStatus": "REJECT", "tradeTreeStatus": "UNTERMINATED"},
    )
    assert (await up.put("status", reject)).status_code == 201

    async def rejected() -> dict | None:
        rows = (await down.get("status", statusTarget="REQUEST", traceId=third_part)).json()
        return next((r for r in rows if r["requestStatus"]["cfpResponseStatus"] == "REJECT"), None)

    got = await wait_for(rejected, "the rejection at the downstream")
    assert "we do not make that cell" in got["replyMessage"]
    if ouranos_spec.spec() is not None:
        assert len(down.checked) + len(up.checked) > 20
