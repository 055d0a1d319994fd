"""The PACT peer client: obtains tokens (PACT's OAuth2 client credentials: private_key_jwt, or client_secret_basic
for plain PACT hosts) and calls peers' ``/3`` routes, and our certification route (``/peer/v1/certifications``, on
the same tokens).

The transport is swappable so a whole dataspace of in-process nodes can talk without sockets.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from ...config import Settings
from ...exchange import targets
from ...services import tokens
from ...services.identity import NodeIdentity
from ...strict_json import strict_json_loads
from .. import PeerError, allowed, call_failed

__all__ = ["PactClient", "PeerError"]


def _answer(r: httpx.Response) -> dict[str, Any]:
    """A peer's JSON answer, read with the strict parser (as every JSON this node takes in); PeerError when it is not
    a strict JSON object."""
    try:
        body = strict_json_loads(r.content)
    except (ValueError, RecursionError) as exc:
        raise PeerError(f"{r.request.method} {r.request.url} answered with invalid JSON: {str(exc)[:200]}") from None
    if not isinstance(body, dict):
        raise PeerError(f"{r.request.method} {r.request.url} answered JSON that is not an object")
    return body


@dataclass
class _Token:
    value: str
    expires: datetime


class PactClient:
    def __init__(
        self,
        settings: Settings,
        identity: NodeIdentity | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: Any = True,
        timeout: float = 10.0,
    ) -> None:
        self.settings, self.identity = settings, identity
        self._http = httpx.AsyncClient(transport=transport, verify=verify, timeout=timeout)
        self._resolve = transport is None  # in-process transports (tests) connect to no address: names unresolved
        if self._resolve:  # every connection goes to an address checked as it is opened (the EDC's and Ouranos' too)
            targets.pin(self._http, settings.allow_private_network_targets)
        self._tokens: dict[str, _Token] = {}
        self._endpoints: dict[str, tuple[str, datetime]] = {}

    ENDPOINT_TTL = timedelta(hours=1)
    """How long a peer's discovered token endpoint is used before asking its metadata again (a failed token request
    forgets it at once)."""

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _allowed(self, url: str) -> None:
        """PeerError (permanent) unless ``url`` may be called: no private address unless the settings allow it
        (:mod:`.targets`); every URL this client calls passes here first, the discovered token endpoint too."""
        await allowed(url, self.settings.allow_private_network_targets, resolve=self._resolve)

    async def _token_endpoint(self, base: str, now: datetime) -> str:
        known = self._endpoints.get(base)
        if known is not None and known[1] > now:
            return known[0]
        endpoint = f"{base}/auth/token"
        try:
            r = await self._http.get(f"{base}/.well-known/openid-configuration")
            found = _answer(r).get("token_endpoint") if r.status_code == 200 else None
            if isinstance(found, str):
                endpoint = found
        except (httpx.HTTPError, PeerError):
            return endpoint  # not remembered: the metadata is asked again next time
        self._endpoints[base] = (endpoint, now + self.ENDPOINT_TTL)
        return endpoint

    async def token(self, base: str) -> str:
        now = datetime.now(UTC)
        cached = self._tokens.get(base)
        if cached and cached.expires > now + timedelta(seconds=30):
            return cached.value
        await self._allowed(base)
        endpoint = await self._token_endpoint(base, now)
        await self._allowed(endpoint)  # named by the peer's discovery document
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
        except httpx.HTTPError as exc:  # permanent when refused as the connection opened (call_failed)
            self._endpoints.pop(base, None)
            raise call_failed(f"token request to {endpoint}", exc) from exc
        if r.status_code != 200:
            self._endpoints.pop(base, None)
            # not permanent: a refusal can be a CRL or clock not yet in step; the outbox retries until it gives up
            raise PeerError(f"token request to {endpoint} answered {r.status_code}: {r.text[:200]}")
        body = _answer(r)
        value = body.get("access_token")
        try:
            seconds = int(body.get("expires_in", 300))
        except (TypeError, ValueError):
            seconds = -1
        if not isinstance(value, str) or seconds < 0:
            raise PeerError(f"token response of {endpoint} has no access_token or a bad expires_in")
        self._tokens[base] = _Token(value, now + timedelta(seconds=seconds))
        return value

    def _basic_for(self, base: str) -> tuple[str, str] | None:
        for prefix, creds in self.settings.outgoing_basic_credentials.items():
            if base.startswith(prefix.rstrip("/")):
                return creds
        return None

    async def _call(
        self, method: str, base: str, path: str, headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Response:
        await self._allowed(base)
        for attempt in (1, 2):
            token = await self.token(base)
            try:
                r = await self._http.request(
                    method, f"{base}{path}", headers={**(headers or {}), "authorization": f"Bearer {token}"}, **kw
                )
            except httpx.HTTPError as exc:
                raise call_failed(f"{method} {base}{path}", exc) from exc
            if r.status_code == 401 and attempt == 1:
                self._tokens.pop(base, None)  # expired or node restarted: fetch a fresh token once
                continue
            return r
        return r

    async def send_event(self, base: str, event: dict[str, Any]) -> None:
        r = await self._call(
            "POST", base, "/3/events", json=event, headers={"content-type": "application/cloudevents+json"}
        )
        if r.status_code >= 300:
            raise PeerError(
                f"event {event['type']} to {base} answered {r.status_code}: {r.text[:300]}",
                # 501: the host does not implement it (PACT's NotImplemented), which no retry changes
                permanent=(400 <= r.status_code < 500 and r.status_code not in (401, 408, 409, 429))
                or r.status_code == 501,
            )

    async def get_footprint(self, base: str, pf_id: str) -> dict[str, Any]:
        r = await self._call("GET", base, f"/3/footprints/{pf_id}")
        if r.status_code != 200:
            raise PeerError(
                f"GET footprint {pf_id} from {base} answered {r.status_code}",
                permanent=r.status_code in (400, 403, 404),
            )
        data = _answer(r).get("data")
        if not isinstance(data, dict):
            raise PeerError(f"GET footprint {pf_id} from {base}: data is not an object", permanent=True)
        return data

    async def request_certification(
        self, base: str, attestation: str, evidence: dict[str, Any], scope: str | None
    ) -> str:
        r = await self._call(
            "POST",
            base,
            "/peer/v1/certifications",
            json={"attestation": attestation, "evidence": evidence, "scope": scope},
        )
        if r.status_code != 200:
            raise PeerError(
                f"certification by {base} answered {r.status_code}: {r.text[:300]}",
                permanent=400 <= r.status_code < 500,
            )
        token = _answer(r).get("certification")
        if not isinstance(token, str):
            raise PeerError(f"certification by {base}: no certification in the answer", permanent=True)
        return token
