"""The EDC hop, simulated at the boundary, for in-process Catena-X networks (the tests, the demo).

Each company's "EDC" is two hosts on the in-process transport: its Management API (``edc-<slug>.test``, the subset
our client calls: catalog, ``/v3/edrs``, ``/v3/edrs/request``, the EDR data address) and its data plane
(``dp-<slug>.test``). A data plane call with a token it issued is forwarded to the company's node under ``/catenax``
with what a Tractus-X data plane adds: ``Edc-Bpn`` (the consumer's BPNL) and the asset's proxy secret. No DSP is
simulated: negotiation is immediate. Not a connector; a stand-in for two real EDCs.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

ASSET_ID = "pcf-exchange"


@dataclass
class Participant:
    bpnl: str
    slug: str
    backend: str  # the node's base URL, e.g. http://a.test
    api_key: str  # the proxy secret the asset's data address carries
    management_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @property
    def dsp(self) -> str:
        return f"http://edc-{self.slug}.test/api/v1/dsp"

    @property
    def management(self) -> str:
        return f"http://edc-{self.slug}.test/management"

    @property
    def data_plane(self) -> str:
        return f"http://dp-{self.slug}.test/api/public"


class SimulatedEdcs:
    """Every participant's EDC; ``transport`` reaches the nodes (the network's router)."""

    def __init__(self, transport: httpx.AsyncBaseTransport) -> None:
        self.transport = transport
        self.by_bpnl: dict[str, Participant] = {}
        self.negotiations: dict[str, tuple[str, str]] = {}  # negotiation id -> (consumer bpnl, provider bpnl)
        self.tokens: dict[str, tuple[str, str]] = {}  # token -> (consumer bpnl, provider bpnl)
        self.calls: list[tuple[str, str, str]] = []  # (host, method, path) of every call, for tests

    def add(self, participant: Participant) -> None:
        self.by_bpnl[participant.bpnl] = participant

    def apps(self) -> dict[str, Any]:
        """host -> ASGI app, to register on the network's router."""
        out: dict[str, Any] = {}
        for p in self.by_bpnl.values():
            out[f"edc-{p.slug}.test"] = self._management(p)
            out[f"dp-{p.slug}.test"] = self._data_plane(p)
        return out

    def _provider_at(self, address: str) -> Participant | None:
        return next((p for p in self.by_bpnl.values() if p.dsp == address.rstrip("/")), None)

    def _management(self, me: Participant) -> FastAPI:
        app = FastAPI()

        def refuse(request: Request) -> Response | None:
            if request.headers.get("x-api-key") != me.management_key:
                return Response(status_code=401)
            return None

        @app.post("/management/v3/catalog/request")
        async def catalog(request: Request) -> Any:
            if (r := refuse(request)) is not None:
                return r
            body = await request.json()
            self.calls.append((me.slug, "POST", "catalog"))
            provider = self._provider_at(body["counterPartyAddress"])
            if provider is None or provider.bpnl != body.get("counterPartyId"):
                return Response(status_code=502)
            return {
                "@id": str(uuid.uuid4()),
                "@type": "dcat:Catalog",
                "dcat:dataset": [
                    {
                        "@id": ASSET_ID,
                        "@type": "dcat:Dataset",
                        "dct:type": {"@id": "cx-taxo:PcfExchange"},
                        "cx-common:version": "1.3",
                        "odrl:hasPolicy": {"@id": f"offer-{provider.slug}", "@type": "odrl:Offer"},
                    }
                ],
                "dspace:participantId": provider.bpnl,
            }

        @app.post("/management/v3/edrs")
        async def edrs(request: Request) -> Any:
            if (r := refuse(request)) is not None:
                return r
            body = await request.json()
            provider = self._provider_at(body["counterPartyAddress"])
            if provider is None or body["policy"].get("assigner") != provider.bpnl:
                return Response(status_code=400)
            negotiation = str(uuid.uuid4())
            self.negotiations[negotiation] = (me.bpnl, provider.bpnl)
            self.calls.append((me.slug, "POST", "edrs"))
            return {"@id": negotiation, "createdAt": 0}

        @app.post("/management/v3/edrs/request")
        async def edr_entries(request: Request) -> Any:
            if (r := refuse(request)) is not None:
                return r
            body = await request.json()
            wanted = body["filterExpression"][0]["operandRight"]
            if wanted not in self.negotiations:
                return []
            return [{"@id": wanted, "transferProcessId": f"tp-{wanted}", "contractNegotiationId": wanted}]

        @app.get("/management/v3/edrs/{tp}/dataaddress")
        async def data_address(request: Request, tp: str) -> Any:
            if (r := refuse(request)) is not None:
                return r
            consumer, provider = self.negotiations[tp.removeprefix("tp-")]
            token = secrets.token_urlsafe(16)
            self.tokens[token] = (consumer, provider)
            return {
                "@type": "DataAddress",
                "type": "https://w3id.org/idsa/v4.1/HTTP",
                "endpoint": self.by_bpnl[provider].data_plane,
                "authorization": token,
            }

        return app

    def _data_plane(self, me: Participant) -> FastAPI:
        app = FastAPI()

        @app.api_route("/api/public/{path:path}", methods=["GET", "PUT"])
        async def proxy(request: Request, path: str) -> Response:
            found = self.tokens.get(request.headers.get("authorization", ""))
            if found is None or found[1] != me.bpnl:
                return Response(status_code=403)
            self.calls.append((me.slug, request.method, f"/{path}"))
            headers = {"edc-bpn": found[0], "x-api-key": me.api_key}
            if request.headers.get("content-type"):
                headers["content-type"] = request.headers["content-type"]
            async with httpx.AsyncClient(transport=self.transport) as client:
                r = await client.request(
                    request.method,
                    f"{me.backend}/catenax/{path}",
                    params=request.query_params,
                    content=await request.body(),
                    headers=headers,
                )
            return Response(content=r.content, status_code=r.status_code, media_type="application/json")

        return app
