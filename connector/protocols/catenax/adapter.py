"""The Catena-X adapter (CX-0136): the core's intents over the PCF API, through our own EDC.

| intent  | Catena-X                                                                                         |
|---------|--------------------------------------------------------------------------------------------------|
| ask     | ``GET {data plane}/footprintExchange/{request id}?manufacturerPartId=&dataModelVersion=&message=`` |
| answer  | ``PUT {data plane}/footprintExchange/{request id}`` with the PCF (io.catenax.pcf 9.0.0)            |
| publish | ``PUT {data plane}/footprintExchange/{the customer's last request id}?update=true`` with the new PCF |
| others  | none: the PCF API has no rejection or cancellation (the core enqueues none)                       |

The data plane is the partner's, reached with an EDR our EDC negotiated for the partner's ``PcfExchange`` asset
(:mod:`.edc`); the partner is named by its BPNL (a partner field), its connector by the partner's node URL (its DSP
address) or by the EDC's discovery. See docs/decisions/0023-catena-x-pcf-exchange.md.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import APIRouter
from sqlmodel import Session

from ...api.deps import write_session
from ...exchange import outbox
from ...services.context import NodeContext
from ...storage import bpn
from ...storage import repositories as repo
from ...storage.tables import Footprint, Product
from .. import PeerError, call_failed
from . import api_doc, pcf_model, reading, render, router
from .edc import EdcClient

_NODES: dict[str, Any] = {}
"""The apps mounting this adapter, by public URL (the ``source`` the outbox worker sends as): their database holds
the partners' BPNLs and their settings our EDC's address."""
_EDCS: dict[tuple[str, int], EdcClient] = {}


class CatenaxAdapter:
    name = "catenax"
    intents = frozenset({outbox.ASK, outbox.ANSWER, outbox.PUBLISH})
    router: APIRouter

    def __init__(self) -> None:
        self.router = router.router

    def footprint_document(
        self, ctx: Any, footprint: Any, product: Any, audience: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        version = ctx.settings.catenax.data_model_version
        document: dict[str, Any] = pcf_model.loads(
            render.pcf_bytes(ctx, footprint, product, audience, version=version, fresh=fresh)
        )
        return document

    def read_footprint(self, document: dict[str, Any]) -> reading.CatenaxFootprint:
        return reading.CatenaxFootprint(document)

    def request_asked(self, kind: str, body: dict[str, Any]) -> str | None:
        return None  # no message of this protocol predates intents

    def wire_message(self, message: Any, source: str) -> dict[str, Any] | None:
        """The PCF API call an intent becomes: method, path, query and body (the data plane is found when sent)."""
        kind, body = message.kind, message.body
        version = _app(source).state.settings.catenax.data_model_version if source in _NODES else "9.0.0"
        if kind == outbox.ASK:
            query: dict[str, Any] = {"manufacturerPartId": body["productIds"][0], "dataModelVersion": version}
            if body.get("message"):
                query["message"] = str(body["message"])[: api_doc.MESSAGE_MAX]
            if body.get("verifierCertificates"):  # so the supplier seals its evidence to them (decision 0023)
                query[api_doc.X_VERIFIERS] = [router.encode_verifier(pem) for pem in body["verifierCertificates"]]
            return {"method": "GET", "path": f"/footprintExchange/{quote(body['id'], safe='')}", "query": query}
        if kind == outbox.ANSWER:
            return {
                "method": "PUT",
                "path": f"/footprintExchange/{quote(body['requestId'], safe='')}",
                "query": {},
                "bodies": body["footprints"],
            }
        if kind == outbox.PUBLISH:
            return {"method": "PUT", "path": None, "query": {"update": "true"}, "footprintIds": body["footprintIds"]}
        raise PeerError(f"the Catena-X adapter carries no {kind} message", permanent=True)

    async def deliver(self, client: Any, message: Any, *, source: str) -> dict[str, Any] | None:
        call = self.wire_message(message, source)
        assert call is not None
        app = _app(source)
        if message.kind == outbox.PUBLISH:
            updates = await asyncio.to_thread(_updates, app, message.company_id, call["footprintIds"])
            for request_id, pcf in updates:
                update = {**call, "path": f"/footprintExchange/{quote(request_id, safe='')}", "bodies": [pcf]}
                await self._send(app, client, message, update)
            return None  # a customer that never asked over Catena-X gets no update: the PCF API has no push
        await self._send(app, client, message, call)
        return None

    async def _send(self, app: Any, client: Any, message: Any, call: dict[str, Any]) -> None:
        bpnl = await asyncio.to_thread(_bpnl_of, app, message.company_id)
        if not bpnl:
            raise PeerError(f"partner {message.company_id} has no BPNL to reach it over Catena-X", permanent=True)
        edc = _edc(app, client)
        access = await edc.access(message.target_url, bpnl)
        url = f"{access.endpoint}{call['path']}"
        headers = {"authorization": access.authorization}
        bodies = call.get("bodies")
        for body in bodies if bodies is not None else [None]:
            content = pcf_model.dumps(body) if body is not None else None
            if content is not None:
                headers["content-type"] = "application/json"
            try:
                r = await edc.http.request(call["method"], url, params=call["query"], content=content, headers=headers)
            except httpx.HTTPError as exc:  # permanent when the data plane's address is refused as it connects
                raise call_failed(f"{call['method']} {url}", exc) from exc
            if r.status_code in (401, 403):
                edc.forget(message.target_url, bpnl)  # an expired or refused EDR: negotiate again next time
            if r.status_code >= 300:
                raise PeerError(
                    f"{call['method']} {call['path']} through {bpnl}'s data plane answered {r.status_code}: "
                    f"{r.text[:300]}",
                    permanent=r.status_code in (400, 404, 422),
                )

    def start(self, app: Any) -> None:
        _NODES[app.state.settings.public_url.rstrip("/")] = app
        router.routes_first(app)

    def close(self, app: Any) -> None:
        router.close(app)
        source = app.state.settings.public_url.rstrip("/")
        if _NODES.get(source) is app:
            del _NODES[source]


def _app(source: str) -> Any:
    app = _NODES.get(source)
    if app is None:
        raise PeerError(f"no node at {source} mounts the Catena-X adapter")
    return app


def _bpnl_of(app: Any, company_id: str) -> str | None:
    with Session(app.state.engine) as session:
        return bpn.bpnl_of(NodeContext(session, app.state.settings, None).session, company_id)


def _updates(app: Any, customer: str, footprint_ids: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """For each new footprint: the customer's last request id for its product, and the PCF as the customer gets it
    (its attestation issued here when missing, so in a write transaction)."""
    out: list[tuple[str, dict[str, Any]]] = []
    with write_session(app) as session:
        ctx = NodeContext(session, app.state.settings, app.state.identity)
        version = ctx.settings.catenax.data_model_version
        for footprint_id in footprint_ids:
            fp = session.get(Footprint, footprint_id)
            product = session.get(Product, fp.product_id) if fp is not None else None
            if fp is None or product is None or not repo.has_grant(session, product.id, customer):
                continue
            request_id = bpn.last_request_id(session, customer, product.id, "catenax")
            if request_id is not None:
                pcf = render.pcf_bytes(ctx, fp, product, customer, version=version)
                out.append((request_id, pcf_model.loads(pcf)))
    return out


def _edc(app: Any, client: Any) -> EdcClient:
    http = getattr(client, "_http", None)
    if not isinstance(http, httpx.AsyncClient):
        raise PeerError("the outbox worker's client has no HTTP client for the EDC", permanent=True)
    key = (app.state.settings.public_url, id(http))
    found = _EDCS.get(key)
    if found is None or found.http is not http:
        found = _EDCS[key] = EdcClient(app.state.settings, http, resolve=bool(getattr(client, "_resolve", True)))
    return found


ADAPTER = CatenaxAdapter()
