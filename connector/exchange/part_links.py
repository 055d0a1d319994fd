"""Linking a held request to one of our products, and remembering it per platform part (decision 0028).

A trade from an Ouranos platform names the customer's part as the platform identifies it (its traceId there), not a
product of ours, so the request is held (``hold_unmatched_requests``) until our operator links it
(:func:`link_product`). The link is then remembered for that part: the platform (where the customer's trades come
from: the partner's node URL), the traceId, the customer, our product and the verifiers the answer is sealed to. A
later trade for the same part is linked by :func:`link_remembered` when it arrives, audited as automatic, and answered
only if the customer holds a grant on the product (an automatic link never grants). The operator lists, changes and
removes the links (:func:`update`, :func:`remove`); a removed link no longer links anything.

A request's part (:func:`part_of`): the first ``urn:uuid:<traceId>`` among its product ids. A trade read from a
platform by our Ouranos poller names its ``downstreamTraceId`` so, after its ``partsName``; a request from a node
that serves DTS for the customer (decision 0021) asks for ``urn:uuid:<traceId>`` of the customer's part.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, ConnectorError, NotFound, ValidationFailed
from ..services import audit, catalog
from ..services.context import NodeContext
from ..storage import part_links as store
from ..storage import repositories as repo
from ..storage.part_links import PartLink
from ..storage.tables import CfpRequest, Product
from . import grants
from . import requests as core

PART_URN = "urn:uuid:"


@dataclass(frozen=True)
class Part:
    """A customer's part as a platform identifies it."""

    platform_url: str
    trace_id: str
    name: str | None


def part_urn(trace_id: str) -> str:
    return PART_URN + trace_id


def _trace(urn: str) -> str | None:
    if not urn.lower().startswith(PART_URN):
        return None
    try:
        return str(uuid.UUID(urn[len(PART_URN) :]))
    except ValueError:
        return None


def part_of(req: CfpRequest) -> Part | None:
    """The platform part an incoming request asks for, or None (it names none, or its customer has no node URL)."""
    if req.direction != "incoming" or not req.callback_url:
        return None
    traces = [t for t in map(_trace, req.product_ids) if t is not None]
    if not traces:
        return None
    names = [u for u in req.product_ids if _trace(u) is None]
    return Part(req.callback_url, traces[0], names[0][:200] if names else None)


def _sealed_to(ctx: NodeContext, verifier_certs: list[str]) -> None:
    refused = core.refused_verifiers(ctx, verifier_certs)
    if refused:
        raise ValidationFailed(
            f"evidence can only be sealed to dataspace verifiers: {refused}",
            errors=[{"field": "verifierCertificates", "message": refused}],
        )


def _link(ctx: NodeContext, req: CfpRequest, product: Product, verifier_certs: list[str] | None) -> None:
    """The request answers with ``product``: the ids it asked for name the product (not over Ouranos, where the
    answer is linked to the trade by traceId: a platform's part names are not our product ids)."""
    if verifier_certs:
        _sealed_to(ctx, verifier_certs)
        req.verifier_certs = list(verifier_certs)
    if req.protocol != "ouranos":
        catalog.add_identifiers(ctx, product, req.product_ids)
    req.product_id = product.id
    req.callback_url = core.reply_url(ctx, req.company_id)
    ctx.session.add(req)


def link_product(
    ctx: NodeContext, request_id: str, product_id: str, verifier_certs: list[str] | None = None
) -> CfpRequest:
    """Our operator names the product of ours that answers a pending incoming request (Ouranos: the supplier links
    its part to the trade). The ids the customer asked for become identifiers of that product, so the footprint
    answering it carries the id the customer's bill of materials names; the customer is granted the product. The
    answer goes at once when the product has a footprint, otherwise when one is computed (propagation).

    ``verifier_certs`` (PEM), when given, are the verifiers the answer's evidence is sealed to, in place of those the
    request named: a DTS trade carries none (decision 0022). Each must be a verifier of the dataspace. A request for
    a platform's part remembers the link for that part (:func:`link_remembered`)."""
    req = core.get_request(ctx, request_id)
    if req.direction != "incoming" or req.state != "pending":
        raise ValidationFailed("only a pending incoming request can be linked to a product")
    product = ctx.session.get(Product, product_id)
    if product is None:
        raise NotFound("product %(product)s not found", code="product.not-found", params={"product": product_id})
    req.callback_url = core.reply_url(ctx, req.company_id)  # the partner may have been registered since
    part = part_of(req)
    row = store.of_part(ctx.session, part.platform_url, part.trace_id) if part is not None else None
    if row is not None and row.product_id != product.id:
        _unname(ctx, row)  # the part's id moves to the product named now
    _link(ctx, req, product, verifier_certs)
    grants.grant(ctx, product.id, req.company_id)
    audit.append(ctx.session, ctx.company_id, "request.linked", req.event_id, product=product.id)
    if repo.active_footprint(ctx.session, product.id) is not None:
        core.attempt_fulfil(ctx, req, granted=True)
    if part is not None:
        _remember(ctx, req, part, row, product, list(verifier_certs or []))
        for other in store.held(ctx.session, req.company_id):  # trades for the part that came before this link
            found = part_of(other)
            if (
                other.id != req.id
                and found is not None
                and found.trace_id == part.trace_id
                and found.platform_url == part.platform_url
            ):
                link_remembered(ctx, other)
    return req


def _remember(
    ctx: NodeContext, req: CfpRequest, part: Part, row: PartLink | None, product: Product, verifier_certs: list[str]
) -> None:
    new = row is None
    if row is None:
        row = PartLink(platform_url=part.platform_url, trace_id=part.trace_id, company_id=req.company_id,
                       product_id=product.id)  # fmt: skip
    row.company_id, row.parts_name, row.product_id = req.company_id, part.name, product.id
    row.verifier_certs, row.updated_at = verifier_certs, ctx.now()
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
            ctx.session.flush()
    except IntegrityError as exc:
        if not new:
            raise
        # another transaction remembered this part since we looked (two of its trades linked at the same moment)
        raise Conflict("this part was linked by another request at the same moment; link this one again") from exc
    audit.append(
        ctx.session, ctx.company_id, "part-link.remembered", row.id, platform=row.platform_url, part=row.trace_id,
        company=row.company_id, product=product.id, verifiers=len(verifier_certs),
    )  # fmt: skip


def remembered(ctx: NodeContext, req: CfpRequest) -> PartLink | None:
    """The remembered link of the part a new incoming request asks for, when the same customer owns it."""
    part = part_of(req)
    if part is None:
        return None
    row = store.of_part(ctx.session, part.platform_url, part.trace_id)
    return row if row is not None and row.company_id == req.company_id else None


def link_remembered(ctx: NodeContext, req: CfpRequest) -> bool:
    """Link a request just received by its part's remembered link; False (nothing done) when there is none or it
    no longer holds (the verifiers are no longer the dataspace's: the request is held, with why, in ``reason``).
    The answer goes only to a customer holding a grant on the product; otherwise the request waits for the
    operator to accept it (which grants)."""
    row = remembered(ctx, req)
    if row is None:
        return False
    product = ctx.session.get(Product, row.product_id)
    try:
        with ctx.session.begin_nested():
            if product is None:
                raise NotFound(f"product {row.product_id} not found")
            if not row.verifier_certs:
                _sealed_to(ctx, req.verifier_certs)  # those the request named, as when it matches a product
            _link(ctx, req, product, row.verifier_certs)
    except ConnectorError as exc:
        req.reason = f"the remembered link {row.id} of this part no longer applies: {exc.detail}"[:2000]
        ctx.session.add(req)
        audit.append(ctx.session, ctx.company_id, "request.link-refused", req.event_id, link=row.id, reason=exc.detail)
        return False
    granted = grants.has_grant(ctx, row.product_id, req.company_id)
    req.reason = f"linked automatically to product {row.product_id} by the remembered link {row.id}" + (
        "" if granted else f"; {req.company_id} has no grant on it: accept the request to answer"
    )
    ctx.session.add(req)
    audit.append(
        ctx.session, ctx.company_id, "request.linked", req.event_id, product=row.product_id, automatic=True,
        link=row.id, granted=granted,
    )  # fmt: skip
    if granted and repo.active_footprint(ctx.session, row.product_id) is not None:
        core.attempt_fulfil(ctx, req, granted=True)
    return True


# the operator's view --------------------------------------------------------------------------------------------


def get(ctx: NodeContext, link_id: str) -> PartLink:
    row = ctx.session.get(PartLink, link_id)
    if row is None:
        raise NotFound(f"part link {link_id} not found")
    return row


def update(
    ctx: NodeContext, link_id: str, *, product_id: str | None = None, verifier_certs: list[str] | None = None
) -> PartLink:
    """Point a remembered link at another product of ours, or replace the verifiers its answers are sealed to
    (an empty list: those the trade names, none for a DTS trade)."""
    row = get(ctx, link_id)
    if product_id is not None and ctx.session.get(Product, product_id) is None:
        raise NotFound("product %(product)s not found", code="product.not-found", params={"product": product_id})
    if verifier_certs:
        _sealed_to(ctx, verifier_certs)
    if product_id is not None and product_id != row.product_id:
        _unname(ctx, row)
        row.product_id = product_id
    if verifier_certs is not None:
        row.verifier_certs = list(verifier_certs)
    row.updated_at = ctx.now()
    ctx.session.add(row)
    ctx.session.flush()
    audit.append(
        ctx.session, ctx.company_id, "part-link.changed", row.id, product=row.product_id,
        verifiers=len(row.verifier_certs),
    )  # fmt: skip
    return row


def remove(ctx: NodeContext, link_id: str) -> None:
    """Forget a remembered link: later trades for the part wait for the operator again. The part's id stops naming
    our product too, or the product would still match it."""
    row = get(ctx, link_id)
    _unname(ctx, row)
    ctx.session.delete(row)
    ctx.session.flush()
    audit.append(
        ctx.session, ctx.company_id, "part-link.removed", row.id, platform=row.platform_url, part=row.trace_id,
        product=row.product_id,
    )  # fmt: skip


def _unname(ctx: NodeContext, row: PartLink) -> None:
    product = ctx.session.get(Product, row.product_id)
    if product is not None:
        catalog.remove_identifier(ctx, product, part_urn(row.trace_id))
