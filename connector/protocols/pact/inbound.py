"""PACT events received on ``POST /3/events`` (validated by :mod:`.events`), turned into calls of the exchange core."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ...errors import ValidationFailed
from ...exchange import receipt, refusals, requests
from ...services import audit
from ...services.context import NodeContext
from . import events

PROTOCOL = "pact"


def handle_event(ctx: NodeContext, caller: str, event: dict[str, Any]) -> None:
    """Process one validated CloudEvent from an authenticated peer (the caller is already deduplicated)."""
    try:
        _handle(ctx, caller, event)
    except requests.NotOurRequest:
        raise ValidationFailed("requestEventId does not name a request this node sent to you") from None


def _handle(ctx: NodeContext, caller: str, event: dict[str, Any]) -> None:
    kind, data = event["type"], event["data"]
    audit.append(ctx.session, caller, "event.received", event["id"], type=kind)
    if kind == events.REQUEST_CREATED:
        due = data.get(events.X_DUE)
        requests.receive_request(
            ctx,
            caller,
            event["id"],
            product_ids=[str(p) for p in data.get("productId") or []],
            message=data.get(events.X_MESSAGE) or data.get("comment"),
            due_date=datetime.fromisoformat(due.replace("Z", "+00:00")) if isinstance(due, str) else None,
            verifier_certs=[str(v) for v in data.get(events.X_VERIFIERS) or []],
            protocol=PROTOCOL,
        )
    elif kind == events.REQUEST_FULFILLED:
        receipt.receive_answer(
            ctx, caller, str(data.get("requestEventId")), list(data.get("pfs") or []), protocol=PROTOCOL
        )
    elif kind == events.REQUEST_REJECTED:
        error = data.get("error") or {}
        reason = f"{error.get('code', '')}: {error.get('message', '')}".strip(": ")
        refusals.rejected_by_supplier(ctx, caller, str(data.get("requestEventId")), reason)
    elif kind == events.ANSWER_REFUSED:
        error = data.get("error") or {}
        refusals.answer_refused_by_customer(ctx, caller, str(data.get("requestEventId")), str(error.get("message", "")))
    elif kind == events.FOOTPRINT_REFUSED:
        refused = [(str(r["pfId"]), str(r["error"].get("message", ""))) for r in data["refusals"]]
        request_id = data.get("requestEventId")
        refusals.footprints_refused_by_customer(ctx, caller, str(request_id) if request_id else None, refused)
    elif kind == events.PUBLISHED:
        receipt.on_published(ctx, caller, list(data["pfIds"]), protocol=PROTOCOL)
