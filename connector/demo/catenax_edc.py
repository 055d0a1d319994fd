"""The EDC hop, simulated at the boundary, for in-process Catena-X networks (the tests, the demo).

One app (:meth:`SimulatedEdcs.app`) at ``base`` plays every company's EDC: under ``/<slug>/management`` its
Management API (the subset our client calls: catalog, ``/v3/edrs``, ``/v3/edrs/request``, the EDR data address),
under ``/<slug>/api/public`` its data plane, and ``/<slug>/api/v1/dsp`` names its connector. A data plane call with a token it issued is forwarded to the company's node under ``/catenax``
with what a Tractus-X data plane adds: ``Edc-Bpn`` (the consumer's BPNL) and the asset's proxy secret. No DSP is
simulated: negotiation is immediate. Not a connector; a stand-in for two real EDCs.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response

ASSET_ID = "pcf-exchange"


def demo_bpnl(company_id: str) -> str:
    """A stable, made-up BPNL for a demo company."""
    return "BPNL" + hashlib.sha256(company_id.encode()).hexdigest()[:12].upper()


@dataclass
class Participant:
    bpnl: str
    slug: str
    backend: str  # the node's base URL, e.g. http://a.test
    api_key: str  # the proxy secret the asset's data address carries
    base: str = "http://edc.test"  # where the simulated EDCs are served
    management_key: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    @property
    def dsp(self) -> str:
        return f"{self.base}/{self.slug}/api/v1/dsp"

    @property
    def management(self) -> str:
        return f"{self.base}/{self.slug}/management"

    @property
    def data_plane(self) -> str:
        return f"{self.base}/{self.slug}/api/public"


class SimulatedEdcs:
    """Every participant's EDC; ``transport`` (or ``verify``, for real HTTPS nodes) reaches the nodes."""

    def __init__(self, transport: httpx.AsyncBaseTransport | None = None, *, verify: Any = True) -> None:
        self.transport, self.verify = transport, verify
        self._http: httpx.AsyncClient | None = None
        self.by_bpnl: dict[str, Participant] = {}
        self.negotiations: dict[str, tuple[str, str]] = {}  # negotiation id -> (consumer bpnl, provider bpnl)
        self.tokens: dict[str, tuple[str, str]] = {}  # token -> (consumer bpnl, provider bpnl)
        self.calls: list[tuple[str, str, str]] = []  # (host, method, path) of every call, for tests

    def add(self, participant: Participant) -> None:
        self.by_bpnl[participant.bpnl] = participant

    def app(self) -> FastAPI:
        """Every participant's Management API and data plane, under ``/<slug>``."""
        app = FastAPI()
        for p in self.by_bpnl.values():
            app.mount(f"/{p.slug}/management", self._management(p))
            app.mount(f"/{p.slug}/api/public", self._data_plane(p))
        return app

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(transport=self.transport, verify=self.verify, timeout=30)
        return self._http

    def _provider_at(self, address: str) -> Participant | None:
        return next((p for p in self.by_bpnl.values() if p.dsp == address.rstrip("/")), None)

    def _management(self, me: Participant) -> FastAPI:
        app = FastAPI()

        def refuse(request: Request) -> Response | None:
            if request.headers.get("x-api-key") != me.management_key:
                return Response(status_code=401)
            return None

        @app.post("/v3/catalog/request")
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

        @app.post("/v3/edrs")
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

        @app.post("/v3/edrs/request")
        async def edr_entries(request: Request) -> Any:
            if (r := refuse(request)) is not None:
                return r
            body = await request.json()
            wanted = body["filterExpression"][0]["operandRight"]
            if wanted not in self.negotiations:
                return []
            return [{"@id": wanted, "transferProcessId": f"tp-{wanted}", "contractNegotiationId": wanted}]

        @app.get("/v3/edrs/{tp}/dataaddress")
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

        @app.api_route("/{path:path}", methods=["GET", "PUT"])
        async def proxy(request: Request, path: str) -> Response:
            found = self.tokens.get(request.headers.get("authorization", ""))
            if found is None or found[1] != me.bpnl:
                return Response(status_code=403)
            update = request.query_params.get("update") == "true"
            self.calls.append((me.slug, f"{request.method}-update" if update else request.method, f"/{path}"))
            headers = {"edc-bpn": found[0], "x-api-key": me.api_key}
            if request.headers.get("content-type"):
                headers["content-type"] = request.headers["content-type"]
            r = await self.http().request(
                request.method,
                f"{me.backend}/catenax/{path}",
                params=str(request.query_params),
                content=await request.body(),
                headers=headers,
            )
            return Response(content=r.content, status_code=r.status_code, media_type="application/json")

        return app


def pack_pair_over_catenax(document: dict[str, Any]) -> None:
    """Put the automaker and the pack maker of a chain file on Catena-X (``connector demo --catenax``)."""
    from .chain import pack_maker_of

    pair = {"customer": document["declaration"]["issuerCompanyId"], "supplier": pack_maker_of(document)}
    document.setdefault("protocols", []).append({**pair, "protocol": "catenax"})


class DemoEdcs:
    """The demo's simulated EDCs for the pairs its chain file puts on Catena-X, served on 127.0.0.1 by uvicorn in a
    thread of the demo process (the nodes call it as their EDC; it calls the nodes over HTTPS)."""

    def __init__(self, document: dict[str, Any], node_urls: dict[str, str], port: int, verify: Any) -> None:
        from .chain import pair_protocols

        members = {c for pair, protocol in pair_protocols(document).items() if protocol == "catenax" for c in pair}
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        self.edcs = SimulatedEdcs(verify=verify)
        self.participants = {
            cid: Participant(
                demo_bpnl(cid), cid.rsplit(":", 1)[-1], node_urls[cid], secrets.token_urlsafe(16), base=self.base
            )
            for cid in sorted(members)
        }
        for p in self.participants.values():
            self.edcs.add(p)
        self._server: Any = None
        self._thread: Any = None

    def settings_of(self, company_id: str) -> dict[str, Any]:
        """The node's ``catenax`` settings (none when it speaks no Catena-X)."""
        p = self.participants.get(company_id)
        if p is None:
            return {}
        return {
            "catenax": {
                "bpnl": p.bpnl,
                "api_key": p.api_key,
                "edc_management_url": p.management,
                "edc_api_key": p.management_key,
            }
        }

    def address(self, company_id: str) -> tuple[str, str]:
        p = self.participants[company_id]
        return p.dsp, p.bpnl

    def start(self) -> None:
        import threading
        import time

        import uvicorn

        if not self.participants:
            return
        config = uvicorn.Config(self.edcs.app(), host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="demo-edcs", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None
