"""The submodel GET's shortcut (``protocols.catenax.render.remembered_pcf``): with the answer cache out of the way,
a repeated read is served from the remembered rendering found by one statement, byte for byte what the long way
renders, and never once what it depends on has changed (the product's fields, its plant, the grant)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.engine import Engine

from connector.protocols.catenax import render, router
from connector.services.identity import load_identity
from connector.storage.answer_cache import AnswerCache
from tests.pki import signing_settings

from .conftest import COMPANY, Api, make_settings
from .test_catenax_attacks import CUSTOMER, GRANTED, PATH_SUBMODEL, _as, catenax_node

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture(params=["signing", "unsigned"])
async def cx(request: pytest.FixtureRequest, engine: Engine, tmp_path: Any) -> AsyncIterator[Api]:
    """The attack tests' provider node, with a key that attests what it sends or without one."""
    if request.param == "signing":
        settings = signing_settings(tmp_path, COMPANY, "Test Node")
    else:
        settings = make_settings(tmp_path)
    identity = load_identity(settings) if settings.key_file else None
    async for api in catenax_node(engine, settings, identity):
        yield api


@pytest.fixture
def shortcut(cx: Api, monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each read found its rendering by the shortcut; every read misses the answer cache."""
    cx.app.state.catenax_cache = AnswerCache(0)
    found: list[bool] = []
    remembered = render.remembered_pcf

    def spy(*args: Any) -> Any:
        out = remembered(*args)
        found.append(out is not None)
        return out

    monkeypatch.setattr(render, "remembered_pcf", spy)
    return found


async def _product_id(cx: Api) -> str:
    items = (await cx.get("/api/v1/products", params={"limit": 500})).json()["items"]
    return next(p["id"] for p in items if GRANTED in p["productIds"])


async def test_a_repeated_read_is_the_same_bytes_by_the_shortcut(cx: Api, shortcut: list[bool]) -> None:
    first = await cx.client.get(PATH_SUBMODEL, headers=_as())
    second = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert first.status_code == second.status_code == 200, second.text
    assert second.content == first.content
    assert shortcut == [False, True]  # the first read issued the attestation and rendered
    third = await cx.client.get(PATH_SUBMODEL + "/$value", headers=_as(), params={"dataModelVersion": "9.0.0"})
    assert third.content == first.content and shortcut[-1] is True


@pytest.mark.parametrize(
    "change",
    [
        {"name": "renamed pack"},
        {"description": "a new description"},
        {"plant": {"name": "Other plant", "country": "DE", "subdivision": "DE-BY"}},
        {"classifications": ["urn:eclass:0173-1#01-AAA000#001"]},
    ],
)
async def test_a_product_change_is_never_answered_from_the_old_rendering(
    cx: Api,
    shortcut: list[bool],
    change: dict[str, Any],
) -> None:
    before = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert (await cx.client.get(PATH_SUBMODEL, headers=_as())).content == before.content
    r = await cx.patch(f"/api/v1/products/{await _product_id(cx)}", change)
    assert r.status_code == 200, r.text
    after = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert after.status_code == 200 and after.content != before.content
    assert shortcut[-1] is False
    again = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert again.content == after.content and shortcut[-1] is True


async def test_a_revoked_grant_is_a_404_at_once(cx: Api, shortcut: list[bool]) -> None:
    assert (await cx.client.get(PATH_SUBMODEL, headers=_as())).status_code == 200
    assert (await cx.client.get(PATH_SUBMODEL, headers=_as())).status_code == 200 and shortcut[-1] is True
    grants = (await cx.get("/api/v1/grants", params={"limit": 500})).json()["items"]
    grant = next(g for g in grants if g["companyId"] == CUSTOMER)
    assert (await cx.delete(f"/api/v1/grants/{grant['id']}")).status_code == 204
    r = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert r.status_code == 404 and shortcut[-1] is False


async def test_a_new_footprint_version_is_served_at_once(cx: Api, shortcut: list[bool]) -> None:
    before = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert (await cx.client.get(PATH_SUBMODEL, headers=_as())).content == before.content
    product = await _product_id(cx)
    r = await cx.post(f"/api/v1/products/{product}/emissions", {"stage": "main_production", "value": "1.25"})
    assert r.status_code == 201, r.text
    assert (await cx.post(f"/api/v1/products/{product}/footprints")).status_code == 201
    after = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert after.status_code == 200 and after.content != before.content and shortcut[-1] is False


async def _confirmed(cx: Api) -> None:
    """Wait for the background confirmation the last hit started, if any."""
    thread = getattr(cx.app.state, "catenax_refresh", None)
    if thread is not None:
        await asyncio.to_thread(thread.join)


async def test_entries_read_often_are_confirmed_before_they_expire(cx: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hit past a sixth of the TTL confirms, in the background, the entries past a third of it: unchanged, they are
    served another TTL without a miss; changed by another process (a write this process never saw), they are not
    confirmed and expire, and the new answer is read."""
    ttl = 3.0  # a read every 0.4 s comes well within a third of it, even on a loaded box
    cx.app.state.catenax_cache = AnswerCache(ttl)
    reads: list[str] = []
    long_way = router._read_submodel

    def counted(*args: Any) -> Any:
        reads.append(args[2])
        return long_way(*args)

    monkeypatch.setattr(router, "_read_submodel", counted)
    first = await cx.client.get(PATH_SUBMODEL, headers=_as())  # a signing node's first read issues (a write): not kept
    assert (await cx.client.get(PATH_SUBMODEL, headers=_as())).content == first.content
    reads.clear()
    for _ in range(16):  # 6.4 s: over twice the TTL, read every 0.4 s
        await asyncio.sleep(0.4)
        r = await cx.client.get(PATH_SUBMODEL, headers=_as())
        assert r.content == first.content
        await _confirmed(cx)
    assert reads == []  # never read again the long way
    raw = cx.engine.raw_connection()  # another process's write: past SQLAlchemy, so this process's caches never see it
    try:
        raw.cursor().execute("UPDATE product SET name = 'renamed elsewhere' WHERE name = 'granted-pack'")
        raw.commit()
    finally:
        raw.close()
    seen = []
    for _ in range(12):
        await asyncio.sleep(0.4)
        r = await cx.client.get(PATH_SUBMODEL, headers=_as())
        seen.append(b"renamed elsewhere" in r.content)
        await _confirmed(cx)
    assert seen[-1]  # read again once the entry confirmed before the change ran out
    assert seen.index(True) <= 9  # within the TTL after the change, reads 0.4 s apart (slower reads: sooner)
