"""Hostile calls to the Ouranos DTS routes: credentials mixed between accounts, paging out of range, bodies of the
wrong types, huge strings, unknown fields, ids that name nothing of this operator's, oversized bodies and methods
the routes do not take. Every answer is checked to be in DTS's ``{code, message, detail}`` form, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from .ouranos_client import PASSWORD, Dts, add_user, check, open_dts, part

pytestmark = pytest.mark.asyncio
NOBODY = "d9a38406-cae2-4679-b052-15a75f5531e6"


@pytest_asyncio.fixture
async def dts(engine: Any, tmp_path: Any) -> AsyncIterator[Dts]:
    async for d in open_dts(engine, tmp_path):
        yield d


async def test_a_viewers_token_cannot_write_whatever_api_key_comes_with_it(dts: Dts, engine: Any) -> None:
    from .conftest import seed_keys

    admin_key = seed_keys(engine)["admin"]
    await dts.login("viewer@example.com", PASSWORD)
    body = json.dumps(part(dts, await dts.plant_id(), "X"))
    for key in (admin_key, dts.api_key):
        r = await dts.client.put(
            "/api/v1/datatransport",
            params={"dataTarget": "parts"},
            content=body,
            headers={"apiKey": key, "Authorization": f"Bearer {dts.token}"},
        )
        check(r)
        assert r.status_code == 403, r.text


async def test_a_token_ends_with_its_logout_and_another_accounts_password_change(dts: Dts, engine: Any) -> None:
    add_user(engine, dts.settings, "second@example.com")
    first = dts.token
    await dts.login("second@example.com")
    second = dts.token
    assert first != second
    for token in (first, second):
        r = await dts.call(
            "GET",
            "/api/v1/datatransport",
            params={"dataTarget": "parts"},
            headers={"apiKey": dts.api_key, "Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200
    for scheme in ("Basic", "bearer  ", "Token"):
        r = await dts.call(
            "GET",
            "/api/v1/datatransport",
            params={"dataTarget": "parts"},
            headers={"apiKey": dts.api_key, "Authorization": f"{scheme} {first}"},
        )
        assert r.status_code in (200, 401)  # "bearer" in any case is a bearer; any other scheme is refused
        assert (r.status_code == 200) == (scheme.strip().lower() == "bearer")


PAGING = [
    {"after": "x" * 10_000},
    {"after": "\x00"},
    {"after": "-1"},
    {"after": NOBODY.upper() + "0"},
    {"limit": "-1"},
    {"limit": "1e2"},
    {"limit": " 5"},
    {"limit": "9" * 30},
    {"limit": "0x10"},
]
JUNK_QUERIES = [
    *((target, params) for target in ("parts", "tradeRequest", "tradeResponse", "status") for params in PAGING),
    ("parts", {"traceId": "x" * 5000}),
    ("parts", {"parentFlag": "TRUE "}),
]


@pytest.mark.parametrize(("target", "params"), JUNK_QUERIES)
async def test_paging_out_of_range_or_junk_is_a_dts_400(dts: Dts, target: str, params: dict) -> None:
    r = await dts.get(target, **params)
    assert r.status_code == 400, r.text


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"partsName": "x" * 1_000_000}, 400),
        ({"partsName": "a\x00b"}, 400),
        ({"plantId": 5}, 400),
        ({"plantId": None}, 400),
        ({"partsName": ["a"]}, 400),
        ({"partsName": {"$ne": ""}}, 400),
        ({"amountRequired": True}, 400),
        ({"terminatedFlag": 1}, 400),
        ({"operatorId": NOBODY}, 403),
        ({"traceId": NOBODY}, 400),
        ({"plantId": NOBODY}, 400),
    ],
)
async def test_a_part_of_wrong_types_or_of_another_operator_is_refused(dts: Dts, changes: dict, status: int) -> None:
    body = dict(part(dts, await dts.plant_id(), "P"), **changes)
    r = await dts.client.put(
        "/api/v1/datatransport", params={"dataTarget": "parts"}, content=json.dumps(body), headers=dts.headers()
    )
    check(r)
    assert r.status_code == status, r.text
    assert (await dts.get("parts")).json() == []


async def test_unknown_members_are_ignored_never_stored_or_echoed(dts: Dts) -> None:
    body = dict(part(dts, await dts.plant_id(), "P"), evil={"$where": "1"}, __proto__={})
    r = await dts.put("parts", body)
    assert r.status_code == 201, r.text
    for answer in (r.json(), (await dts.get("parts")).json()[0]):
        assert not {"evil", "__proto__"} & set(answer)


@pytest.mark.parametrize(
    ("method", "target", "params", "body"),
    [
        ("GET", "partsStructure", {"traceId": NOBODY}, None),
        ("GET", "cfp", {"traceIds": NOBODY}, None),
        ("GET", "cfpCertification", {"traceId": NOBODY}, None),
        ("GET", "status", {"statusId": NOBODY}, None),
        ("DELETE", "parts", {"traceId": NOBODY}, None),
        ("PUT", "tradeResponse", {"tradeId": NOBODY, "traceId": NOBODY}, None),
        (
            "PUT",
            "status",
            {},
            {
                "statusId": NOBODY,
                "tradeId": NOBODY,
                "message": "",
                "replyMessage": None,
                "requestStatus": {"cfpResponseStatus": "CANCEL", "tradeTreeStatus": "UNTERMINATED"},
            },
        ),
        (
            "PUT",
            "cfp",
            {},
            [
                {
                    "cfpId": None,
                    "traceId": NOBODY,
                    "ghgEmission": 1,
                    "ghgDeclaredUnit": "kgCO2e/kilogram",
                    "cfpType": kind,
                    "dqrType": dqr,
                    "dqrValue": {"TeR": 1, "GeR": 1, "TiR": 1},
                }
                for kind, dqr in (
                    ("preProduction", "preProcessing"),
                    ("mainProduction", "mainProcessing"),
                    ("preComponent", "preProcessing"),
                    ("mainComponent", "mainProcessing"),
                )
            ],
        ),
    ],
)
async def test_an_id_naming_nothing_of_this_operator_reveals_nothing(
    dts: Dts, method: str, target: str, params: dict, body: Any
) -> None:
    kw = {"content": json.dumps(body)} if body is not None else {}
    r = await dts.call(method, "/api/v1/datatransport", params={"dataTarget": target, **params}, **kw)
    assert r.status_code in (200, 400, 404), r.text
    if r.status_code == 200:
        assert r.json() == []


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize(
    ("path", "params"),
    [("/api/v1/datatransport", {"dataTarget": "parts"}), ("/api/v1/authInfo", {"dataTarget": "plant"}),
     ("/auth/login", {})],
)  # fmt: skip
async def test_an_oversized_body_is_a_dts_413(dts: Dts, path: str, params: dict, chunked: bool) -> None:
    big = b'{"partsName": "' + b"x" * (dts.settings.max_body_bytes + 10) + b'"}'

    async def chunks() -> Any:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    method = "POST" if path.startswith("/auth/") else "PUT"
    r = await dts.client.request(
        method, path, params=params, content=chunks() if chunked else big, headers=dts.headers()
    )
    check(r)
    assert r.status_code == 413
    if params:
        assert "dataTarget: " + params["dataTarget"] in r.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("HEAD", "/api/v1/datatransport?dataTarget=parts", 405),
        ("OPTIONS", "/api/v1/datatransport?dataTarget=parts", 405),
        ("POST", "/api/v1/datatransport/health", 405),
        ("DELETE", "/api/v1/authInfo/health", 405),
        ("GET", "/api/v1/datatransport/nothing", 404),
        ("GET", "/api/v1/authInfo/nothing/deeper", 404),
        ("GET", "/auth/login", 404),
        ("PUT", "/auth/refresh", 404),
    ],
)
async def test_an_unknown_path_or_method_is_a_dts_error(dts: Dts, method: str, path: str, status: int) -> None:
    r = await dts.client.request(method, path, headers=dts.headers())
    assert r.status_code == status, r.text
    if method != "HEAD":
        check(r)


@pytest.mark.parametrize(
    "body",
    [
        {"operatorAccountId": "a\x00", "accountPassword": "x"},
        {"operatorAccountId": "a" * 100_000, "accountPassword": "x"},
        {"operatorAccountId": 5, "accountPassword": ["x"]},
        {"operatorAccountId": "operator@example.com"},
        [],
    ],
)
async def test_a_junk_login_is_a_dts_400(dts: Dts, body: Any) -> None:
    r = await dts.client.post("/auth/login", content=json.dumps(body), headers={"apiKey": dts.api_key})
    check(r)
    assert r.status_code == 400, r.text


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", "/api/v1/datatransport", {"dataTarget": "parts"}),
        ("GET", "/api/v1/authInfo", {"dataTarget": "operator"}),
        ("GET", f"/api/v1/datatransport/cfpCertificationFiles/{NOBODY}", {}),
        ("POST", "/auth/login", {}),
        ("POST", "/auth/change", {}),
    ],
)
async def test_an_api_key_sent_twice_is_a_dts_403_whichever_copy_is_valid(
    dts: Dts, method: str, path: str, params: dict
) -> None:
    """Read first-wins, the first copy chose the key: a copy added in front of the application's (or behind it) must
    not decide, and an answer cached for the valid key alone must not be served to the request either."""
    await dts.login()
    if method == "GET":  # the answer cache primed for the valid key
        primed = await dts.client.get(path, params=params, headers=dts.headers())
        assert primed.status_code in (200, 404), primed.text
    body = json.dumps({"operatorAccountId": "operator@example.com", "accountPassword": PASSWORD})
    for keys in ([dts.api_key, "ck_junk"], ["ck_junk", dts.api_key], [dts.api_key, dts.api_key]):
        headers = [("apiKey", key) for key in keys] + [("Authorization", f"Bearer {dts.token}")]
        r = await dts.client.request(
            method, path, params=params, headers=headers, content=body if method == "POST" else None
        )
        check(r)
        assert r.status_code == 403, (keys, r.text)  # as a missing or wrong key
        assert r.json()["code"] == "[auth] AccessDenied" and "apiKey" in r.json()["message"]
