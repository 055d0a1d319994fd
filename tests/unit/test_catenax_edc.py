"""Our EDC Management API client: the offer it picks, the calls it makes, the EDR it reuses (a mock EDC)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connector.config import Settings
from connector.protocols import PeerError
from connector.protocols.catenax.edc import CX_COMMON, CX_TAXO, DCT, EdcClient, pick_offer

pytestmark = pytest.mark.asyncio


def _dataset(asset: str, version: str, *, type_: Any = None, policy: str = "offer") -> dict[str, Any]:
    return {
        "@id": asset,
        "dct:type": type_ if type_ is not None else {"@id": "cx-taxo:PcfExchange"},
        "cx-common:version": version,
        "odrl:hasPolicy": {"@id": f"{policy}-{asset}", "@type": "odrl:Offer"},
    }


async def test_the_best_pcf_api_version_is_picked() -> None:
    catalog = {
        "dcat:dataset": [
            _dataset("old", "1.1"),
            _dataset("v12", "1.2"),
            _dataset("v13", "1.3"),
            _dataset("twin", "1.3", type_={"@id": "cx-taxo:DigitalTwinRegistry"}),
        ]
    }
    assert pick_offer(catalog).asset_id == "v13"
    catalog["dcat:dataset"] = catalog["dcat:dataset"][:2]
    assert pick_offer(catalog).asset_id == "v12"
    # expanded IRIs, a single dataset as an object
    expanded = {
        "http://www.w3.org/ns/dcat#dataset": {
            "@id": "x",
            DCT + "type": {"@id": CX_TAXO + "PcfExchange"},
            CX_COMMON + "version": "1.3.0",
            "http://www.w3.org/ns/odrl/2/hasPolicy": [{"@id": "o"}],
        }
    }
    assert pick_offer(expanded).policy == {"@id": "o"}
    with pytest.raises(PeerError, match="PcfExchange") as refused:
        pick_offer({"dcat:dataset": [_dataset("old", "1.1")]})
    assert refused.value.permanent  # CX-0136: no compatible version, the transfer is not attempted


class MockEdc:
    def __init__(self, entries_after: int = 1) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.entries_after = entries_after

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.calls.append((request.method, path, body))
        assert request.headers["x-api-key"] == "management-key"
        if path.endswith("/v3/catalog/request"):
            return httpx.Response(200, json={"dcat:dataset": [_dataset("pcf", "1.3")]})
        if path.endswith("/v3/edrs"):
            return httpx.Response(200, json={"@id": "neg-1", "createdAt": 1})
        if path.endswith("/v3/edrs/request"):
            polls = sum(1 for c in self.calls if c[1].endswith("/v3/edrs/request"))
            found = polls >= self.entries_after
            return httpx.Response(200, json=[{"transferProcessId": "tp-1"}] if found else [])
        if path.endswith("/v3/edrs/tp-1/dataaddress"):
            return httpx.Response(200, json={"endpoint": "https://dp.partner.example/api/public", "authorization": "t"})
        return httpx.Response(404)


def _client(edc: MockEdc) -> EdcClient:
    settings = Settings()
    settings.catenax.edc_management_url = "https://edc.example.com/management"
    settings.catenax.edc_api_key = SecretStr("management-key")
    client = EdcClient(settings, httpx.AsyncClient(transport=httpx.MockTransport(edc.handler)), resolve=False)
    client.poll_interval = 0.01
    return client


async def test_access_negotiates_once_then_reuses_the_edr() -> None:
    edc = MockEdc(entries_after=3)
    client = _client(edc)
    access = await client.access("https://edc.partner.example/api/v1/dsp", "BPNL0000000PACK1")
    assert (access.endpoint, access.authorization) == ("https://dp.partner.example/api/public", "t")
    paths = [c[1].removeprefix("/management") for c in edc.calls]
    assert paths == [
        "/v3/catalog/request",
        "/v3/edrs",
        "/v3/edrs/request",
        "/v3/edrs/request",
        "/v3/edrs/request",
        "/v3/edrs/tp-1/dataaddress",
    ]
    catalog_body, edr_body = edc.calls[0][2], edc.calls[1][2]
    assert catalog_body["counterPartyId"] == "BPNL0000000PACK1"
    assert catalog_body["protocol"] == "dataspace-protocol-http"
    policy = edr_body["policy"]
    assert (policy["@id"], policy["assigner"], policy["target"]) == ("offer-pcf", "BPNL0000000PACK1", "pcf")
    again = await client.access("https://edc.partner.example/api/v1/dsp", "BPNL0000000PACK1")
    assert again is access and len(edc.calls) == 6  # reused, no new call
    client.forget(None, "BPNL0000000PACK1")
    await client.access("https://edc.partner.example/api/v1/dsp", "BPNL0000000PACK1")
    assert [c[1] for c in edc.calls[6:]][0].endswith("/v3/catalog/request")  # forgotten: negotiated again


async def test_an_edr_that_never_comes_fails_in_time() -> None:
    edc = MockEdc(entries_after=10_000)
    client = _client(edc)
    client.settings.catenax.edr_wait = 0.05
    with pytest.raises(PeerError, match="no EDR"):
        await client.access("https://edc.partner.example/api/v1/dsp", "BPNL0000000PACK1")


async def test_private_addresses_are_refused_before_any_call() -> None:
    edc = MockEdc()
    client = _client(edc)
    client.settings.catenax.edc_management_url = "http://127.0.0.1:9999/management"
    with pytest.raises(PeerError) as refused:
        await client.access("https://edc.partner.example/api/v1/dsp", "BPNL0000000PACK1")
    assert refused.value.permanent and edc.calls == []


async def test_no_edc_configured_is_a_permanent_error() -> None:
    client = EdcClient(Settings(), httpx.AsyncClient(), resolve=False)
    with pytest.raises(PeerError, match="edc_management_url") as refused:
        await client.catalog("https://edc.partner.example/api/v1/dsp", "BPNL0000000PACK1")
    assert refused.value.permanent
