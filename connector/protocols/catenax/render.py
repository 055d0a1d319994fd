"""A footprint as a Catena-X partner gets it: the io.catenax.pcf JSON with the attestation issued to that partner,
remembered per process (a footprint is immutable but for its status; everything else it depends on is in the key)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from ...services import attesting
from ...services.context import NodeContext
from ...storage import bpn, pact_reads
from ...storage import requests as request_rows
from ...storage.pact_reads import RenderKeyFields, product_key
from . import pcf_model

log = logging.getLogger("connector.exchange")

_RENDERED: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_LOCK = threading.Lock()
_MAX = 4096


def pcf_bytes(
    ctx: NodeContext,
    fp: Any,
    product: Any,
    audience: str,
    *,
    version: str,
    issue_missing: bool = True,
    fresh: bool = False,
) -> bytes:
    """The PCF of ``fp`` for ``audience`` as JSON bytes (``attesting.NotIssuedYet`` with ``issue_missing=False`` when
    its attestation is still to be issued; :class:`pcf_model.NotExpressible` when 9.0.0 has no place for it)."""
    att = None
    if ctx.identity is not None and ctx.identity.can_sign:
        try:
            verifiers = request_rows.latest_verifiers(ctx.session, audience, product.id)
            att = attesting.attestation_for(
                ctx, fp, product, audience, verifiers, issue_missing=issue_missing, fresh=fresh
            )
        except attesting.CannotAttest as exc:
            log.warning("footprint %s goes out unattested: %s", fp.id, exc.detail)
    upstream = attesting.upstream_certifications(ctx, fp) if att is not None else []
    plant = _plant(ctx, product.plant_name)
    key = _key(
        ctx,
        fp,
        audience,
        (att.id, len(att.certifications)) if att else None,
        [e["token"] for e in upstream],
        product_key(product),
        plant,
        version,
    )
    hit = _remembered(key)
    if hit is not None:
        return hit
    doc = pcf_model.to_pcf(
        fp,
        product,
        attesting.extension_data(ctx, fp, att, upstream),
        company_name=ctx.settings.company_name,
        company_id=ctx.company_id,
        bpnl=ctx.settings.catenax.bpnl,
        plant_bpns=plant,
        version=version,
        waste_incineration=ctx.settings.catenax.allocation_waste_incineration,
    )
    out = pcf_model.dumps(doc)
    with _LOCK:
        _RENDERED[key] = out
        while len(_RENDERED) > _MAX:
            _RENDERED.popitem(last=False)
    return out


def remembered_pcf(ctx: NodeContext, bpnl: str, product_urn: str, version: str) -> tuple[str, str, bytes] | None:
    """(caller's company id, footprint id, the bytes :func:`pcf_bytes` made) for a submodel GET when this process still
    remembers that rendering under the key the rows give now; None otherwise (not visible, not rendered yet, no
    attestation yet, a key that does not match), and the caller reads and renders the long way. The key's look-ups
    are one prepared statement (two when the footprint has inputs) loading no footprint, product or attestation: the
    PACT read path's shortcut (``protocols.pact.reads.cached_renderings``) for one Catena-X caller."""
    found = bpn.submodel_key(ctx.session, bpnl, product_urn)
    if found is None:
        return None
    audience, fp = found.audience, found.footprint
    attestation: tuple[str, int] | None = None
    tokens: list[str] = []
    if ctx.identity is not None and ctx.identity.can_sign:
        wanted = sorted(set(found.verifiers))
        att = next((a for a in found.attestations if sorted(a[1]) == wanted), None)
        if att is None:
            return None
        attestation = att[0], att[2]
        held = pact_reads.upstream_certifications(ctx.session, [i["footprintId"] for i in fp.inputs])
        tokens = [e["token"] for e in attesting.certifications_of_inputs(fp, held)]
    key = _key(ctx, fp, audience, attestation, tokens, fp.product, _plant(ctx, found.plant_name), version)
    body = _remembered(key)
    return None if body is None else (audience, fp.id, body)


def _plant(ctx: NodeContext, plant_name: str | None) -> str | None:
    return ctx.settings.catenax.plant_bpns.get(plant_name) if plant_name else None


def _key(
    ctx: NodeContext,
    fp: RenderKeyFields,
    audience: str,
    attestation: tuple[str, int] | None,
    upstream_tokens: list[str],
    product: tuple[Any, ...],
    plant: str | None,
    version: str,
) -> tuple[Any, ...]:
    """Everything a rendering depends on besides the immutable footprint: ``attestation`` is (id, number of
    certifications gathered), ``product`` :func:`product_key` of the product (it can change)."""
    cx = ctx.settings.catenax
    return (
        ctx.company_id,
        ctx.settings.company_name,
        fp.id,
        fp.status,
        audience,
        attestation,
        tuple(upstream_tokens),
        product,
        version,
        cx.bpnl,
        plant,
        cx.allocation_waste_incineration,
    )


def _remembered(key: tuple[Any, ...]) -> bytes | None:
    with _LOCK:
        hit = _RENDERED.get(key)
        if hit is not None:
            _RENDERED.move_to_end(key)
        return hit
