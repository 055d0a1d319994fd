"""The DTS client: our operator on an Ouranos platform (docs/ouranos.md, "Connecting to a platform").

Every call carries the platform's ``apiKey`` header and ``Authorization: Bearer`` with the access token of our
operator account there (``POST /auth/login``); a 401 refreshes the token once (``POST /auth/refresh``), and logs in
again when the refresh token is refused. Bodies go out and come back through ``wire`` (numbers exact, as Decimal).
Errors are :class:`PeerError`: a 4xx other than 401/408/429 is permanent, the rest may be retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from ...config import OuranosLogin
from .. import PeerError, call_failed
from . import wire

DATATRANSPORT = "/api/v1/datatransport"
AUTH_INFO = "/api/v1/authInfo"
FILES = "/api/v1/datatransport/cfpCertificationFiles/"
"""Not DTS (it lists files, serves none): a connector node serves each file there (decision 0021)."""
RETRYABLE = (401, 408, 429)


@dataclass
class Operator:
    operator_id: str
    open_operator_id: str
    global_operator_id: str | None


def _error(resp: httpx.Response) -> PeerError:
    try:
        body = wire.loads(resp.content)
        said = f"{body.get('code', '')}: {body.get('message', '')}" if isinstance(body, dict) else resp.text[:200]
    except wire.DtsError:
        said = resp.text[:200]
    permanent = 400 <= resp.status_code < 500 and resp.status_code not in RETRYABLE
    return PeerError(
        f"{resp.request.method} {resp.request.url.path}?{resp.request.url.query.decode()[:120]} answered "
        f"{resp.status_code} {said}"[:1000],
        permanent=permanent,
    )


class DtsClient:
    """One platform, as our operator there. ``http`` is the node's peer HTTP client (its transport, its TLS)."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, login: OuranosLogin) -> None:
        self.http, self.base, self.login = http, base_url.rstrip("/"), login
        self._access: str | None = None
        self._refresh: str | None = None
        self._own: Operator | None = None

    # authentication -------------------------------------------------------------------------------------------------

    def _key(self) -> dict[str, str]:
        return {"apiKey": self.login.api_key.get_secret_value()}

    async def _post_auth(self, path: str, body: dict[str, str]) -> httpx.Response:
        try:
            return await self.http.post(
                self.base + path,
                content=wire.dumps(body),
                headers={**self._key(), "Content-Type": "application/json"},
            )
        except httpx.HTTPError as exc:  # permanent when the platform's address is refused as the connection opens
            raise call_failed(f"POST {self.base}{path}", exc) from None

    async def sign_in(self) -> None:
        """``POST /auth/login`` with our operator account; a refused login is permanent (fix the settings)."""
        body = {"operatorAccountId": self.login.login, "accountPassword": self.login.password.get_secret_value()}
        resp = await self._post_auth("/auth/login", body)
        if resp.status_code not in (200, 201):
            err = _error(resp)
            err.permanent = resp.status_code in (400, 401, 403)
            raise err
        self._tokens(resp)

    def _tokens(self, resp: httpx.Response) -> None:
        got = wire.loads(resp.content)
        if not isinstance(got, dict) or not isinstance(got.get("accessToken"), str):
            raise PeerError(f"{self.base}: the login answer has no accessToken")
        self._access, self._refresh = got["accessToken"], got.get("refreshToken")

    async def _renew(self) -> None:
        """A new access token: the refresh token when we hold one and it is taken, else a new login."""
        if self._refresh:
            resp = await self._post_auth("/auth/refresh", {"refreshToken": self._refresh})
            if resp.status_code in (200, 201):
                self._tokens(resp)
                return
        self._access = self._refresh = None
        await self.sign_in()

    # calls ----------------------------------------------------------------------------------------------------------

    async def send(
        self, method: str, path: str, params: dict[str, str] | None = None, body: Any = None
    ) -> httpx.Response:
        """One DTS call, signed in (once more after a 401, with a renewed token); PeerError for an error answer."""
        if self._access is None:
            await self.sign_in()
        for attempt in (1, 2):
            headers = {**self._key(), "Authorization": f"Bearer {self._access}"}
            content = None
            if body is not None:
                content, headers["Content-Type"] = wire.dumps(body), "application/json"
            try:
                resp = await self.http.request(
                    method, self.base + path, params=params, content=content, headers=headers
                )
            except httpx.HTTPError as exc:
                raise call_failed(f"{method} {self.base}{path}", exc) from None
            if resp.status_code == 401 and attempt == 1:
                await self._renew()
                continue
            if resp.status_code >= 400:
                raise _error(resp)
            return resp
        raise PeerError(f"{method} {self.base}{path}: the platform refused our renewed token")  # pragma: no cover

    async def call(self, method: str, path: str, params: dict[str, str] | None = None, body: Any = None) -> Any:
        """One DTS call; its JSON answer (numbers as Decimal), None when it has no body."""
        resp = await self.send(method, path, params, body)
        if not resp.content:
            return None
        try:
            return wire.loads(resp.content)
        except wire.DtsError as exc:
            raise PeerError(f"{method} {self.base}{path} answered invalid JSON: {exc.message[:200]}") from None

    async def get(self, target: str, **params: str) -> Any:
        return await self.call("GET", DATATRANSPORT, {"dataTarget": target, **params})

    async def put(self, target: str, body: Any = None, **params: str) -> Any:
        return await self.call("PUT", DATATRANSPORT, {"dataTarget": target, **params}, body)

    async def get_all(self, target: str, **params: str) -> list[Any]:
        """Every page of a list: the next page is the ``link`` header's ``rel="next"`` (its ``after`` cursor)."""
        out: list[Any] = []
        query: dict[str, str] = {"dataTarget": target, **params}
        for _ in range(1000):
            resp = await self.send("GET", DATATRANSPORT, query)
            try:
                page = wire.loads(resp.content)
            except wire.DtsError as exc:
                raise PeerError(f"GET {target} answered invalid JSON: {exc.message[:200]}") from None
            if not isinstance(page, list):
                raise PeerError(f"{self.base}: {target} answered {type(page).__name__}, not a list")
            out.extend(page)
            after = _next_after(resp.headers.get("link", ""))
            if not page or after is None:
                return out
            query = {**query, "after": after}
        return out

    # look-ups -------------------------------------------------------------------------------------------------------

    async def own_operator(self) -> Operator:
        if self._own is None:
            self._own = _operator(await self.call("GET", AUTH_INFO, {"dataTarget": "operator"}))
        return self._own

    async def operator_by_open_id(self, open_operator_id: str) -> Operator:
        found = await self.call("GET", AUTH_INFO, {"dataTarget": "operator", "openOperatorId": open_operator_id})
        return _operator(found)

    async def operators(self, operator_ids: list[str]) -> list[Operator]:
        if not operator_ids:
            return []
        found = await self.call("GET", AUTH_INFO, {"dataTarget": "operator", "operatorIds": ",".join(operator_ids)})
        return [_operator(o) for o in found] if isinstance(found, list) else []

    async def plant_id(self) -> str:
        plants = await self.call("GET", AUTH_INFO, {"dataTarget": "plant"})
        if not isinstance(plants, list) or not plants:
            raise PeerError(f"{self.base}: our operator has no plant on this platform (register one first)")
        return str(plants[0]["plantId"])

    async def certification_file(self, file_id: str) -> bytes:
        return (await self.send("GET", FILES + quote(file_id, safe=""))).content


def _next_after(link: str) -> str | None:
    for part in link.split(","):
        if 'rel="next"' not in part or "<" not in part:
            continue
        url = httpx.URL(part[part.index("<") + 1 : part.index(">")])
        return url.params.get("after")
    return None


def _operator(found: Any) -> Operator:
    if isinstance(found, list):
        found = found[0] if found else None
    if not isinstance(found, dict) or not found.get("operatorId"):
        raise PeerError("the platform knows no such operator", permanent=True)
    attr = found.get("operatorAttribute") or {}
    return Operator(str(found["operatorId"]), str(found.get("openOperatorId", "")), attr.get("globalOperatorId"))
