"""The operator API reads JSON bodies strictly and bounds every integer parameter: a problem, never a 500."""

from __future__ import annotations

import json

import pytest

from connector.api.operator.paging import OFFSET_MAX

from .conftest import assert_problem
from .factories import product_body

pytestmark = pytest.mark.asyncio

P = "/api/v1/products"


def _raw(body: dict, before: str, after: str) -> str:
    text = json.dumps(body)
    assert before in text
    return text.replace(before, after, 1)


async def test_bodies_that_two_parsers_read_differently_are_refused(api) -> None:
    body = product_body(name="Real name")
    cases = {
        "duplicate member": _raw(body, '"name": "Real name"', '"name": "Shown name", "name": "Real name"'),
        "duplicate nested member": _raw(body, '"name"', '"plant": {"name": "A", "name": "B"}, "name"'),
        "NaN": _raw(body, '"name"', '"massPerDeclaredUnit": NaN, "name"'),
        "Infinity": _raw(body, '"name"', '"massPerDeclaredUnit": Infinity, "name"'),
        "number beyond a double": _raw(body, '"name"', '"massPerDeclaredUnit": 1e999999, "name"'),
    }
    for case, raw in cases.items():
        r = await api.client.post(P, content=raw, headers={**api.as_("editor"), "content-type": "application/json"})
        problem = assert_problem(r, 400)
        assert "json" in problem["detail"].lower(), case
    assert (await api.get(P)).json()["total"] == 0  # nothing was created
    r = await api.client.post(
        P, content=json.dumps(body), headers={**api.as_("editor"), "content-type": "application/json"}
    )
    assert r.status_code == 201 and r.json()["name"] == "Real name"


def _list_routes(app) -> list[str]:
    """Every operator GET route that pages (an ``offset`` parameter), from the app's OpenAPI: none is forgotten."""
    return [
        path
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/api/v1")
        and "{" not in path
        and any(p["name"] == "offset" for p in ops.get("get", {}).get("parameters", []))
    ]


async def test_huge_offsets_and_limits_are_problems_on_every_list(api) -> None:
    paths = _list_routes(api.app)
    assert {"/api/v1/products", "/api/v1/audit", "/api/v1/outbox", "/api/v1/requests"} <= set(paths), paths
    for path in paths:
        for params in (
            {"offset": str(2**63)},
            {"offset": str(2**64 + 1)},
            {"offset": "9" * 400},
            {"offset": str(OFFSET_MAX + 1)},
            {"limit": str(2**63)},
            {"limit": "0"},
            {"offset": "-1"},
            {"offset": "1e3"},
        ):
            r = await api.get(path, role="admin", params=params)
            assert r.status_code in (400, 422), (path, params, r.status_code, r.text)
            assert_problem(r, r.status_code)
        r = await api.get(path, role="admin", params={"offset": str(OFFSET_MAX)})
        assert r.status_code == 200, (path, r.text)  # the largest offset allowed pages past the end: an empty page
        assert r.json()["items"] == [] and r.json()["offset"] == OFFSET_MAX


async def test_every_json_body_is_read_strictly(api) -> None:
    """Every operation of the app that takes a JSON body, found in its OpenAPI document (none can be forgotten): a
    duplicate member is a 400 before anything else is looked at."""
    ops = [
        (method, path)
        for path, item in api.app.openapi()["paths"].items()
        for method, op in item.items()
        if "application/json" in (op.get("requestBody") or {}).get("content", {})
        and not path.startswith("/catenax/")  # the data plane's secret comes first: test_catenax_attacks.py
    ]
    assert len(ops) >= 10, ops
    for method, path in ops:
        url = path.replace("{", "").replace("}", "")  # any value for a path parameter
        r = await api.client.request(
            method.upper(),
            url,
            content='{"a": 1, "a": 2}',
            headers={**api.as_("admin"), "content-type": "application/json"},
        )
        assert r.status_code == 400, (method, path, r.status_code, r.text)
        assert "duplicate member 'a'" in r.text, (method, path, r.text)
