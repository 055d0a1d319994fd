"""A DTS client for tests: the ``apiKey`` header and a bearer token from ``/auth/login``; each response checked to be
in DTS's form (never problem+json, never a 5xx) and, when the official spec is given (``CONNECTOR_DTS_OPENAPI``),
against its response schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.config import Settings
from connector.protocols.ouranos import mapping
from connector.services import accounts
from connector.services.context import NodeContext
from tests import ouranos_spec

PASSWORD = "correct-horse-battery-9"
CORPORATE = "1234567890123"


def add_user(engine: Engine, settings: Settings, login: str = "operator@example.com", role: str = "editor") -> str:
    with Session(engine, expire_on_commit=False) as session:
        accounts.create_user(NodeContext(session, settings), login, PASSWORD, role)
        session.commit()
    return login


@dataclass
class Dts:
    client: httpx.AsyncClient
    api_key: str
    settings: Settings
    token: str = ""
    checked: list[str] = field(default_factory=list)

    @property
    def operator_id(self) -> str:
        return mapping.operator_id(self.settings.company_id)

    def headers(self, bearer: bool = True) -> dict[str, str]:
        out = {"apiKey": self.api_key}
        if bearer and self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    async def login(self, login: str = "operator@example.com", password: str = PASSWORD) -> httpx.Response:
        resp = await self.call("POST", "/auth/login", json={"operatorAccountId": login, "accountPassword": password})
        if resp.status_code == 201:
            self.token = resp.json()["accessToken"]
        return resp

    async def call(
        self, method: str, path: str, *, params: dict[str, str] | None = None, headers: dict | None = None, **kw: Any
    ) -> httpx.Response:
        bearer = not path.startswith("/auth/") or path == "/auth/change"
        resp = await self.client.request(
            method, path, params=params, headers=headers if headers is not None else self.headers(bearer), **kw
        )
        check(resp)
        if ouranos_spec.spec() is not None and resp.status_code < 500:
            query = dict(parse_qsl(urlsplit(str(resp.request.url)).query))
            body = resp.json() if resp.content else None
            ouranos_spec.check_response(method, path, query, resp.status_code, body)
            self.checked.append(f"{method} {path}?{query.get('dataTarget', '')} {resp.status_code}")
        return resp

    async def get(self, target: str, **params: str) -> httpx.Response:
        return await self.call("GET", "/api/v1/datatransport", params={"dataTarget": target, **params})

    async def put(self, target: str, body: Any = None, **params: str) -> httpx.Response:
        kw: dict[str, Any] = {"json": body} if body is not None else {}
        return await self.call("PUT", "/api/v1/datatransport", params={"dataTarget": target, **params}, **kw)

    async def delete(self, target: str, **params: str) -> httpx.Response:
        return await self.call("DELETE", "/api/v1/datatransport", params={"dataTarget": target, **params})

    async def auth_info(self, method: str, target: str, body: Any = None, **params: str) -> httpx.Response:
        kw: dict[str, Any] = {"json": body} if body is not None else {}
        return await self.call(method, "/api/v1/authInfo", params={"dataTarget": target, **params}, **kw)

    async def plant_id(self) -> str:
        return (await self.auth_info("GET", "plant")).json()[0]["plantId"]


async def open_dts(engine: Engine, tmp_path: Any) -> AsyncIterator[Dts]:
    """One node serving DTS, an editor and a viewer account, a client logged in as the editor with a viewer key."""
    from connector.api.app import create_app

    from .conftest import make_settings, seed_keys

    settings = make_settings(
        tmp_path, corporate_number=CORPORATE, company_address="1-1 Setouchi", hold_unmatched_requests=True
    )
    app = create_app(settings, engine=engine)
    keys = seed_keys(engine)
    add_user(engine, settings)
    add_user(engine, settings, "viewer@example.com", "viewer")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://node.test") as client:
        d = Dts(client, keys["viewer"], settings)
        assert (await d.login()).status_code == 201
        yield d


def check(resp: httpx.Response) -> None:
    """DTS's form on every answer: JSON errors ``{code, message, detail}`` with a ``[source] Status`` code."""
    assert resp.status_code < 500, resp.text
    assert "problem+json" not in resp.headers.get("content-type", ""), resp.text
    if resp.status_code >= 400:
        body = resp.json()
        assert set(body) == {"code", "message", "detail"}, body
        assert body["code"].startswith(("[dataspace] ", "[auth] ", "[traceability] ")), body


def part(dts: Dts, plant: str, name: str, *, trace: str | None = None, unit: str = "kilogram", **kw: Any) -> dict:
    return {
        "traceId": trace,
        "operatorId": dts.operator_id,
        "plantId": plant,
        "partsName": name,
        "supportPartsName": kw.pop("support", None),
        "terminatedFlag": kw.pop("terminated", False),
        "amountRequired": kw.pop("amount", None),
        "amountRequiredUnit": unit,
        **kw,
    }


def cfp_body(trace: str, values: dict[str, Any], unit: str = "kgCO2e/kilogram", cfp_id: str | None = None) -> list:
    dqr = {"TeR": 2.1, "GeR": 2.2, "TiR": 2.3}
    kinds = {
        "preProduction": "preProcessing",
        "mainProduction": "mainProcessing",
        "preComponent": "preProcessing",
        "mainComponent": "mainProcessing",
    }
    return [
        {
            "cfpId": cfp_id,
            "traceId": trace,
            "ghgEmission": values.get(kind, 0),
            "ghgDeclaredUnit": unit,
            "cfpType": kind,
            "dqrType": dqr_type,
            "dqrValue": dqr,
        }
        for kind, dqr_type in kinds.items()
    ]
