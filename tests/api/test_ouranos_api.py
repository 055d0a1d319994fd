"""The Ouranos DTS API of one node: credentials, errors in DTS's form, parts and structures, CFP, operator and
plants, login. Each response is checked against the official spec when ``CONNECTOR_DTS_OPENAPI`` is set."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine

from connector.api.app import create_app

from .conftest import make_settings
from .ouranos_client import CORPORATE, PASSWORD, Dts, cfp_body, check, open_dts, part

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def dts(engine: Engine, tmp_path) -> AsyncIterator[Dts]:
    async for d in open_dts(engine, tmp_path):
        yield d


async def test_health_answers_without_credentials(dts: Dts) -> None:
    resp = await dts.client.get("/api/v1/datatransport/health")
    assert resp.status_code == 200


async def test_every_call_needs_the_api_key_and_a_bearer_token(dts: Dts) -> None:
    no_key = await dts.call("GET", "/api/v1/datatransport", params={"dataTarget": "parts"}, headers={})
    assert no_key.status_code == 403 and no_key.json()["code"] == "[auth] AccessDenied"
    bad_key = await dts.call(
        "GET", "/api/v1/datatransport", params={"dataTarget": "parts"}, headers={"apiKey": "ck_nope_nope"}
    )
    assert bad_key.status_code == 403 and bad_key.json()["message"] == "Invalid key"
    no_token = await dts.call(
        "GET", "/api/v1/datatransport", params={"dataTarget": "parts"}, headers={"apiKey": dts.api_key}
    )
    assert no_token.status_code == 401 and no_token.json()["message"] == "Authentication required"
    bad_token = await dts.call(
        "GET",
        "/api/v1/datatransport",
        params={"dataTarget": "parts"},
        headers={"apiKey": dts.api_key, "Authorization": "Bearer cua_forged"},
    )
    assert bad_token.status_code == 401 and bad_token.json()["message"] == "Invalid or expired token"
    assert (await dts.get("parts")).status_code == 200


async def test_the_api_is_off_without_a_corporate_number(engine: Engine, tmp_path) -> None:
    app = create_app(make_settings(tmp_path), engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        resp = await client.get("/api/v1/datatransport", params={"dataTarget": "parts"})
    check(resp)
    assert resp.status_code == 404 and "CONNECTOR_CORPORATE_NUMBER" in resp.json()["message"]


async def test_login_refresh_and_lockout(dts: Dts) -> None:
    wrong = await dts.login(password="wrong-password-123")
    assert wrong.status_code == 401 and wrong.json()["message"] == "Invalid credentials"
    good = await dts.login()
    refreshed = await dts.call("POST", "/auth/refresh", json={"refreshToken": good.json()["refreshToken"]})
    assert refreshed.status_code == 201 and refreshed.json()["accessToken"] != good.json()["accessToken"]
    reused = await dts.call("POST", "/auth/refresh", json={"refreshToken": good.json()["refreshToken"]})
    assert reused.status_code == 400  # the spec lists no 401 for /auth/refresh
    for _ in range(dts.settings.login_max_failures):
        await dts.login("viewer@example.com", "wrong-password-123")
    locked = await dts.login("viewer@example.com", PASSWORD)  # the right password, too late: the failures counted
    assert locked.status_code == 401 and locked.json()["message"] == "Invalid credentials"  # as a wrong password


async def test_change_password_needs_the_bearer_token(dts: Dts) -> None:
    new = "NewPassw0rd!ok"
    resp = await dts.call("POST", "/auth/change", json={"newPassword": new})
    assert resp.status_code == 201
    assert (await dts.login(password=PASSWORD)).status_code == 401
    assert (await dts.login(password=new)).status_code == 201
    too_short = await dts.call("POST", "/auth/change", json={"newPassword": "short"})
    assert too_short.status_code == 400
    anonymous = await dts.call("POST", "/auth/change", json={"newPassword": new}, headers={"apiKey": dts.api_key})
    assert anonymous.status_code == 401


async def test_parts_are_products_listed_by_name_with_a_cursor(dts: Dts) -> None:
    plant = await dts.plant_id()
    made = []
    for name in ("B-cell", "A-cell", "C-cell"):
        resp = await dts.put("parts", part(dts, plant, name, support="modelA"))
        assert resp.status_code == 201, resp.text
        made.append(resp.json())
    again = await dts.put("parts", part(dts, plant, "A-cell", support="modelA"))
    assert again.json()["traceId"] == made[1]["traceId"]  # one traceId per (plant, partsName, supportPartsName)
    first = await dts.get("parts", limit="2")
    assert [p["partsName"] for p in first.json()] == ["A-cell", "B-cell"]
    link = first.headers["link"]
    after = link.split("after=", 1)[1].split(">", 1)[0]
    second = await dts.get("parts", limit="2", after=after)
    assert [p["partsName"] for p in second.json()] == ["C-cell"]
    assert "link" not in second.headers
    one = await dts.get("parts", traceId=made[0]["traceId"])
    assert [p["partsName"] for p in one.json()] == ["B-cell"]
    assert one.json()[0]["terminatedFlag"] is True and one.json()[0]["amountRequired"] is None


async def test_writes_need_an_editor_account(dts: Dts) -> None:
    await dts.login("viewer@example.com", PASSWORD)
    resp = await dts.put("parts", part(dts, await dts.plant_id(), "X"))
    assert resp.status_code == 403


async def test_parts_structure_is_the_bill_of_materials(dts: Dts) -> None:
    plant = await dts.plant_id()
    body = {
        "parentPartsModel": part(dts, plant, "Pack", unit="unit"),
        "childrenPartsModel": [
            part(dts, plant, "Cell", unit="unit", amount=96),
            part(dts, plant, "Busbar", unit="kilogram", amount=1.25, terminated=True),
        ],
    }
    resp = await dts.put("partsStructure", body)
    assert resp.status_code == 201, resp.text
    made = resp.json()
    assert made["parentPartsModel"]["amountRequired"] is None
    amounts = {c["partsName"]: Decimal(str(c["amountRequired"])) for c in made["childrenPartsModel"]}
    assert amounts == {"Cell": Decimal(96), "Busbar": Decimal("1.25")}
    parent = made["parentPartsModel"]["traceId"]
    read = await dts.get("partsStructure", traceId=parent)
    assert read.json() == made
    # the same structure again with the children's traceIds: amounts change, nothing is added
    body["parentPartsModel"]["traceId"] = parent
    body["childrenPartsModel"] = [dict(c, amountRequired=2) for c in made["childrenPartsModel"][:1]]
    again = await dts.put("partsStructure", body)
    assert [c["amountRequired"] for c in again.json()["childrenPartsModel"]] == [2]
    parents = await dts.get("parts", parentFlag="true")
    assert [p["partsName"] for p in parents.json()] == ["Busbar", "Pack"]  # Busbar is no child any more
    children = await dts.get("parts", parentFlag="false")
    assert [p["partsName"] for p in children.json()] == ["Cell"]
    blocked = await dts.delete("parts", traceId=made["childrenPartsModel"][0]["traceId"])
    assert blocked.status_code == 400
    free = await dts.delete("parts", traceId=made["childrenPartsModel"][1]["traceId"])
    assert free.status_code == 204


async def test_cfp_written_and_read_per_stage(dts: Dts) -> None:
    plant = await dts.plant_id()
    trace = (await dts.put("parts", part(dts, plant, "Cathode"))).json()["traceId"]
    wrote = await dts.put("cfp", cfp_body(trace, {"preProduction": 1.5, "mainProduction": 10.12345}))
    assert wrote.status_code == 201, wrote.text
    cfp_id = wrote.json()[0]["cfpId"]
    assert cfp_id and {c["cfpId"] for c in wrote.json()} == {cfp_id}
    read = await dts.get("cfp", traceIds=trace)
    values = {c["cfpType"]: Decimal(str(c["ghgEmission"])) for c in read.json()}
    assert values["preProduction"] == Decimal("1.5") and values["mainProduction"] == Decimal("10.12345")
    assert values["preComponent"] == 0 and values["mainComponent"] == 0
    assert b"10.12345" in read.content  # exact: a decimal literal on the wire, never through float
    update = await dts.put("cfp", cfp_body(trace, {"preProduction": 2, "mainProduction": 3}, cfp_id=cfp_id))
    assert update.status_code == 201
    read = await dts.get("cfp", traceIds=trace)
    assert {c["cfpType"]: c["ghgEmission"] for c in read.json()}["preProduction"] == 2
    wrong_unit = await dts.put("cfp", cfp_body(trace, {}, unit="kgCO2e/liter"))
    assert wrong_unit.status_code == 400 and "not converted" in wrong_unit.json()["message"]
    certs = await dts.get("cfpCertification", traceId=trace)
    assert certs.status_code == 200 and certs.json() == []  # no attestation issued yet: no file


async def test_operator_and_plants(dts: Dts) -> None:
    me = await dts.auth_info("GET", "operator")
    assert me.json()["openOperatorId"] == CORPORATE
    assert me.json()["operatorAttribute"]["globalOperatorId"] == dts.settings.company_id
    same = await dts.auth_info("GET", "operator", openOperatorId=CORPORATE)
    assert same.json() == me.json()
    listed = await dts.auth_info("GET", "operator", operatorIds=me.json()["operatorId"])
    assert listed.json() == [me.json()]
    both = await dts.auth_info("GET", "operator", openOperatorId=CORPORATE, operatorIds=me.json()["operatorId"])
    assert both.status_code == 400
    unchanged = await dts.auth_info("PUT", "operator", me.json())
    assert unchanged.status_code == 201
    renamed = await dts.auth_info("PUT", "operator", dict(me.json(), operatorName="Other"))
    assert renamed.status_code == 400 and "CONNECTOR_COMPANY_NAME" in renamed.json()["message"]
    someone = await dts.auth_info("PUT", "operator", dict(me.json(), operatorId="d9a38406-cae2-4679-b052-15a75f5531e6"))
    assert someone.status_code == 403
    plants = (await dts.auth_info("GET", "plant")).json()
    assert plants[0]["openPlantId"].startswith(CORPORATE) and plants[0]["openPlantId"][-6:].isdigit()
    assert (await dts.auth_info("PUT", "plant", plants[0])).status_code == 201
    new = dict(plants[0], plantId=None, plantName="Elsewhere")
    assert (await dts.auth_info("PUT", "plant", new)).status_code == 400


MALFORMED = [
    ("GET", {"dataTarget": "nothing"}, None),
    ("GET", {"dataTarget": "parts", "limit": "0"}, None),
    ("GET", {"dataTarget": "parts", "limit": "101"}, None),
    ("GET", {"dataTarget": "parts", "limit": "ten"}, None),
    ("GET", {"dataTarget": "parts", "after": "not-a-uuid"}, None),
    ("GET", {"dataTarget": "parts", "parentFlag": "yes"}, None),
    ("GET", {"dataTarget": "cfp"}, None),
    ("GET", {"dataTarget": "cfp", "traceIds": ",".join(["d9a38406-cae2-4679-b052-15a75f5531e6"] * 51)}, None),
    ("GET", {"dataTarget": "cfp", "traceIds": "x"}, None),
    ("GET", {"dataTarget": "partsStructure"}, None),
    ("GET", {"dataTarget": "status", "statusTarget": "BOTH"}, None),
    ("GET", {"dataTarget": "tradeRequest", "traceIds": "1,2"}, None),
    ("DELETE", {"dataTarget": "parts", "traceId": "d9a38406-cae2-4679-b052-15a75f5531e6"}, None),
    ("PUT", {"dataTarget": "parts"}, b"{"),
    ("PUT", {"dataTarget": "parts"}, b""),
    ("PUT", {"dataTarget": "parts"}, b'{"partsName": "a", "partsName": "b"}'),
    ("PUT", {"dataTarget": "parts"}, b"[]"),
    ("PUT", {"dataTarget": "parts"}, b"NaN"),
    ("PUT", {"dataTarget": "cfp"}, b"{}"),
    ("PUT", {"dataTarget": "cfp"}, b"[1, 2, 3, 4]"),
    ("PUT", {"dataTarget": "status"}, b'{"statusId": 1}'),
    ("PUT", {"dataTarget": "tradeRequest"}, b'{"tradeModel": {}, "statusModel": {}}'),
    ("PUT", {"dataTarget": "tradeResponse", "tradeId": "x", "traceId": "y"}, None),
    ("POST", {"dataTarget": "parts"}, None),
]


@pytest.mark.parametrize(("method", "params", "raw"), MALFORMED)
async def test_malformed_input_is_a_dts_400_never_a_500(dts: Dts, method: str, params: dict, raw: bytes | None) -> None:
    resp = await dts.client.request(method, "/api/v1/datatransport", params=params, content=raw, headers=dts.headers())
    check(resp)
    assert resp.status_code in (400, 404), resp.text


def _part_body(dts: Dts, plant: str, **changes: object) -> bytes:
    return json.dumps(dict(part(dts, plant, "P"), **changes)).encode()


@pytest.mark.parametrize(
    "changes",
    [
        {"partsName": ""},
        {"partsName": "x" * 51},
        {"supportPartsName": "x" * 51},
        {"partsAddInfo1": "x" * 51},
        {"partsName": 5},
        {"amountRequiredUnit": "キログラム"},
        {"amountRequired": 1},
        {"terminatedFlag": "true"},
        {"traceId": "not-a-uuid"},
        {"plantId": "d9a38406-cae2-4679-b052-15a75f5531e6"},
    ],
)
async def test_parts_field_limits(dts: Dts, changes: dict) -> None:
    plant = await dts.plant_id()
    resp = await dts.client.put(
        "/api/v1/datatransport",
        params={"dataTarget": "parts"},
        content=_part_body(dts, plant, **changes),
        headers=dts.headers(),
    )
    check(resp)
    assert resp.status_code == 400, resp.text


async def test_structure_limits(dts: Dts) -> None:
    plant = await dts.plant_id()
    children = [part(dts, plant, f"c{i}", amount=1) for i in range(51)]
    too_many = await dts.put(
        "partsStructure", {"parentPartsModel": part(dts, plant, "P"), "childrenPartsModel": children}
    )
    assert too_many.status_code == 400
    parent_amount = await dts.put(
        "partsStructure", {"parentPartsModel": part(dts, plant, "P", amount=1), "childrenPartsModel": []}
    )
    assert parent_amount.status_code == 400
    child_no_amount = await dts.put(
        "partsStructure", {"parentPartsModel": part(dts, plant, "P"), "childrenPartsModel": [part(dts, plant, "c")]}
    )
    assert child_no_amount.status_code == 400


@pytest.mark.parametrize(
    "mutate",
    [
        lambda rows: rows[:3],
        lambda rows: [rows[0], rows[0], rows[2], rows[3]],
        lambda rows: [dict(rows[0], ghgEmission=1.123456), *rows[1:]],
        lambda rows: [dict(rows[0], ghgEmission=100000), *rows[1:]],
        lambda rows: [dict(rows[0], ghgEmission=-1), *rows[1:]],
        lambda rows: [dict(rows[0], ghgEmission="1.5"), *rows[1:]],
        lambda rows: [dict(rows[0], dqrType="mainProcessing"), *rows[1:]],
        lambda rows: [dict(rows[0], cfpId="d9a38406-cae2-4679-b052-15a75f5531e6"), *rows[1:]],
        lambda rows: [dict(rows[0], cfpType="preProductionTotal"), *rows[1:]],
        lambda rows: [dict(rows[0], dqrValue={"TeR": 1, "GeR": 1, "TiR": 1}), *rows[1:]],
    ],
)
async def test_cfp_rules(dts: Dts, mutate) -> None:
    plant = await dts.plant_id()
    trace = (await dts.put("parts", part(dts, plant, "Anode"))).json()["traceId"]
    resp = await dts.put("cfp", mutate(cfp_body(trace, {"preProduction": 1})))
    assert resp.status_code == 400, resp.text


async def test_cached_reads_see_every_write_and_revocation_at_once(dts: Dts, engine: Engine) -> None:
    from sqlmodel import Session

    from connector.services import api_keys, catalog
    from connector.services.context import NodeContext

    plant = await dts.plant_id()
    trace = (await dts.put("parts", part(dts, plant, "Cached"))).json()["traceId"]
    await dts.put("cfp", cfp_body(trace, {"preProduction": 1}))
    first = await dts.get("cfp", traceIds=trace)
    assert (await dts.get("cfp", traceIds=trace)).content == first.content  # served again (cached or not)
    with Session(engine, expire_on_commit=False) as session:  # a write through another session of this process
        catalog.update_product(
            NodeContext(session, dts.settings), trace, catalog.m.ProductUpdate.model_validate({"name": "Renamed"})
        )
        session.commit()
    renamed = await dts.get("parts", traceId=trace)
    assert renamed.json()[0]["partsName"] == "Renamed"
    with Session(engine, expire_on_commit=False) as session:
        key = api_keys.authenticate(session, dts.api_key)
        api_keys.revoke_key(session, key.id)
        session.commit()
    refused = await dts.get("cfp", traceIds=trace)
    assert refused.status_code == 403 and refused.json()["message"] == "Invalid key"
