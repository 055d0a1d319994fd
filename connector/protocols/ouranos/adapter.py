"""The Ouranos adapter: our node as a participant on an Ouranos platform (decision 0022). A partner whose protocol is
``ouranos`` is reached at its node URL, the platform's DTS endpoint, with the login ``ouranos_platforms`` holds
for it; the platform pushes nothing, so what comes back is read by the poller (:mod:`.poller`).

| intent  | Ouranos (DTS 3.0.0)                                                                                  |
|---------|------------------------------------------------------------------------------------------------------|
| ask     | ``PUT parts`` (the part we buy, once) + ``PUT tradeRequest``; the poller follows ``status``           |
| answer  | ``PUT parts`` (our product, once) + ``PUT tradeResponse`` (link) + ``PUT cfp``                         |
| reject  | ``PUT status`` REJECT, the reason as ``replyMessage``                                                 |
| cancel  | ``PUT status`` CANCEL                                                                                 |
| publish | nothing: a platform has no news event; our customer reads the CFP of the linked part when it wants     |
| fetch   | none (no ``publish`` reaches us over Ouranos)                                                         |

The adapter's router is the DTS server's (our node as the platform, decision 0021): ``api.app`` also installs its
routes at the front of the route table (``server.install``), where they are matched.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from ...exchange import outbox
from .. import PeerError
from . import answering, asking, mapping, poller, server


class OuranosFootprint:
    """A footprint read from a platform (:func:`asking.read_answer`): with the attestation of its certification file,
    verified by the receipt as a PACT answer's is; without one, the receipt takes its values as an entered upstream
    value (source kind ``ouranos-partner``), never as attested."""

    __slots__ = ("document",)

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    @property
    def id(self) -> str:
        return str(self.document["id"])

    @property
    def company_ids(self) -> list[str]:
        return list(self.document["companyIds"])

    @property
    def product_ids(self) -> list[str]:
        return list(self.document["productIds"])

    @property
    def status(self) -> str | None:
        return "Active"

    @property
    def attestation(self) -> str | None:
        return self.document.get("attestation")

    @property
    def evidence(self) -> Any:
        return self.document.get("evidence")

    @property
    def certifications(self) -> list[Any]:
        return list(self.document.get("certifications") or [])

    def total(self) -> Decimal:
        if "total" in self.document:
            return Decimal(self.document["total"])
        return sum((Decimal(v) for v in self.document["stages"].values()), Decimal(0))

    def declared_unit(self) -> Any:
        return self.document["declaredUnit"]

    def entered_values(self) -> Any:
        """The values as an entered footprint (per one declared unit; the two stages Ouranos has, the others 0)."""
        from ...services.footprint_import import ForeignFootprint
        from ...stages import STAGES, Stage

        stages = {st: Decimal(self.document["stages"].get(st.value, "0")) for st in STAGES}
        got = self.document.get("dqr") or {}
        ratings = {
            ours: got.get(k) for k, ours in (("TeR", "technological"), ("GeR", "geographical"), ("TiR", "temporal"))
        }
        usable = all(v is not None and Decimal(1) <= Decimal(v) <= Decimal(5) for v in ratings.values())
        return ForeignFootprint(
            id=self.id,
            company_ids=self.company_ids,
            product_ids=self.product_ids,
            declared_unit=self.declared_unit(),
            declared_amount=Decimal(1),
            stages={Stage(k): v for k, v in stages.items()},
            dqr={k: str(v) for k, v in ratings.items()} if usable else None,
            where=f"Ouranos trade {self.document.get('tradeId')}",
        )


def _dqr(product: Any) -> dict[str, str | None]:
    raw = product.dqr or {}
    return {k: raw.get(ours) for k, ours in (("TeR", "technological"), ("GeR", "geographical"), ("TiR", "temporal"))}


class OuranosAdapter:
    name = "ouranos"
    intents = frozenset({outbox.ASK, outbox.ANSWER, outbox.REJECT, outbox.CANCEL, outbox.PUBLISH})
    router: APIRouter

    def __init__(self) -> None:
        self.router = server.router  # the inbound door: the DTS API (decision 0021)

    def footprint_document(
        self, ctx: Any, footprint: Any, product: Any, audience: str, *, fresh: bool = False
    ) -> dict[str, Any]:
        """What the answer writes on the platform: our part and its four base values. DTS has no route to write a
        certification file, so our attestation stays here (decision 0022)."""
        return {
            "productId": product.id,
            "partsName": product.name[:50],
            "unit": mapping.ouranos_unit(product.declared_unit),
            "values": answering.cfp_values(footprint),
            "dqr": _dqr(product),
        }

    def read_footprint(self, document: dict[str, Any]) -> OuranosFootprint:
        return OuranosFootprint(document)

    def request_asked(self, kind: str, body: dict[str, Any]) -> str | None:
        return None  # every Ouranos message is an intent

    def wire_message(self, message: Any, source: str) -> dict[str, Any] | None:
        return None  # several DTS calls per intent: see deliver

    async def deliver(self, client: Any, message: Any, *, source: str) -> dict[str, Any] | None:
        kind = message.kind
        if kind == outbox.PUBLISH:
            return None
        steps = {
            outbox.ASK: asking.ask,
            outbox.CANCEL: asking.cancel,
            outbox.ANSWER: answering.answer,
            outbox.REJECT: answering.reject,
        }
        step = steps.get(kind)
        if step is None:
            raise PeerError(f"the Ouranos adapter cannot send {kind}", permanent=True)
        node = poller.node_of(client)
        platform = message.target_url.rstrip("/")
        await node.allowed(platform)
        await step(node, node.dts(platform), platform, message.body)
        return None

    def start(self, app: Any) -> None:
        pass  # the poller starts with the app's lifespan (api.app)

    def close(self, app: Any) -> None:
        pass


ADAPTER = OuranosAdapter()
