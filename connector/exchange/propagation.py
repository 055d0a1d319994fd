"""Propagation: a new footprint of ours (computed by the operator, or because an input changed) is published to the
customers holding a grant, answers the requests that waited for it, and flows on to our products that use it."""

from __future__ import annotations

import uuid

from .. import protocols
from ..errors import MissingUpstream
from ..services import audit, footprints
from ..services.context import NodeContext
from ..storage import repositories as repo
from ..storage import requests as request_rows
from ..storage.tables import CfpRequest, Footprint, Product
from . import outbox, requests


def propagate(ctx: NodeContext, supplier: str, product_urn: str) -> None:
    """Recompute our products that use this input; publish new versions; answer requests that were waiting."""
    todo = repo.products_using_upstream(ctx.session, supplier, product_urn)
    seen: set[str] = set()
    while todo:
        product_id = todo.pop(0)
        if product_id in seen:
            continue
        seen.add(product_id)
        product = ctx.session.get(Product, product_id)
        if product is None:
            continue
        if product.manual_confirmation and repo.active_footprint(ctx.session, product_id) is not None:
            audit.append(ctx.session, ctx.company_id, "footprint.awaiting-confirmation", product_id)
            continue
        try:
            fp, changed = footprints.compute(ctx, product_id)
        except MissingUpstream:
            continue
        waiting = pending_incoming(ctx, product_id)
        if changed:
            # customers with a request open get the footprint in the answer; the others hear of the new version
            publish(ctx, product, fp, skip={r.company_id for r in waiting})
            for urn in product.product_ids:
                todo.extend(repo.products_using_upstream(ctx.session, ctx.company_id, urn))
        answered: set[str] = set()
        for req in waiting:
            # fp is the active footprint; new (changed), it has no attestation for a customer not answered above
            requests.attempt_fulfil(ctx, req, active=fp, fresh=changed and req.company_id not in answered)
            answered.add(req.company_id)


def republish(ctx: NodeContext, supplier: str, product_urn: str) -> None:
    """Announce our active footprints that use this input again (their extension data changed, not their values)."""
    for product_id in repo.products_using_upstream(ctx.session, supplier, product_urn):
        product = ctx.session.get(Product, product_id)
        fp = repo.active_footprint(ctx.session, product_id)
        if product is not None and fp is not None:
            publish(ctx, product, fp)


def pending_incoming(ctx: NodeContext, product_id: str) -> list[CfpRequest]:
    return request_rows.pending_incoming(ctx.session, product_id)


def publish(ctx: NodeContext, product: Product, fp: Footprint, skip: set[str] | None = None) -> int:
    """Tell every customer holding a grant on the product that a new version exists (a ``publish`` intent)."""
    sent = 0
    for company_id in repo.grantees(ctx.session, product.id):
        if skip and company_id in skip:
            continue
        partner = repo.partner_row(ctx.session, company_id)
        target = partner.node_url if partner else None
        if not target:
            continue
        protocol = partner.protocol if partner else protocols.DEFAULT
        news = {"id": str(uuid.uuid4()), "at": outbox.iso(ctx.now()), "footprintIds": [fp.id]}
        outbox.enqueue(ctx.session, target, company_id, outbox.PUBLISH, news, ctx.now(), protocol=protocol)
        sent += 1
    return sent


def compute_and_publish(ctx: NodeContext, product_id: str) -> tuple[Footprint, bool]:
    """The operator's "compute": a new version is published to customers and flows on to internal users.

    As in :func:`propagate`, a customer whose request waits for it gets the footprint in the answer only, not also
    a "new version" announcement: the two were delivered independently, and the fetch the announcement causes could
    overtake the answer at the customer (filed before the answer named the product it asked for)."""
    fp, changed = footprints.compute(ctx, product_id)
    if changed:
        product = footprints.get_product(ctx, product_id)
        waiting = pending_incoming(ctx, product_id)
        publish(ctx, product, fp, skip={r.company_id for r in waiting})
        for urn in product.product_ids:
            propagate(ctx, ctx.company_id, urn)
        for req in waiting:
            requests.attempt_fulfil(ctx, req)
    return fp, changed
