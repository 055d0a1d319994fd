"""The DTS client on a scripted platform: login, a 401 renewed by refresh (or a new login), errors as PeerError with
the right permanence, pages followed by the ``link`` header, numbers exact."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from connector.config import OuranosLogin
from connector.protocols import PeerError
from connector.protocols.ouranos.client import DtsClient

pytestmark = pytest.mark.asyncio
BASE = "https://dts.platform.example"


class Platform:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.valid = "a1"
        self.refresh_ok = True
        self.fail: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, query = request.url.path, dict(request.url.params)
        self.calls.append(f"{request.method} {path} {query.get('dataTarget', '')} {query.get('after', '')}".strip())
        assert request.headers["apiKey"] == "key-1"
        if path == "/auth/login":
            assert json.loads(request.content) == {"operatorAccountId": "ops@x.example", "accountPassword": "pw"}
            self.valid = "a-login"
            return httpx.Response(201, json={"accessToken": self.valid, "refreshToken": "r1"})
        if path == "/auth/refresh":
            if not self.refresh_ok:
                return httpx.Response(400, json={"code": "[auth] BadRequest", "message": "expired", "detail": ""})
            self.valid = "a-refreshed"
            return httpx.Response(201, json={"accessToken": self.valid, "refreshToken": "r2"})
        if request.headers.get("Authorization") != f"Bearer {self.valid}":
            return httpx.Response(401, json={"code": "[auth] Unauthorized", "message": "expired", "detail": ""})
        if self.fail is not None:
            return httpx.Response(self.fail, json={"code": "[dataspace] BadRequest", "message": "no", "detail": ""})
        if query.get("dataTarget") == "status":
            if query.get("after") == "2":
                return httpx.Response(200, json=[{"tradeId": "3"}])
            link = f'<{BASE}/api/v1/datatransport?dataTarget=status&after=2>; rel="next"'
            return httpx.Response(200, json=[{"tradeId": "1"}, {"tradeId": "2"}], headers={"link": link})
        return httpx.Response(200, content=b'[{"ghgEmission":10.1234567890123456789}]')


def client(platform: Platform) -> DtsClient:
    login = OuranosLogin(api_key="key-1", login="ops@x.example", password="pw")  # type: ignore[arg-type]
    return DtsClient(httpx.AsyncClient(transport=httpx.MockTransport(platform)), BASE, login)


async def test_a_401_is_renewed_by_refresh_then_by_a_new_login() -> None:
    platform = Platform()
    dts = client(platform)
    got = await dts.get("cfp", traceIds="t")
    assert got[0]["ghgEmission"] == Decimal("10.1234567890123456789")  # exact, never through float
    platform.valid = "rotated-elsewhere"
    await dts.get("cfp", traceIds="t")
    assert "POST /auth/refresh" in platform.calls
    platform.valid, platform.refresh_ok = "rotated-again", False
    platform.calls.clear()
    await dts.get("cfp", traceIds="t")
    assert [c.split()[1] for c in platform.calls] == [
        "/api/v1/datatransport",
        "/auth/refresh",
        "/auth/login",
        "/api/v1/datatransport",
    ]


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (403, True), (404, True), (429, False), (503, False)])
async def test_errors_say_whether_retrying_can_help(status: int, permanent: bool) -> None:
    platform = Platform()
    platform.fail = status
    with pytest.raises(PeerError) as caught:
        await client(platform).get("cfp", traceIds="t")
    assert caught.value.permanent is permanent
    assert str(status) in str(caught.value)


async def test_lists_follow_the_link_header() -> None:
    platform = Platform()
    rows = await client(platform).get_all("status", statusTarget="REQUEST")
    assert [r["tradeId"] for r in rows] == ["1", "2", "3"]
    assert platform.calls[-1].endswith("status 2")


async def test_a_refused_login_is_permanent() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"code": "[auth] Unauthorized", "message": "Invalid credentials", "detail": ""})

    login = OuranosLogin(api_key="k", login="l", password="p")  # type: ignore[arg-type]
    dts = DtsClient(httpx.AsyncClient(transport=httpx.MockTransport(refuse)), BASE, login)
    with pytest.raises(PeerError) as caught:
        await dts.get("parts")
    assert caught.value.permanent and "Invalid credentials" in str(caught.value)
