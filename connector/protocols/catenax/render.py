"""A footprint as a Catena-X partner gets it: the io.catenax.pcf JSON with the attestation issued to that partner,
remembered per process (a footprint is immutable but for its status; everything else it depends on is in the key)."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any

from ...services import attesting
from ...services.context import NodeContext
from ...storage import requests as request_rows
from ...storage.pact_reads import product_key
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
    cx = ctx.settings.catenax
    plant = cx.plant_bpns.get(product.plant_name) if product.plant_name else None
    key = (
        ctx.company_id,
        ctx.settings.company_name,
        fp.id,
        fp.status,
        audience,
        att.id if att else None,
        len(att.certifications) if att else 0,
        tuple(e["token"] for e in upstream),
        product_key(product),
        version,
        cx.bpnl,
        plant,
        cx.allocation_waste_incineration,
    )
    with _LOCK:
        hit = _RENDERED.get(key)
    if hit is not None:
        return hit
    doc = pcf_model.to_pcf(
        fp,
        product,
        attesting.extension_data(ctx, fp, att, upstream),
        company_name=ctx.settings.company_name,
        company_id=ctx.company_id,
        bpnl=cx.bpnl,
        plant_bpns=plant,
        version=version,
        waste_incineration=cx.allocation_waste_incineration,
    )
    out = pcf_model.dumps(doc)
    with _LOCK:
        _RENDERED[key] = out
        while len(_RENDERED) > _MAX:
            _RENDERED.popitem(last=False)
    return out
