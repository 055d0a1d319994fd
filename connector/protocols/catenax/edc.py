"""Our own Tractus-X EDC, through its Management API (v3): the way to a Catena-X partner's PCF API.

No dataspace protocol here: the EDC speaks DSP with the partner's connector; we ask it for the partner's catalog
(``POST /v3/catalog/request``), start the negotiation and transfer for the PCF asset's offer in one call
(``POST /v3/edrs``), find the resulting EDR (``POST /v3/edrs/request``) and read its data address
(``GET /v3/edrs/{transferProcessId}/dataaddress``: the partner's data plane endpoint and the token for it). The PCF
API is then called through that data plane (:mod:`.client`).

Only addresses the outbound policy allows are called (``exchange.targets``): our EDC, and the data plane endpoints it
hands out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from ...config import Settings
from ...strict_json import strict_json_loads
from .. import PeerError, allowed, call_failed

EDC = "https://w3id.org/edc/v0.0.1/ns/"
ODRL = "http://www.w3.org/ns/odrl/2/"
DCT = "http://purl.org/dc/terms/"
CX_TAXO = "https://w3id.org/catenax/taxonomy#"
CX_COMMON = "https://w3id.org/catenax/ontology/common#"
PCF_ASSET_TYPE = "PcfExchange"
API_VERSIONS = ("1.3", "1.3.0", "1.2", "1.2.0")
"""PCF API versions of a partner's asset we call (``cx-common:version``), best first: the ``footprintExchange``
paths. CX-0136: pick the highest compatible one, and stop when none is."""

CONTEXT = {
    "@vocab": EDC,
    "edc": EDC,
    "odrl": ODRL,
    "dct": DCT,
    "cx-taxo": CX_TAXO,
    "cx-common": CX_COMMON,
}


@dataclass(frozen=True)
class Offer:
    asset_id: str
    policy: dict[str, Any]
    version: str


@dataclass
class Access:
    """A partner's data plane: where to call and the token to send (``Authorization``)."""

    endpoint: str
    authorization: str
    transfer_process_id: str
    until: float


def _member(obj: Any, *names: str) -> Any:
    """A JSON-LD member under any of its spellings: ``edc:x``, the full IRI, or the bare term (``@vocab``)."""
    if not isinstance(obj, dict):
        return None
    for name in names:
        if name in obj:
            return obj[name]
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _id(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("@id")
    return str(value) if value is not None else ""


def _is_pcf_type(value: Any) -> bool:
    return any(_id(v) in (f"cx-taxo:{PCF_ASSET_TYPE}", CX_TAXO + PCF_ASSET_TYPE) for v in _as_list(value))


def pick_offer(catalog: dict[str, Any], versions: tuple[str, ...] = API_VERSIONS) -> Offer:
    """The PCF exchange dataset of a partner's catalog with the best API version we call, and its first offer."""
    found: list[tuple[int, Offer]] = []
    for dataset in _as_list(_member(catalog, "dcat:dataset", "http://www.w3.org/ns/dcat#dataset", "dataset")):
        if not _is_pcf_type(_member(dataset, "dct:type", DCT + "type", "type")):
            continue
        version = str(_member(dataset, "cx-common:version", CX_COMMON + "version") or "")
        policies = _as_list(_member(dataset, "odrl:hasPolicy", ODRL + "hasPolicy", "hasPolicy"))
        if version not in versions or not policies or not isinstance(policies[0], dict):
            continue
        asset_id = _id(dataset.get("@id") or dataset.get("id"))
        found.append((versions.index(version), Offer(asset_id, policies[0], version)))
    if not found:
        raise PeerError(
            f"the partner's catalog offers no {PCF_ASSET_TYPE} asset of a PCF API version we call "
            f"({', '.join(versions)})",
            permanent=True,
        )
    return min(found, key=lambda f: f[0])[1]


class EdcClient:
    """Calls our EDC's Management API (``settings.catenax.edc_management_url``, with its ``X-Api-Key``)."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient, *, resolve: bool = True) -> None:
        self.settings, self.http, self._resolve = settings, http, resolve
        self._access: dict[tuple[str, str], Access] = {}
        self.poll_interval = 0.25

    @property
    def base(self) -> str:
        url = self.settings.catenax.edc_management_url
        if not url:
            raise PeerError("no EDC Management API is configured (catenax.edc_management_url)", permanent=True)
        return url.rstrip("/")

    async def allowed(self, url: str) -> None:
        await allowed(url, self.settings.allow_private_network_targets, resolve=self._resolve)

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = f"{self.base}{path}"
        await self.allowed(url)
        key = self.settings.catenax.edc_api_key
        headers = {"accept": "application/json"}
        if key is not None:
            headers["x-api-key"] = key.get_secret_value()
        try:
            r = await self.http.request(method, url, json=body, headers=headers)
        except httpx.HTTPError as exc:  # permanent when our EDC's address is refused as the connection opens
            raise call_failed(f"EDC {method} {path}", exc) from exc
        if r.status_code >= 300:
            raise PeerError(
                f"EDC {method} {path} answered {r.status_code}: {r.text[:300]}",
                permanent=r.status_code in (400, 404, 422),
            )
        try:
            return strict_json_loads(r.content)
        except (ValueError, RecursionError) as exc:
            raise PeerError(f"EDC {method} {path} answered invalid JSON: {str(exc)[:200]}") from None

    async def discover(self, bpnl: str) -> str:
        """The partner's DSP address, from its BPNL, by the EDC's connector discovery."""
        body = {
            "@context": {"edc": EDC, "tx": "https://w3id.org/tractusx/v0.0.1/ns/"},
            "@type": "tx:ConnectorServiceDiscoveryRequest",
            "counterPartyId": bpnl,
        }
        found = await self._call("POST", "/v4alpha/connectordiscovery/connectors", body)
        for item in _as_list(found):
            address = _member(item, "edc:counterPartyAddress", EDC + "counterPartyAddress", "counterPartyAddress")
            if isinstance(address, str) and address:
                return address
        raise PeerError(f"the EDC discovered no connector of {bpnl}", permanent=True)

    async def catalog(self, address: str, bpnl: str) -> dict[str, Any]:
        """The partner's catalog (filtered here, by :func:`pick_offer`: the contract types a filter's operands as
        objects, which the EDC does not take)."""
        body = {
            "@context": CONTEXT,
            "@type": "CatalogRequest",
            "counterPartyAddress": address,
            "counterPartyId": bpnl,
            "protocol": self.settings.catenax.dsp_protocol,
        }
        catalog = await self._call("POST", "/v3/catalog/request", body)
        if not isinstance(catalog, dict):
            raise PeerError("the EDC's catalog answer is not an object")
        return catalog

    async def start_edr(self, address: str, bpnl: str, offer: Offer) -> str:
        """Negotiation and transfer for ``offer`` in one call; the negotiation's id."""
        policy = {
            **{k: v for k, v in offer.policy.items() if k != "@context"},
            "@context": "http://www.w3.org/ns/odrl.jsonld",
            "@type": "odrl:Offer",
            "assigner": bpnl,
            "target": offer.asset_id,
        }
        body = {
            "@context": CONTEXT,
            "@type": "ContractRequest",
            "counterPartyAddress": address,
            "protocol": self.settings.catenax.dsp_protocol,
            "policy": policy,
        }
        answer = await self._call("POST", "/v3/edrs", body)
        negotiation = _member(answer, "@id")
        if not isinstance(negotiation, str) or not negotiation:
            raise PeerError("the EDC's negotiation answer has no @id")
        return negotiation

    async def edr_entry(self, negotiation_id: str) -> str | None:
        """The transfer process id of the EDR the negotiation led to, once there is one."""
        body = {
            "@context": CONTEXT,
            "@type": "QuerySpec",
            "filterExpression": [
                {"operandLeft": "contractNegotiationId", "operator": "=", "operandRight": negotiation_id}
            ],
        }
        for entry in _as_list(await self._call("POST", "/v3/edrs/request", body)):
            tp = _member(entry, "transferProcessId", "edc:transferProcessId", EDC + "transferProcessId")
            if isinstance(tp, str) and tp:
                return tp
        return None

    async def data_address(self, transfer_process_id: str) -> tuple[str, str]:
        """The EDR's data plane endpoint and the token to present there."""
        found = await self._call("GET", f"/v3/edrs/{transfer_process_id}/dataaddress?auto_refresh=true")
        endpoint = _member(found, "endpoint", "edc:endpoint", EDC + "endpoint")
        token = _member(found, "authorization", "edc:authorization", EDC + "authorization")
        if not isinstance(endpoint, str) or not isinstance(token, str) or not endpoint or not token:
            raise PeerError("the EDR's data address has no endpoint or authorization")
        await self.allowed(endpoint)
        return endpoint.rstrip("/"), token

    async def access(self, address: str | None, bpnl: str) -> Access:
        """A data plane endpoint and token for the partner's PCF API: negotiated once, then reused (the EDC
        refreshes the token when the address is read again)."""
        if self.settings.catenax.discovery == "edc" or not address:
            address = await self.discover(bpnl)
        key = (address, bpnl)
        known = self._access.get(key)
        now = time.monotonic()
        if known is not None and known.until > now:
            return known
        if known is not None:
            endpoint, token = await self.data_address(known.transfer_process_id)
        else:
            offer = pick_offer(await self.catalog(address, bpnl))
            negotiation = await self.start_edr(address, bpnl, offer)
            deadline = now + self.settings.catenax.edr_wait
            tp = await self.edr_entry(negotiation)
            while tp is None:
                if time.monotonic() > deadline:
                    raise PeerError(f"no EDR for negotiation {negotiation} after {self.settings.catenax.edr_wait}s")
                await asyncio.sleep(self.poll_interval)
                tp = await self.edr_entry(negotiation)
            endpoint, token = await self.data_address(tp)
            known = Access(endpoint, token, tp, 0)
        known = Access(endpoint, token, known.transfer_process_id, time.monotonic() + 240)
        self._access[key] = known
        return known

    def forget(self, address: str | None, bpnl: str) -> None:
        """Drop a partner's access (its data plane refused the token): the next call negotiates again."""
        for key in [k for k in self._access if k[1] == bpnl and (address is None or k[0] == address)]:
            del self._access[key]
