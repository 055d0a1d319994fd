"""The PACT read path of docs/decisions/0007: answers cached in memory, audit entries group-committed.

Every case runs on SQLite and PostgreSQL. No timing is asserted: the cache's clock is moved by hand.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, update
from sqlmodel import Session, select

from connector.protocols.pact import cache as read_cache
from connector.services import audit
from connector.storage.tables import AuditEntry, Footprint, Grant

from .conftest import Api, make_settings, open_api
from .factories import commit_elsewhere, issued_footprint, pact_bearer

pytestmark = pytest.mark.asyncio

CUSTOMER = "urn:pact:customer.example:company:customer"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(read_cache, "_clock", c)
    return c


async def _setup(api: Api) -> dict[str, Any]:
    pid, fid = await issued_footprint(api, "urn:pact:test-node.example:product:a")
    r = await api.post("/api/v1/grants", {"productId": pid, "companyId": CUSTOMER})
    assert r.status_code == 201, r.text
    return {"pid": pid, "fid": fid, "grant": r.json()["id"], "headers": await pact_bearer(api, CUSTOMER)}


@pytest_asyncio.fixture
async def shared(api: Api) -> dict[str, Any]:
    return await _setup(api)


def _entries(api: Api, action: str) -> list[AuditEntry]:
    with Session(api.engine) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


async def _chain_ok(api: Api) -> None:
    r = await api.get("/api/v1/audit/check")
    assert r.status_code == 200 and r.json()["valid"] is True, r.json()


async def test_a_revoked_grant_is_404_at_once_although_the_answer_was_cached(api: Api, shared, clock) -> None:
    h = shared["headers"]
    for _ in range(2):  # the second answer comes from the cache
        assert (await api.client.get(f"/3/footprints/{shared['fid']}", headers=h)).status_code == 200
        assert len((await api.client.get("/3/footprints", headers=h)).json()["data"]) == 1
    assert len(api.app.state.pact_reads.cache) == 2
    assert (await api.delete(f"/api/v1/grants/{shared['grant']}")).status_code == 204
    r = await api.client.get(f"/3/footprints/{shared['fid']}", headers=h)
    assert r.status_code == 404 and r.json()["code"] == "NotFound"
    assert (await api.client.get("/3/footprints", headers=h)).json()["data"] == []


async def test_a_deprecated_footprint_is_served_with_its_new_status_at_once(api: Api, shared, clock) -> None:
    h = shared["headers"]
    url = f"/3/footprints/{shared['fid']}"
    assert (await api.client.get(url, headers=h)).json()["data"]["status"] == "Active"
    assert (await api.client.get(url, headers=h)).json()["data"]["status"] == "Active"  # cached
    assert (
        await api.post(f"/api/v1/products/{shared['pid']}/emissions", {"stage": "main_production", "value": "1"})
    ).status_code == 201
    r = await api.post(f"/api/v1/products/{shared['pid']}/footprints")  # a new one: the old one is Deprecated
    assert r.status_code == 201, r.text
    assert (await api.client.get(url, headers=h)).json()["data"]["status"] == "Deprecated"
    listed = {pf["id"]: pf["status"] for pf in (await api.client.get("/3/footprints", headers=h)).json()["data"]}
    assert listed == {shared["fid"]: "Deprecated", r.json()["footprint"]["id"]: "Active"}


async def test_a_write_made_in_this_process_outside_the_api_also_invalidates(api: Api, shared, clock) -> None:
    h = shared["headers"]
    url = f"/3/footprints/{shared['fid']}"
    assert (await api.client.get(url, headers=h)).status_code == 200
    with Session(api.engine) as session:  # a service, a worker: any ORM session of this process
        session.exec(delete(Grant).where(Grant.id == shared["grant"]))  # type: ignore[call-overload]
        session.commit()
    assert (await api.client.get(url, headers=h)).status_code == 404


async def test_another_process_write_is_seen_within_the_ttl(api: Api, shared, clock) -> None:
    """A write this process cannot see (the CLI on the same database) is served stale for at most
    pact_read_cache_ttl seconds."""
    h = shared["headers"]
    url = f"/3/footprints/{shared['fid']}"
    assert (await api.client.get(url, headers=h)).json()["data"]["status"] == "Active"
    commit_elsewhere(
        api.engine,
        update(Footprint.__table__)
        .where(Footprint.__table__.c.id == shared["fid"])  # type: ignore[attr-defined]
        .values(status="Deprecated"),
        delete(Grant.__table__),  # type: ignore[attr-defined]
    )
    ttl = api.settings.pact_read_cache_ttl
    assert ttl > 0
    clock.now += ttl * 0.9
    assert (await api.client.get(url, headers=h)).status_code == 200  # within the bound: still the cached answer
    clock.now += ttl * 0.1
    assert (await api.client.get(url, headers=h)).status_code == 404  # past it: read again
    assert (await api.client.get("/3/footprints", headers=h)).json()["data"] == []


async def test_a_read_again_serves_a_remembered_rendering_only_under_the_rows_it_reads(api: Api, shared, clock) -> None:
    """Past the TTL an answer is read again from a few columns (the render key) and served from the renderings this
    process remembers when the key matches: a status changed by another process changes the key, so the footprint is
    rendered anew with it, by id and in the list alike."""
    h = shared["headers"]
    url = f"/3/footprints/{shared['fid']}"
    first = await api.client.get(url, headers=h)
    clock.now += api.settings.pact_read_cache_ttl
    again = await api.client.get(url, headers=h)
    assert again.content == first.content  # the same bytes, the key unchanged
    commit_elsewhere(  # unseen by this process
        api.engine,
        update(Footprint.__table__)
        .where(Footprint.__table__.c.id == shared["fid"])  # type: ignore[attr-defined]
        .values(status="Deprecated"),
    )
    clock.now += api.settings.pact_read_cache_ttl
    r = await api.client.get(url.upper().replace("/3/FOOTPRINTS/", "/3/footprints/"), headers=h)  # id in any case
    assert r.status_code == 200 and r.json()["data"]["status"] == "Deprecated"
    assert {k: v for k, v in r.json()["data"].items() if k != "status"} == {
        k: v for k, v in first.json()["data"].items() if k != "status"
    }
    assert (await api.client.get("/3/footprints", headers=h)).json()["data"][0]["status"] == "Deprecated"


async def test_ttl_zero_disables_the_cache(make_db, tmp_path, clock) -> None:
    engine = make_db()
    async for api in open_api(engine, make_settings(tmp_path, pact_read_cache_ttl=0)):
        shared = await _setup(api)
        url = f"/3/footprints/{shared['fid']}"
        assert (await api.client.get(url, headers=shared["headers"])).status_code == 200
        commit_elsewhere(api.engine, delete(Grant.__table__))  # type: ignore[attr-defined]  # unseen by this process
        assert (await api.client.get(url, headers=shared["headers"])).status_code == 404
        assert len(api.app.state.pact_reads.cache) == 0


async def test_an_answer_cached_for_one_company_is_never_served_to_another(api: Api, shared, clock) -> None:
    """The customer's reads fill the cache (by id and list); another company, without a grant, asking for the very
    same paths must get its own answers: 404 and an empty list, never the customer's entries."""
    h = shared["headers"]
    one, page = f"/3/footprints/{shared['fid']}", "/3/footprints?limit=10"
    for _ in range(2):  # the second read of each is a cache hit
        assert (await api.client.get(one, headers=h)).status_code == 200
        assert [f["id"] for f in (await api.client.get(page, headers=h)).json()["data"]] == [shared["fid"]]
    other = await pact_bearer(api, "urn:pact:other.example:company:other")
    assert (await api.client.get(one, headers=other)).status_code == 404
    assert (await api.client.get(page, headers=other)).json()["data"] == []
    # and once granted, it is served to the other company too
    assert (
        await api.post(
            "/api/v1/grants", {"productId": shared["pid"], "companyId": "urn:pact:other.example:company:other"}
        )
    ).status_code == 201
    assert (await api.client.get(one, headers=other)).json()["data"]["id"] == shared["fid"]


async def test_every_read_is_audited_once_and_the_chain_holds_under_concurrency(api: Api, shared, clock) -> None:
    h = shared["headers"]
    url = f"/3/footprints/{shared['fid']}"
    answers = await asyncio.gather(
        *(api.client.get(url, headers=h) for _ in range(40)),
        *(api.client.get("/3/footprints", headers=h) for _ in range(10)),
    )
    assert [r.status_code for r in answers] == [200] * 50
    gets, lists = _entries(api, "pact.get"), _entries(api, "pact.list")
    assert len(gets) == 40 and {e.subject for e in gets} == {shared["fid"]} and {e.actor for e in gets} == {CUSTOMER}
    assert len(lists) == 10 and all(e.details == {"returned": 1} for e in lists)
    assert api.app.state.pact_reads.audit.batches < 50  # grouped: fewer transactions than entries
    await _chain_ok(api)


async def test_a_failed_audit_commit_is_a_500_without_data(api: Api, shared, clock, monkeypatch) -> None:
    h = shared["headers"]
    url = f"/3/footprints/{shared['fid']}"
    assert (await api.client.get(url, headers=h)).status_code == 200  # cached now

    real_chain = audit._chain

    def colliding(tail: Any, batch: Any) -> Any:  # numbered over the first entry: the INSERT fails in the database
        return [(1, *row[1:]) for row in real_chain(tail, batch)]

    monkeypatch.setattr(audit, "_chain", colliding)
    transport = httpx.ASGITransport(app=api.app, raise_app_exceptions=False)  # answer as a server would
    async with httpx.AsyncClient(transport=transport, base_url="http://node.test") as client:
        answers = await asyncio.gather(*(client.get(url, headers=h) for _ in range(5)))
    for r in answers:
        assert r.status_code == 500 and "data" not in r.json() and r.json()["code"] == "InternalError"
    monkeypatch.undo()
    assert (await api.client.get(url, headers=h)).status_code == 200
    assert len(_entries(api, "pact.get")) == 2
    await _chain_ok(api)


async def test_audit_entries_interleave_with_other_appenders(api: Api, shared, clock) -> None:
    """Grants (audit.append in the request's own transaction) and reads (group commit) chain into one log."""
    h = shared["headers"]
    pid2, _ = await issued_footprint(api, "urn:pact:test-node.example:product:c")

    async def grants() -> None:
        for i in range(5):
            r = await api.post("/api/v1/grants", {"productId": pid2, "companyId": f"urn:pact:x.example:company:c{i}"})
            assert r.status_code == 201

    reads = [api.client.get(f"/3/footprints/{shared['fid']}", headers=h) for _ in range(20)]
    await asyncio.gather(grants(), *reads)
    assert len(_entries(api, "grant.created")) == 6 and len(_entries(api, "pact.get")) == 20
    await _chain_ok(api)


QUERIES = [
    "",
    "limit=1",
    "limit=1&offset=1",
    "limit=1&limit=2",
    "status=active",
    "status=Deprecated&status=Active",
    "productId=URN:PACT:TEST-NODE.EXAMPLE:PRODUCT:A",
    "productId=",
    "geography=jp&geography=cl",
    "companyId=urn:pact:test-node.example:company:test-node",
    "validOn=2020-01-01T00:00:00Z",
    "validAfter=2000-01-01",
    "validBefore=bad",
    "limit=abc",
    "limit=0",
    "offset=-1",
    "classification=x",
]


async def test_the_front_routes_answer_as_the_documented_ones(api: Api, shared, clock) -> None:
    """routes_first serves GET /3/footprints with its own query parsing: same answers as FastAPI's parsing."""
    h = shared["headers"]
    await issued_footprint(api, "urn:pact:test-node.example:product:b")
    routes = api.app.router.routes
    assert [getattr(r, "name", None) for r in routes[:2]] == ["list_footprints_first", "get_footprint_first"]

    async def answers() -> list[tuple[int, bytes, str | None]]:
        out = []
        for q in QUERIES:
            r = await api.client.get(f"/3/footprints?{q}", headers=h)
            out.append((r.status_code, r.content, r.headers.get("link")))
        r = await api.client.get(f"/3/footprints/{shared['fid']}", headers=h)
        out.append((r.status_code, r.content, None))
        return out

    front = await answers()
    del routes[:2]  # now the included (documented) routes answer
    documented = await answers()
    assert front == documented
    assert {status for status, _, _ in front} == {200, 400}
