"""The peer client: obtains tokens (private_key_jwt, or client_secret_basic for plain PACT hosts) and calls peers.

The transport is swappable so a whole dataspace of in-process nodes can talk without sockets.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ..config import Settings
from ..services import tokens
from ..services.identity import NodeIdentity


class PeerError(Exception):
    """A call to a peer failed; ``permanent`` means retrying cannot help (e.g. 4xx other than 401/408/429)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class _Token:
    value: str
    expires: datetime


class PeerClient:
    def __init__(self, settings: Settings, identity: NodeIdentity | None, *,
                 transport: httpx.AsyncBaseTransport | None = None, verify: Any = True, timeout: float = 10.0) -> None:
        self.settings, self.identity = settings, identity
        self._http = httpx.AsyncClient(transport=transport, verify=verify, timeout=timeout)
        self._tokens: dict[str, _Token] = {}
        self._endpoints: dict[str, tuple[str, datetime]] = {}

    ENDPOINT_TTL = timedelta(hours=1)
    """How long a peer's discovered token endpoint is used before asking its metadata again (a failed token request
    forgets it at once)."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _token_endpoint(self, base: str, now: datetime) -> str:
        known = self._endpoints.get(base)
        if known is not None and known[1] > now:
            return known[0]
        endpoint = f"{base}/auth/token"
        try:
            r = await self._http.get(f"{base}/.well-known/openid-configuration")
            if r.status_code == 200 and isinstance(r.json().get("token_endpoint"), str):
                endpoint = r.json()["token_endpoint"]
        except (httpx.HTTPError, ValueError):
            return endpoint  # not remembered: the metadata is asked again next time
        self._endpoints[base] = (endpoint, now + self.ENDPOINT_TTL)
        return endpoint

    async def token(self, base: str) -> str:
        now = datetime.now(UTC)
        cached = self._tokens.get(base)
        if cached and cached.expires > now + timedelta(seconds=30):
            return cached.value
        endpoint = await self._token_endpoint(base, now)
        data = {"grant_type": "client_credentials"}
        headers = {"accept": "application/json"}
        basic = self._basic_for(base)
        if basic:
            raw = base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()
            headers["authorization"] = f"Basic {raw}"
        elif self.identity is not None and self.identity.can_sign:
            data["client_assertion_type"] = tokens.ASSERTION_TYPE
            data["client_assertion"] = tokens.make_assertion(self.identity, self.settings.company_id, endpoint, now)
        else:
            raise PeerError(f"no credentials for {base}", permanent=True)
        try:
            r = await self._http.post(endpoint, data=data, headers=headers)
        except httpx.HTTPError as exc:
            self._endpoints.pop(base, None)
            raise PeerError(f"token request to {endpoint} failed: {exc!r}") from exc
        if r.status_code != 200:
            self._endpoints.pop(base, None)
            # not permanent: a refusal can be a CRL or clock not yet in step; the outbox retries until it gives up
            raise PeerError(f"token request to {endpoint} answered {r.status_code}: {r.text[:200]}")
        body = r.json()
        self._tokens[base] = _Token(body["access_token"], now + timedelta(seconds=int(body.get("expires_in", 300))))
        return body["access_token"]

    def _basic_for(self, base: str) -> tuple[str, str] | None:
        for prefix, creds in self.settings.outgoing_basic_credentials.items():
            if base.startswith(prefix.rstrip("/")):
                return creds
        return None

    async def _call(self, method: str, base: str, path: str, headers: dict[str, str] | None = None,
                    **kw: Any) -> httpx.Response:
        for attempt in (1, 2):
            token = await self.token(base)
            try:
                r = await self._http.request(method, f"{base}{path}",
                                             headers={**(headers or {}), "authorization": f"Bearer {token}"}, **kw)
            except httpx.HTTPError as exc:
                raise PeerError(f"{method} {base}{path} failed: {exc!r}") from exc
            if r.status_code == 401 and attempt == 1:
                self._tokens.pop(base, None)  # expired or node restarted: fetch a fresh token once
                continue
            return r
        return r

    async def send_event(self, base: str, event: dict[str, Any]) -> None:
        r = await self._call("POST", base, "/3/events", json=event,
                             headers={"content-type": "application/cloudevents+json"})
        if r.status_code >= 300:
            raise PeerError(f"event {event['type']} to {base} answered {r.status_code}: {r.text[:300]}",
                            permanent=400 <= r.status_code < 500 and r.status_code not in (401, 408, 409, 429))

    async def get_footprint(self, base: str, pf_id: str) -> dict[str, Any]:
        r = await self._call("GET", base, f"/3/footprints/{pf_id}")
        if r.status_code != 200:
            raise PeerError(f"GET footprint {pf_id} from {base} answered {r.status_code}",
                            permanent=r.status_code in (400, 403, 404))
        return r.json()["data"]

    async def request_certification(self, base: str, attestation: str, evidence: dict[str, Any],
                                    scope: str | None) -> str:
        r = await self._call("POST", base, "/peer/v1/certifications",
                             json={"attestation": attestation, "evidence": evidence, "scope": scope})
        if r.status_code != 200:
            raise PeerError(f"certification by {base} answered {r.status_code}: {r.text[:300]}",
                            permanent=400 <= r.status_code < 500)
        return r.json()["certification"]
