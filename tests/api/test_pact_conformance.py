"""The mandatory cases of the WBCSD PACT v3 conformance suite, in process, so CI guards what the suite checks.

The suite itself (wbcsd/pact-conformance-service) runs against a node with ``scripts/pact-conformance.sh``; see
docs/pact-conformance.md. Each test names the suite's case numbers it mirrors.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_asyncio
from sqlmodel import Session, select

from connector import protocols
from connector.protocols.pact import events
from connector.storage.tables import OutboxMessage

from .conftest import COMPANY, Api
from .factories import issued_footprint
from .test_pact_schema import PRODUCT_FOOTPRINT

pytestmark = pytest.mark.asyncio

SUITE = "urn:pact:conformance.example:company:suite"
CALLBACK = "http://suite.test:8004"
LIOH = "urn:pact:test-node.example:product:lioh"
LI2CO3 = "urn:pact:test-node.example:product:li2co3"
CLASS = "urn:pact:test-node.example:classification:battery-chemicals"


@dataclass
class Pact:
    api: Api
    client_id: str
    secret: str
    headers: dict[str, str]
    unshared_id: str

    async def get(self, url: str, **kw: Any):
        return await self.api.client.get(url, headers=self.headers, **kw)

    async def event(self, body: dict[str, Any], headers: dict[str, str] | None = None):
        return await self.api.client.post(
            "/3/events",
            json=body,
            headers={**(self.headers if headers is None else headers), "content-type": "application/cloudevents+json"},
        )


async def _product(api: Api, urn: str, name: str, value: str, classifications: list[str]) -> tuple[str, str]:
    return await issued_footprint(
        api,
        urn,
        value,
        name=name,
        massPerDeclaredUnit="1",
        classifications=classifications,
        plant={"name": "Antofagasta", "country": "CL"},
    )


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


async def _token(api: Api, client_id: str, secret: str):
    return await api.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials"},
        headers={**_basic(client_id, secret), "accept": "application/json"},
    )


@pytest_asyncio.fixture
async def node(api: Api) -> Pact:
    """Two shared footprints and one not shared; the suite's client is an auto-fulfil customer."""
    shared = [await _product(api, LIOH, "LiOH", "15.2", []), await _product(api, LI2CO3, "Li2CO3", "9.4", [CLASS])]
    _, unshared = await _product(api, "urn:pact:test-node.example:product:secret", "Secret", "1", [])
    r = await api.post(
        "/api/v1/partners",
        {"companyId": SUITE, "name": "Suite", "isCustomer": True, "autoFulfil": True, "nodeUrl": CALLBACK},
    )  # answers go there
    assert r.status_code == 201, r.text
    for pid, _ in shared:
        assert (await api.post("/api/v1/grants", {"productId": pid, "companyId": SUITE})).status_code == 201
    creds = (await api.post("/api/v1/pact-clients", {"companyId": SUITE}, role="admin")).json()
    r = await _token(api, creds["clientId"], creds["clientSecret"])
    assert r.status_code == 200, r.text
    return Pact(
        api, creds["clientId"], creds["clientSecret"], {"authorization": f"Bearer {r.json()['access_token']}"}, unshared
    )


async def _first(node: Pact) -> dict[str, Any]:
    return (await node.get("/3/footprints")).json()["data"][0]


def _event(type_: str, data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": CALLBACK,
        "time": datetime.now(UTC).isoformat(),
        "type": type_,
        "data": data,
    }


def _outbox(node: Pact) -> list[OutboxMessage]:
    with Session(node.api.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.target_url == CALLBACK)))


def _sent(node: Pact) -> list[dict]:
    """The PACT events the outbox will send (its messages are intents: the adapter renders each when sending)."""
    wire = [protocols.adapter(m.protocol).wire_message(m, node.api.settings.public_url) for m in _outbox(node)]
    return [event for event in wire if event is not None]


async def test_token_with_valid_and_invalid_credentials(node: Pact) -> None:  # cases 1, 2, 18, 19
    r = await _token(node.api, node.client_id, node.secret)
    assert r.status_code == 200 and r.json()["token_type"] == "Bearer" and r.json()["expires_in"] > 0
    r = await _token(node.api, "nobody", "wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = await _token(node.api, node.client_id, "wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    doc = (await node.api.client.get("/.well-known/openid-configuration")).json()
    assert doc["token_endpoint"].endswith("/auth/token")


async def test_list_and_get_footprint(node: Pact) -> None:  # cases 3, 4
    r = await node.get("/3/footprints")
    assert r.status_code == 200
    data = r.json()["data"]
    assert {pf["productIds"][0] for pf in data} == {LIOH, LI2CO3}
    one = await node.get(f"/3/footprints/{data[0]['id']}")
    assert one.status_code == 200 and one.json()["data"] == data[0]
    pf = data[0]
    for key in PRODUCT_FOOTPRINT["required"]:  # the official schema's required members
        assert pf.get(key) not in (None, "", []), key
    assert all(
        isinstance(pf["pcf"][k], str)
        for k in (
            "pcfExcludingBiogenicUptake",
            "declaredUnitAmount",
            "productMassPerDeclaredUnit",
            "exemptedEmissionsPercent",
        )
    )


async def test_pagination_link_is_absolute_on_the_request_host(node: Pact) -> None:  # case 5
    r = await node.get("/3/footprints", params={"limit": "1"})
    assert r.status_code == 200 and len(r.json()["data"]) == 1
    link = r.headers["link"]
    assert link.endswith('; rel="next"') and link.startswith("<http://node.test/3/footprints?")
    url = link[1 : link.index(">")]
    nxt = await node.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert nxt.status_code == 200 and len(nxt.json()["data"]) == 1
    assert nxt.json()["data"][0]["id"] != r.json()["data"][0]["id"] and "link" not in nxt.headers
    again = await node.get(urlsplit(url).path + "?" + urlsplit(url).query)
    assert again.json() == nxt.json()


async def test_the_next_link_follows_each_request_host_and_query(node: Pact) -> None:
    # the Link header is remembered per request line and host: a second host, or other parameters, get their own
    links = []
    for host, params in [
        ("node.test", {"limit": "1"}),
        ("other.test:8443", {"limit": "1"}),
        ("node.test", {"limit": "1", "status": "Active"}),
        ("node.test", {"limit": "1"}),
    ]:
        r = await node.api.client.get("/3/footprints", params=params, headers={**node.headers, "host": host})
        assert r.status_code == 200
        links.append(r.headers["link"])
    assert links[0] == links[3] == '<http://node.test/3/footprints?limit=1&offset=1>; rel="next"'
    assert links[1].startswith("<http://other.test:8443/3/footprints?")
    assert parse_qs(urlsplit(links[2][1 : links[2].index(">")]).query) == {
        "limit": ["1"],
        "status": ["Active"],
        "offset": ["1"],
    }


async def test_a_malformed_list_query_is_refused_every_time_and_only_after_authentication(node: Pact) -> None:
    for _ in range(2):  # parsed queries are remembered; a refused one never is
        r = await node.get("/3/footprints", params={"limit": "ten"})
        assert r.status_code == 400 and r.json()["code"] == "BadRequest"
    r = await node.api.client.get("/3/footprints", params={"limit": "ten"})  # no token: 401 before the query
    assert r.status_code == 401
    r = await node.get("/3/footprints", params=[("status", "Deprecated"), ("status", "ACTIVE")])  # OR, any case
    assert r.status_code == 200 and len(r.json()["data"]) == 2


@pytest.mark.parametrize(
    "method,path", [("GET", "/3/footprints"), ("GET", "/3/footprints/{id}"), ("POST", "/3/events")]
)
async def test_an_invalid_token_is_401_with_code_bad_request(node: Pact, method: str, path: str) -> None:  # 6, 7, 16
    pf = await _first(node)
    body = _event(events.PUBLISHED, {"pfIds": [str(uuid.uuid4())]})
    r = await node.api.client.request(
        method,
        path.format(id=pf["id"]),
        json=body if method == "POST" else None,
        headers={"authorization": "Bearer very-invalid-access-token-x"},
    )
    assert r.status_code == 401
    assert r.json()["code"] == "BadRequest" and r.json()["message"]


async def test_unknown_and_unshared_footprints_are_404_not_found(node: Pact) -> None:  # case 8
    for pf_id in ("00000000-0000-0000-0000-000000000000", node.unshared_id):
        r = await node.get(f"/3/footprints/{pf_id}")
        assert r.status_code == 404 and r.json()["code"] == "NotFound", r.text


def _filters(pf: dict[str, Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        ("productId", [("productId", pf["productIds"][0])]),
        ("companyId", [("companyId", pf["companyIds"][0])]),
        (
            "geography",
            [
                (
                    "geography",
                    next(
                        pf["pcf"][g]
                        for g in ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")
                        if g in pf["pcf"]
                    ),
                )
            ],
        ),
        ("classification", [("classification", (pf.get("productClassifications") or [""])[0])]),  # "": as absent
        ("validOn", [("validOn", pf["validityPeriodStart"])]),
        ("status", [("status", pf["status"])]),
        ("status+productId", [("status", pf["status"]), ("productId", pf["productIds"][0])]),
        ("companyId OR", [("companyId", pf["companyIds"][0]), ("companyId", "abc"), ("companyId", "def")]),
    ]


async def test_filters_match_the_footprints_they_return(node: Pact) -> None:  # cases 20-29
    pf = await _first(node)
    for name, params in _filters(pf):
        r = await node.get("/3/footprints", params=params)
        assert r.status_code == 200, name
        ids = [x["id"] for x in r.json()["data"]]
        assert pf["id"] in ids, name
    r = await node.get("/3/footprints", params={"classification": CLASS})
    assert [x["productIds"] for x in r.json()["data"]] == [[LI2CO3]]
    r = await node.get("/3/footprints", params={"productId": LIOH.upper()})  # case-insensitive
    assert [x["productIds"] for x in r.json()["data"]] == [[LIOH]]
    r = await node.get(
        "/3/footprints", params={"validAfter": "2000-01-01T00:00:00Z", "validBefore": "2099-01-01T00:00:00Z"}
    )
    assert len(r.json()["data"]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"productId": "urn:bogus:product:x"},
        {"companyId": "urn:bogus:company:x"},
        {"geography": "XX"},
        {"classification": "urn:bogus:classification:x"},
        {"validOn": "1900-01-01T00:00:00Z"},
        {"validAfter": "2099-12-31T23:59:59Z"},
        {"validBefore": "1900-01-01T00:00:00Z"},
        {"status": "BogusStatusAbc"},
        [("companyId", "urn:bogus:company:a"), ("productId", "urn:bogus:product:b")],
        [
            ("companyId", "urn:bogus:company:a"),
            ("companyId", "urn:bogus:company:b"),
            ("companyId", "urn:bogus:company:c"),
        ],
    ],
)
async def test_filters_that_match_nothing_give_an_empty_list(node: Pact, params: Any) -> None:  # cases 30-39
    r = await node.get("/3/footprints", params=params)
    assert r.status_code == 200 and r.json() == {"data": []}


async def test_a_request_for_a_shared_product_is_fulfilled_at_the_source(node: Pact) -> None:  # cases 12, 13
    pf = await _first(node)
    event_id = "test-run-id/12"
    r = await node.event(_event(events.REQUEST_CREATED, {"productId": pf["productIds"], "comment": "please"}, event_id))
    assert r.status_code == 200 and r.content == b""
    sent = _sent(node)
    assert len(sent) == 1 and sent[0]["type"] == events.REQUEST_FULFILLED
    answer = sent[0]
    assert answer["specversion"] == "1.0" and answer["source"] and answer["id"] and answer["time"]
    assert answer["data"]["requestEventId"] == event_id
    assert answer["data"]["pfs"][0]["productIds"] == pf["productIds"]


async def test_an_event_delivered_again_or_twice_at_once_is_handled_once(node: Pact) -> None:
    import asyncio

    pf = await _first(node)
    event = _event(events.REQUEST_CREATED, {"productId": pf["productIds"]}, "test-run-id/twice")
    answers = await asyncio.gather(*(node.event(event) for _ in range(4)))
    assert [r.status_code for r in answers] == [200] * 4
    assert (await node.event(event)).status_code == 200  # later again
    assert len([e for e in _sent(node) if e["data"]["requestEventId"] == "test-run-id/twice"]) == 1


async def test_a_request_for_an_unknown_product_is_rejected_at_the_source(node: Pact) -> None:  # cases 14.A, 14.B
    event_id = "test-run-id/14.A"
    r = await node.event(_event(events.REQUEST_CREATED, {"productId": ["urn:pact:null"], "comment": "x"}, event_id))
    assert r.status_code == 200
    sent = _sent(node)
    assert len(sent) == 1 and sent[0]["type"] == events.REQUEST_REJECTED
    assert sent[0]["data"]["requestEventId"] == event_id
    assert sent[0]["data"]["error"]["code"] == "NotFound" and sent[0]["data"]["error"]["message"]


async def test_published_events(node: Pact) -> None:  # cases 15, 40
    r = await node.event(_event(events.PUBLISHED, {"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]}))
    assert r.status_code == 200
    r = await node.event(_event(events.PUBLISHED, {"pfIds": ["urn:gtin:4712345060507"]}))
    assert r.status_code == 400 and r.json()["code"] == "BadRequest"


async def test_the_company_id_is_the_node_company(node: Pact) -> None:
    assert (await _first(node))["companyIds"] == [COMPANY]
