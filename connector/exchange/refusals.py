"""Refusals a partner tells us of: a supplier refusing a request we sent it, a customer refusing our answer (all of
it, or some of its footprints, or a footprint it fetched after we announced a new version). Each shows on the request
our operator looks at (decision 0019); what we refuse ourselves is ``receipt``'s."""

from __future__ import annotations

from ..errors import ValidationFailed
from ..services import audit
from ..services.context import NodeContext
from ..storage import requests as request_rows
from ..storage.tables import Footprint, Product
from . import grants
from .requests import NotOurRequest, set_state


def rejected_by_supplier(ctx: NodeContext, caller: str, request_id: str, reason: str) -> None:
    """A supplier refused a request this node sent it (``reason``: as its adapter words it)."""
    req = request_rows.outgoing_request(ctx.session, request_id)
    if req is None or req.company_id != caller:
        raise NotOurRequest("the answer names no request this node sent to you")
    set_state(ctx, req, "rejected", reason)


def answer_refused_by_customer(ctx: NodeContext, caller: str, request_id: str, reason: str) -> None:
    """A customer refused our answer to its request (its node could not accept the footprint): the request shows it,
    as ``refused`` with the customer's reason, the state the customer's operator sees it in."""
    req = request_rows.incoming_request(ctx.session, request_id, caller)
    if req is None:
        raise NotOurRequest("the refusal names no request you sent this node")
    set_state(ctx, req, "refused", reason[:2000] or "answer refused")
    audit.append(ctx.session, caller, "request.answer-refused", req.event_id, reason=reason[:1000])


def footprints_refused_by_customer(
    ctx: NodeContext, caller: str, request_id: str | None, refused: list[tuple[str, str]]
) -> None:
    """A customer refused some footprints we sent it (``refused``: footprint id and the customer's reason), in an
    answer to its request ``request_id`` it otherwise accepted, or fetched after we announced a new version (no
    request). The request keeps its state, and its reason names each refused footprint (version and product) with
    the customer's reason: the request our operator looks at (after a publish: the customer's latest answered request
    for that product, when it has one). Each is in the audit log (``footprint.refused-by-customer``)."""
    req = None
    if request_id is not None:
        req = request_rows.incoming_request(ctx.session, request_id, caller)
        if req is None:
            raise NotOurRequest("the refusal names no request you sent this node")
    lines: dict[str | None, list[str]] = {}
    for footprint_id, why in refused:
        ours = _our_footprint(ctx, footprint_id)
        if ours is not None and not grants.has_grant(ctx, ours.product_id, caller):
            ours = None  # one the caller cannot see is none of its business: named as it said, as a stranger's
        if ours is None and req is None:
            continue  # not a footprint of ours it could have had: nothing of ours to mark
        named = f"footprint {footprint_id}"
        if ours is not None:
            product = ctx.session.get(Product, ours.product_id)
            named += f" (version {ours.version} of {product.name if product else ours.product_id})"
        lines.setdefault(ours.product_id if ours is not None and req is None else None, []).append(
            f"{named}: {why[:1000] or 'refused'}"
        )
        audit.append(
            ctx.session,
            caller,
            "footprint.refused-by-customer",
            footprint_id[:200],
            request=request_id,
            reason=why[:1000],
        )
    if not lines:
        raise ValidationFailed("the refusal names no footprint this node sent you")
    for product_id, said in lines.items():
        target = (
            req.id if req is not None else request_rows.latest_answered_incoming(ctx.session, caller, product_id or "")
        )
        if target is not None:
            reason = f"the customer refused {'; '.join(said)}"[:2000]
            request_rows.update_request(ctx.session, target, reason=reason, updated_at=ctx.now())


def _our_footprint(ctx: NodeContext, footprint_id: str) -> Footprint | None:
    """One of our footprints by its id (ids compare without case, as a peer may send one in upper case)."""
    return ctx.session.get(Footprint, footprint_id.lower()) or ctx.session.get(Footprint, footprint_id)
