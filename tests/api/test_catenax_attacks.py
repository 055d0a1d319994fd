"""Hostile calls to the Catena-X PCF API (``/catenax``): a missing or wrong proxy secret, a missing, malformed,
duplicated or spoofed ``Edc-Bpn``, products not granted, replayed request ids, answers nobody asked for, junk bodies
and versions. Every answer is the protocol's own ``{code, message}`` body, never problem+json and never a 500."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from connector.config import Settings
from connector.exchange import bought
from connector.services.identity import NodeIdentity

from .conftest import Api, assert_problem, open_api
from .conftest import make_settings as _settings
from .factories import issued_footprint

pytestmark = pytest.mark.asyncio

SECRET = "proxy-secret-of-the-data-plane"
CUSTOMER = "urn:pact:oem.example:company:oem"
CUSTOMER_BPNL = "BPNL00000000OEM1"
OTHER = "urn:pact:rival.example:company:rival"
OTHER_BPNL = "BPNL0000000RIVL1"
SUPPLIER = "urn:pact:cells.example:company:cells"
SUPPLIER_BPNL = "BPNL000000CELLS1"
GRANTED = "urn:pact:test-node.example:product:granted-pack"
HIDDEN = "urn:pact:test-node.example:product:hidden-pack"


@pytest_asyncio.fixture
async def cx(engine: Engine, tmp_path: Any) -> AsyncIterator[Api]:
    async for api in catenax_node(engine, _settings(tmp_path)):
        yield api


async def catenax_node(engine: Engine, settings: Settings, identity: NodeIdentity | None = None) -> AsyncIterator[Api]:
    """A provider node with its proxy secret and BPNL, three Catena-X partners (two customers, one supplier) and two
    footprints, one granted to CUSTOMER."""
    settings.catenax.api_key = SecretStr(SECRET)
    settings.catenax.bpnl = "BPNL000000000001"
    async for api in open_api(engine, settings, identity):
        for company, bpnl, customer in (
            (CUSTOMER, CUSTOMER_BPNL, True),
            (OTHER, OTHER_BPNL, True),
            (SUPPLIER, SUPPLIER_BPNL, False),
        ):
            body = {
                "companyId": company,
                "name": company.rsplit(":", 1)[1],
                "isCustomer": customer,
                "isSupplier": not customer,
                "protocol": "catenax",
                "bpnl": bpnl,
                "nodeUrl": f"https://edc.{company.split(':')[2]}/api/v1/dsp",
            }
            r = await api.post("/api/v1/partners", body, role="admin")
            assert r.status_code == 201, r.text
        granted, _ = await issued_footprint(api, GRANTED)
        await issued_footprint(api, HIDDEN)
        r = await api.post("/api/v1/grants", {"productId": granted, "companyId": CUSTOMER})
        assert r.status_code == 201, r.text
        yield api


def _as(bpnl: str | None = CUSTOMER_BPNL, secret: str | None = SECRET) -> dict[str, str]:
    out = {}
    if secret is not None:
        out["X-Api-Key"] = secret
    if bpnl is not None:
        out["Edc-Bpn"] = bpnl
    return out


def catenax_error(resp: httpx.Response, status: int) -> dict:
    """The PCF API's own error body: ``{code, message}`` JSON, never problem+json, never a 5xx."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/json"), resp.headers["content-type"]
    body = resp.json()
    assert set(body) == {"code", "message"}, body
    return body


PATH_SUBMODEL = f"/catenax/submodel/{GRANTED}"


async def test_the_granted_customer_reads_its_pcf(cx: Api) -> None:
    r = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert r.status_code == 200, r.text
    assert json.loads(r.content)["companyAndProductInformation"]


@pytest.mark.parametrize(
    "headers",
    [
        _as(secret=None),
        _as(secret="wrong"),
        _as(secret=SECRET.upper()),
        _as(secret=SECRET + " "),
        _as(secret=""),
        [("X-Api-Key", "wrong"), ("X-Api-Key", SECRET), ("Edc-Bpn", CUSTOMER_BPNL)],
        [("X-Api-Key", SECRET), ("X-Api-Key", SECRET), ("Edc-Bpn", CUSTOMER_BPNL)],
        {"Authorization": f"Bearer {SECRET}", "Edc-Bpn": CUSTOMER_BPNL},
    ],
    ids=["none", "wrong", "case", "space", "empty", "second-of-two", "twice", "as-bearer"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", PATH_SUBMODEL),
        ("GET", f"/catenax/footprintExchange/r1?manufacturerPartId={GRANTED}"),
        ("GET", f"/catenax/productIds/{GRANTED}?requestId=r1"),
        ("PUT", "/catenax/footprintExchange/r1"),
        ("PUT", "/catenax/productIds/x?requestId=r1"),
    ],
)
async def test_without_the_one_proxy_secret_nothing_is_said(cx: Api, headers: Any, method: str, path: str) -> None:
    r = await cx.client.request(method, path, headers=headers, content=b"{}" if method == "PUT" else None)
    assert catenax_error(r, 401)["code"] == "AccessDenied"


async def test_the_api_is_off_without_a_configured_secret(engine: Engine, tmp_path: Any) -> None:
    async for api in open_api(engine, _settings(tmp_path)):
        r = await api.client.get(PATH_SUBMODEL, headers=_as())
        assert catenax_error(r, 401)["code"] == "AccessDenied"


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        (_as(bpnl=None), 400),
        (_as(bpnl=""), 400),
        (_as(bpnl="BPNS0000000000A1"), 400),
        (_as(bpnl=CUSTOMER_BPNL + "X"), 400),
        (_as(bpnl="' OR 1=1 --"), 400),
        ([("X-Api-Key", SECRET), ("Edc-Bpn", OTHER_BPNL), ("Edc-Bpn", CUSTOMER_BPNL)], 400),
        ([("X-Api-Key", SECRET), ("Edc-Bpn", CUSTOMER_BPNL), ("Edc-Bpn", OTHER_BPNL)], 400),
        ([("X-Api-Key", SECRET), ("Edc-Bpn", CUSTOMER_BPNL), ("edc-bpn", CUSTOMER_BPNL)], 400),
        (_as(bpnl=OTHER_BPNL), 404),
        (_as(bpnl=SUPPLIER_BPNL), 404),
        (_as(bpnl="BPNL0000000NOBOD"), 404),
    ],
    ids=["none", "empty", "bpns", "long", "sql", "dup-rival-first", "dup-rival-second", "dup-case", "rival",
         "supplier", "stranger"],
)  # fmt: skip
async def test_a_missing_duplicated_or_spoofed_bpnl_never_reads_anothers_grant(
    cx: Api, headers: Any, status: int
) -> None:
    r = await cx.client.get(PATH_SUBMODEL, headers=headers)
    body = catenax_error(r, status)
    if status == 404:
        assert body == {"code": "NotFound", "message": "no PCF for this product"}


async def test_header_names_are_case_insensitive_and_the_bpnl_is_normalised(cx: Api) -> None:
    r = await cx.client.get(PATH_SUBMODEL, headers={"x-api-key": SECRET, "EDC-BPN": f" {CUSTOMER_BPNL.lower()} "})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "product",
    [
        HIDDEN,
        HIDDEN.upper(),
        "urn:pact:nowhere.example:product:none",
        "x",
        "..%2F..%2Fapi%2Fv1%2Fproducts",
        f"{GRANTED}%2F..%2F{HIDDEN.rsplit(':', 1)[1]}",
        f"{GRANTED}/",
        f"{HIDDEN}/$value",
        "%2e%2e",
        "a" * 5000,
    ],
)
async def test_a_product_not_granted_is_the_same_404_as_a_missing_one(cx: Api, product: str) -> None:
    r = await cx.client.get(f"/catenax/submodel/{product}", headers=_as())
    assert r.status_code in (400, 404), r.text
    body = catenax_error(r, r.status_code)
    if r.status_code == 404:  # a path leaving /catenax once resolved: the unknown path's 404, before the API runs
        escapes = product.startswith("..%2F..%2F")
        assert body == {"code": "NotFound", "message": "Not Found" if escapes else "no PCF for this product"}


async def test_the_granted_urn_in_another_case_is_the_same_product(cx: Api) -> None:
    r = await cx.client.get(f"/catenax/submodel/{GRANTED.upper()}/$value", headers=_as())
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "version", ["junk", "9.0", "9.0.0 ", " 9.0.0", "9.0.0\x00", "9.0.0,8.0.0", "../9.0.0", "x" * 5000, "１"]
)
async def test_a_junk_data_model_version_is_a_400_naming_the_supported_one(cx: Api, version: str) -> None:
    for path, params in ((PATH_SUBMODEL, {}), ("/catenax/footprintExchange/r1", {"manufacturerPartId": GRANTED})):
        r = await cx.client.get(path, params={**params, "dataModelVersion": version}, headers=_as())
        body = catenax_error(r, 400)
        assert "9.0.0" in body["message"] and len(body["message"]) < 200


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"manufacturerPartId": ""},
        {"manufacturerPartId": GRANTED, "message": "m" * 251},
        {"manufacturerPartId": GRANTED, "x-cfpconnector-verifiers": "!!!"},
        {"manufacturerPartId": GRANTED, "x-cfpconnector-verifiers": "aGVsbG8"},
        {"manufacturerPartId": GRANTED, "x-cfpconnector-verifiers": ["aGVsbG8"] * 9},
        {"manufacturerPartId": f"{GRANTED}\x00"},
        {"manufacturerPartId": GRANTED, "message": "hi\x00"},
    ],
)
async def test_a_malformed_request_is_a_400(cx: Api, params: dict) -> None:
    r = await cx.client.get("/catenax/footprintExchange/r1", params=params, headers=_as())
    assert catenax_error(r, 400)["code"] == "BadRequest"


@pytest.mark.parametrize("request_id", ["a%20b", "a%2Fb", "a" * 201, "%00", "<script>", "r%0d%0aX: y"])
async def test_a_malformed_request_id_is_a_400(cx: Api, request_id: str) -> None:
    r = await cx.client.get(f"/catenax/productIds/{GRANTED}?requestId={request_id}", headers=_as())
    assert catenax_error(r, 400)["code"] == "BadRequest"
    r = await cx.client.put(f"/catenax/footprintExchange/{request_id}", headers=_as(SUPPLIER_BPNL), content=b"{}")
    assert r.status_code in (400, 404), r.text  # a slash makes it another path: the 404 is the API's own
    catenax_error(r, r.status_code)


async def _incoming(cx: Api) -> list[dict]:
    r = await cx.get("/api/v1/requests", params={"limit": 500})
    return [x for x in r.json()["items"] if x["direction"] == "incoming"]


@pytest.mark.parametrize("product", [GRANTED, HIDDEN, "urn:pact:nowhere.example:product:none"])
async def test_a_request_is_accepted_alike_whatever_the_product_and_a_replay_adds_nothing(
    cx: Api, product: str
) -> None:
    path = "/catenax/footprintExchange/replayed-1"
    for _ in range(3):
        r = await cx.client.get(path, params={"manufacturerPartId": product}, headers=_as())
        assert r.status_code == 202 and r.content == b"", r.text
    # the same requestId with another part: still the first request, nothing new
    r = await cx.client.get(path, params={"manufacturerPartId": GRANTED + "x"}, headers=_as())
    assert r.status_code == 202
    mine = [x for x in await _incoming(cx) if x["eventId"] == "replayed-1"]
    assert len(mine) == 1
    # a rival reusing the customer's requestId opens its own request, never the customer's
    r = await cx.client.get(path, params={"manufacturerPartId": product}, headers=_as(OTHER_BPNL))
    assert r.status_code == 202
    assert len([x for x in await _incoming(cx) if x["eventId"] == "replayed-1"]) == 2


async def test_a_request_from_a_bpnl_that_is_no_partner_is_refused(cx: Api) -> None:
    r = await cx.client.get(
        "/catenax/footprintExchange/r1", params={"manufacturerPartId": GRANTED}, headers=_as("BPNL0000000NOBOD")
    )
    assert catenax_error(r, 403)["code"] == "AccessDenied"
    assert await _incoming(cx) == []


async def _asked_supplier(cx: Api) -> str:
    """A request this node sent to SUPPLIER for a part of GRANTED's BOM: its requestId."""
    pid = (await cx.get("/api/v1/products", params={"limit": 500})).json()["items"][0]["id"]
    line = {
        "kind": "supplier",
        "supplierCompanyId": SUPPLIER,
        "supplierProductId": "urn:pact:cells.example:product:cell",
        "quantity": "2",
        "unit": "kilogram",
    }
    r = await cx.post(f"/api/v1/products/{pid}/bom", line)
    assert r.status_code == 201, r.text
    r = await cx.post("/api/v1/requests", {"bomLineId": r.json()["id"]})
    assert r.status_code == 201, r.text
    return r.json()["eventId"]


async def test_an_answer_from_a_bpnl_never_asked_is_refused(cx: Api) -> None:
    asked = await _asked_supplier(cx)
    doc = json.dumps({"id": "x"}).encode()
    for bpnl, status in ((OTHER_BPNL, 404), (CUSTOMER_BPNL, 404), ("BPNL0000000NOBOD", 403)):
        r = await cx.client.put(f"/catenax/footprintExchange/{asked}", content=doc, headers=_as(bpnl))
        catenax_error(r, status)
        r = await cx.client.put(f"/catenax/productIds/x?requestId={asked}", content=doc, headers=_as(bpnl))
        catenax_error(r, status)
    r = await cx.client.put("/catenax/footprintExchange/never-sent", content=doc, headers=_as(SUPPLIER_BPNL))
    assert catenax_error(r, 404)["code"] == "NotFound"
    # an update without a requestId is taken from suppliers only
    r = await cx.client.put("/catenax/productIds/x", content=doc, headers=_as(CUSTOMER_BPNL))
    assert catenax_error(r, 403)["code"] == "AccessDenied"
    state = (await cx.get("/api/v1/requests", params={"limit": 500})).json()["items"]
    assert [x["state"] for x in state if x["eventId"] == asked] == ["pending"]


BAD_BODIES = [
    b"",
    b"{",
    b"[]",
    b"null",
    b"1e999999",
    b'"pcf"',
    b'{"a": 1, "a": 2}',
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b"\xff\xfe{}",
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"[" * 100_000,
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
@pytest.mark.parametrize("path", ["/catenax/footprintExchange/r1", "/catenax/productIds/x?requestId=r1"])
async def test_a_malformed_body_is_the_apis_own_400(cx: Api, body: bytes, path: str) -> None:
    r = await cx.client.put(path, content=body, headers={**_as(SUPPLIER_BPNL), "content-type": "application/json"})
    assert catenax_error(r, 400)["code"] == "BadRequest"


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("path", ["/catenax/footprintExchange/r1", "/catenax/productIds/x?requestId=r1"])
async def test_an_oversized_body_is_the_apis_own_413(cx: Api, path: str, chunked: bool) -> None:
    big = b'{"pad": "' + b"x" * (cx.settings.max_body_bytes + 10) + b'"}'

    async def chunks() -> Any:
        for i in range(0, len(big), 65536):
            yield big[i : i + 65536]

    r = await cx.client.put(path, content=chunks() if chunked else big, headers=_as(SUPPLIER_BPNL))
    assert catenax_error(r, 413)["code"] == "BadRequest"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/catenax/footprintExchange/r1", 405),
        ("DELETE", PATH_SUBMODEL, 405),
        ("PATCH", "/catenax/productIds/x", 405),
        ("GET", "/catenax/nothing", 404),
        ("GET", "/catenax", 404),
        ("GET", "/catenax/footprintExchange", 404),
    ],
)
async def test_an_unknown_path_or_method_is_the_apis_own_error(cx: Api, method: str, path: str, status: int) -> None:
    catenax_error(await cx.client.request(method, path, headers=_as()), status)


async def test_the_openapi_document_says_what_the_api_answers(cx: Api) -> None:
    """Each /catenax operation declares its path parameters, its real success status and the error statuses, so an
    outside fuzzer (schemathesis) can check every answer against it."""
    paths = {p: ops for p, ops in cx.app.openapi()["paths"].items() if p.startswith("/catenax/")}
    assert len(paths) == 4
    for path, ops in paths.items():
        for method, op in ops.items():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), (method, path)
            assert {"Edc-Bpn", "X-Api-Key"} <= {p["name"] for p in op["parameters"]}
            assert {"400", "401", "403", "404"} <= set(op["responses"]), (method, path)
            ok = "202" if method == "get" and "/submodel/" not in path else "200"
            assert ok in op["responses"] and ({"200", "202"} - {ok}).isdisjoint(op["responses"]), (method, path)


async def test_a_bpnl_already_another_partners_is_a_409_never_a_500(cx: Api) -> None:
    """Found by schemathesis: the unique BPNL made POST a 500 and PATCH a 503 ("connection lost")."""
    body = {"companyId": "urn:pact:thief.example:company:thief", "name": "Thief", "isCustomer": True}
    r = await cx.post("/api/v1/partners", {**body, "protocol": "catenax", "bpnl": CUSTOMER_BPNL}, role="admin")
    assert_problem(r, 409)
    r = await cx.post("/api/v1/partners", body, role="admin")
    assert r.status_code == 201, r.text
    thief = r.json()["id"]
    for bpnl in (CUSTOMER_BPNL, CUSTOMER_BPNL.lower()):
        r = await cx.patch(f"/api/v1/partners/{thief}", {"protocol": "catenax", "bpnl": bpnl}, role="admin")
        assert r.status_code in (409, 422), r.text  # taken, or (lower case) not a BPNL
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await cx.client.get(PATH_SUBMODEL, headers=_as())
    assert r.status_code == 200
    partners = (await cx.get("/api/v1/partners", params={"limit": 500})).json()["items"]
    assert [p["companyId"] for p in partners if p["bpnl"] == CUSTOMER_BPNL] == [CUSTOMER]
    # its own BPNL again is no conflict
    me = next(p for p in partners if p["companyId"] == CUSTOMER)
    r = await cx.patch(f"/api/v1/partners/{me['id']}", {"bpnl": CUSTOMER_BPNL}, role="admin")
    assert r.status_code == 200, r.text


def _pcf_id(doc: bytes) -> str:
    """The PCF's id as our receipt names it (its ``urn:uuid:`` prefix dropped)."""
    from connector.protocols.catenax.reading import CatenaxFootprint

    return CatenaxFootprint(json.loads(doc)).id


def _sample_pcf() -> bytes:
    """The sample PCF of scripts/validate-catenax-pcf.py (the pack of Kyushu Pack; an attestation we cannot trust)."""
    import importlib.util
    import sys
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "validate-catenax-pcf.py"
    spec = importlib.util.spec_from_file_location("validate_catenax_pcf", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.sample_payload()


async def test_an_update_nobody_asked_for_is_taken_only_for_a_part_we_buy(cx: Api) -> None:
    """API 1.1's PUT without a requestId (a new version): from a supplier, for a part none of our BOM lines buys
    from it, it is a 404 and nothing is kept (it used to be stored as an entered value)."""
    doc = _sample_pcf()
    part = json.loads(doc)["companyAndProductInformation"][0]["productInformation"][0]["productIds"][0]
    r = await cx.client.put(f"/catenax/productIds/{part}", content=doc, headers=_as(SUPPLIER_BPNL))
    assert catenax_error(r, 404)["code"] == "NotFound"
    assert (await cx.get("/api/v1/upstream-footprints")).json()["items"] == []
    audit = (await cx.get("/api/v1/audit", params={"limit": 500}, role="admin")).json()["items"]
    refused = [(a["actor"], a["subject"], a["details"]["reason"]) for a in audit if a["action"] == "footprint.refused"]
    assert refused == [(SUPPLIER, _pcf_id(doc), bought.NOT_BOUGHT)]  # committed with the 404: our operator sees it
    pid = (await cx.get("/api/v1/products", params={"limit": 500})).json()["items"][0]["id"]
    line = {"kind": "supplier", "supplierCompanyId": SUPPLIER, "supplierProductId": part, "quantity": "1",
            "unit": "kilowatt hour"}  # fmt: skip
    assert (await cx.post(f"/api/v1/products/{pid}/bom", line)).status_code == 201
    r = await cx.client.put(f"/catenax/productIds/{part}", content=doc, headers=_as(SUPPLIER_BPNL))
    assert r.status_code == 200, r.text  # taken: its attestation, which we cannot trust, is refused where we see it


OUTSIDE = {
    "resolved": [  # what a data plane (or a proxy before us) that resolved "/catenax/../health" sends on
        "/health",
        "/api/v1/products",
        "/api/v1/datatransport?dataTarget=parts",
        "/3/footprints",
        "/auth/token",
        "/console/",
        "/docs",
        "/",
    ],
    "encoded": [  # decoded by the server into the path Starlette routes on: dot segments left in it
        "/catenax/..%2fhealth",
        "/catenax/..%2Fapi/v1/products",
        "/catenax/%2e%2e/health",
        "/catenax/%2E%2E%2Fapi%2Fv1%2Fproducts",
        "/catenax/%2e%2e%2f%2e%2e%2fhealth",
        "/catenax/submodel/..%2f..%2f..%2fapi/v1/products",
        "/catenax/.%2f..%2fhealth",
        "/catenax/%2e%2e",
        "/api/v1/products/..%2f..%2f..%2fcatenax/submodel/x",  # routed as it is: not under /catenax until resolved
    ],
    "slashes-and-case": [
        "//health",
        "//api//v1//products",
        "/catenax//%2e%2e//%2e%2e//health",
        "/catenax///%2e%2e/health",
        "/CATENAX/submodel/x",
        "/catenaxx/submodel/x",
    ],
}
EDC_BPN_NAMES = ["Edc-Bpn", "edc-bpn", "EDC-BPN", "eDc-BpN"]


def _absolute(cx: Api, path: str) -> httpx.URL:
    """The path as given, percent-encodings and double slashes kept (a relative URL would merge them)."""
    return httpx.URL(str(cx.client.base_url).rstrip("/") + path)


@pytest.mark.parametrize("kind", list(OUTSIDE))
async def test_a_data_plane_request_never_leaves_catenax(cx: Api, kind: str, caplog: pytest.LogCaptureFixture) -> None:
    """Whatever the consumer put in the path: refused before any route, as an unknown /catenax path is (nothing
    told about what lies outside), with the proxy secret or without, whatever the header's case or value."""
    unknown = catenax_error(await cx.client.get("/catenax/nothing-here", headers=_as()), 404)
    for path in OUTSIDE[kind]:
        for name in EDC_BPN_NAMES:
            for headers in ({"X-Api-Key": SECRET, name: CUSTOMER_BPNL}, {name: ""}, {name: "x", **cx.as_("admin")}):
                caplog.clear()
                with caplog.at_level("WARNING", logger="connector.api"):
                    r = await cx.client.get(_absolute(cx, path), headers=headers)
                assert catenax_error(r, 404) == unknown, (path, headers)
                assert any("data-plane request outside /catenax" in m for m in caplog.messages), (path, headers)
                assert "content-security-policy" not in r.headers, path  # refused before the console answered


async def test_the_same_paths_answer_without_the_data_planes_header(cx: Api) -> None:
    for path in ("/health", "/api/v1/products", "/console/"):
        r = await cx.client.get(path, headers=cx.as_("admin"))
        assert r.status_code in (200, 303), (path, r.status_code, r.text)


async def test_a_data_plane_request_under_catenax_goes_on_to_the_api(cx: Api, caplog: pytest.LogCaptureFixture) -> None:
    for path in (PATH_SUBMODEL, f"/catenax//submodel/{GRANTED}", f"/catenax/%2e/submodel/{GRANTED}", "/catenax"):
        caplog.clear()
        with caplog.at_level("WARNING", logger="connector.api"):
            r = await cx.client.get(_absolute(cx, path), headers=_as())
        assert not any("outside /catenax" in m for m in caplog.messages), path
        if path == PATH_SUBMODEL:
            assert r.status_code == 200, r.text
        else:  # the router's own answer (no such route): the API's body, as before
            catenax_error(r, 404)
