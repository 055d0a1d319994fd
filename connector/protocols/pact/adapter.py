"""The PACT v3 adapter: renders the exchange core's outbox intents as PACT CloudEvents when they are sent, reads a
received ProductFootprint for the core's receipt, and mounts the ``/3`` and ``/auth`` routers.

| intent    | PACT                                                                               |
|-----------|------------------------------------------------------------------------------------|
| ask       | ``RequestCreatedEvent`` (event id: the request's), POST /3/events                  |
| answer    | ``RequestFulfilledEvent`` with the footprints as rendered for the customer          |
| reject    | ``RequestRejectedEvent`` ``{code, message}``                                       |
| publish   | ``PublishedEvent`` ``{pfIds}``                                                     |
| fetch     | ``GET /3/footprints/{id}``                                                         |
| cancel    | none: PACT v3 has no event for it, so the core enqueues none (``intents``)         |
| refused   | our own ``AnswerRefusedEvent`` (the whole answer) or ``FootprintRefusedEvent`` (part of an answer, or a |
|           | footprint fetched after a ``PublishedEvent``; decision 0019); a partner that refuses the type is let be  |
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from ...exchange import outbox
from .. import PeerError
from . import auth, events, footprint_file, render_cache, rendering, router

log = logging.getLogger("connector.protocols.pact")


class PactFootprint:
    """A received PACT ProductFootprint, read for the core's receipt: each member read from the document when asked
    (a malformed one fails there, and is refused)."""

    __slots__ = ("_ext", "document")

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._ext = rendering.find_extension(document) or {}

    @property
    def id(self) -> str:
        return self.document["id"]

    @property
    def company_ids(self) -> list[str]:
        return self.document.get("companyIds", [])

    @property
    def product_ids(self) -> list[str]:
        return self.document["productIds"]

    @property
    def status(self) -> str | None:
        return self.document.get("status")

    @property
    def attestation(self) -> str | None:
        return self._ext.get("attestation")

    @property
    def evidence(self) -> Any:
        return self._ext.get("evidence")

    @property
    def certifications(self) -> list[Any]:
        return self._ext.get("certifications") or []

    def total(self) -> Decimal:
        return Decimal(self.document["pcf"]["pcfExcludingBiogenicUptake"])

    def declared_unit(self) -> Any:
        return self.document["pcf"]["declaredUnitOfMeasurement"]

    def entered_values(self) -> Any:
        return footprint_file.read_footprint(self.document)


def _at(body: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(body["at"]).replace("Z", "+00:00"))


def _refused_event(body: dict[str, Any], source: str) -> dict[str, Any]:
    """A ``refused`` intent as our event: ``AnswerRefusedEvent`` when the whole answer to a request was refused (a
    message queued before partial refusals has no ``whole``, and was one), ``FootprintRefusedEvent`` otherwise; each
    refused footprint listed in ``refusals``."""
    refusals = [
        {
            "pfId": f["footprintId"] or "(no id)",
            **({"version": f["version"]} if f.get("version") else {}),
            "error": {"code": "FootprintRefused", "message": f["reason"]},
        }
        for f in body.get("footprints") or []
    ]
    request_id = body.get("requestId")
    if request_id and body.get("whole", True):
        data: dict[str, Any] = {
            "requestEventId": request_id,
            "error": {"code": "AnswerRefused", "message": body["reason"]},
        }
        if refusals:
            data["refusals"] = refusals
        return events.cloud_event(events.ANSWER_REFUSED, source, data, event_id=body["id"], at=_at(body))
    data = {"refusals": refusals}
    if request_id:
        data["requestEventId"] = request_id
    return events.cloud_event(events.FOOTPRINT_REFUSED, source, data, event_id=body["id"], at=_at(body))


class PactAdapter:
    name = "pact"
    intents = frozenset({outbox.ASK, outbox.ANSWER, outbox.REJECT, outbox.PUBLISH, outbox.FETCH, outbox.REFUSED})
    router: APIRouter

    def __init__(self) -> None:
        self.router = APIRouter()
        self.router.include_router(auth.router)
        self.router.include_router(router.router)

    def footprint_document(
        self, ctx: Any, footprint: Any, product: Any, audience: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        return render_cache.render_for(ctx, footprint, product, audience, fresh=fresh)

    def read_footprint(self, document: dict[str, Any]) -> PactFootprint:
        return PactFootprint(document)

    def request_asked(self, kind: str, body: dict[str, Any]) -> str | None:
        if kind == outbox.SEND_EVENT and body.get("type") == events.REQUEST_CREATED:
            return str(body.get("id"))
        return None

    def wire_message(self, message: Any, source: str) -> dict[str, Any] | None:
        """The CloudEvent an outbox message is sent as (None: a fetch, which sends no event)."""
        kind, body = message.kind, message.body
        if kind == outbox.SEND_EVENT:
            return body  # queued before intents: the event as it was rendered then
        if kind == outbox.ASK:
            data: dict[str, Any] = {"productId": body["productIds"], "companyId": body["companyIds"]}
            if body.get("message"):
                data["comment"] = body["message"]
                data[events.X_MESSAGE] = body["message"]
            if body.get("dueDate"):
                data[events.X_DUE] = body["dueDate"]
            if body.get("verifierCertificates"):
                data[events.X_VERIFIERS] = body["verifierCertificates"]
            return events.cloud_event(events.REQUEST_CREATED, source, data, event_id=body["id"], at=_at(body))
        if kind == outbox.ANSWER:
            data = {"requestEventId": body["requestId"], "pfs": body["footprints"]}
            return events.cloud_event(events.REQUEST_FULFILLED, source, data, event_id=body["id"], at=_at(body))
        if kind == outbox.REJECT:
            data = {"requestEventId": body["requestId"], "error": {"code": body["code"], "message": body["reason"]}}
            return events.cloud_event(events.REQUEST_REJECTED, source, data, event_id=body["id"], at=_at(body))
        if kind == outbox.PUBLISH:
            data = {"pfIds": body["footprintIds"]}
            return events.cloud_event(events.PUBLISHED, source, data, event_id=body["id"], at=_at(body))
        if kind == outbox.REFUSED:
            return _refused_event(body, source)
        if kind in (outbox.FETCH, outbox.FETCH_FOOTPRINT):
            return None
        raise PeerError(f"unknown outbox kind {kind} for PACT", permanent=True)

    async def deliver(self, client: Any, message: Any, *, source: str) -> dict[str, Any] | None:
        event = self.wire_message(message, source)
        if event is not None:
            try:
                await client.send_event(message.target_url, event)
            except PeerError as exc:
                if message.kind != outbox.REFUSED or not exc.permanent:
                    raise
                # a PACT node that is not ours answers 4xx to an event type it does not accept (PACT v3 asks no host
                # to ignore one): the refusal is a courtesy (our request shows it), so its refusal ends the message
                log.info("partner %s does not take %s: %s", message.target_url, event.get("type"), exc)
            return None
        pf_id = message.body["footprintId"] if message.kind == outbox.FETCH else message.body["pfId"]
        fetched: dict[str, Any] = await client.get_footprint(message.target_url, pf_id)
        return fetched

    def start(self, app: Any) -> None:
        router.routes_first(app)

    def close(self, app: Any) -> None:
        router.close(app)


ADAPTER = PactAdapter()
