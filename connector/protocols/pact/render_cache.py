"""A footprint as an audience gets it over PACT (attested to it when this node can sign), as compact JSON
remembered per process: what ``GET /3/footprints`` serves and what a ``RequestFulfilled`` answer carries."""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from ...certification import peek_certification, to_pact_verification
from ...services import attesting
from ...services.context import NodeContext
from ...storage import requests as request_rows
from ...storage.pact_reads import RenderKeyFields, product_key
from ...storage.tables import Footprint, Product
from . import rendering

log = logging.getLogger("connector.exchange")


def render_for(
    ctx: NodeContext, fp: Footprint, product: Product, audience: str, *, fresh: bool = False
) -> dict[str, Any]:
    """The PACT footprint as ``audience`` gets it, with its attestation when this node can sign."""
    return json.loads(rendered_json(ctx, fp, product, audience, fresh=fresh))


_RENDERED: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_RENDERED_MAX = 4096
_RENDERED_LOCK = threading.Lock()


def render_key(
    ctx: NodeContext,
    fp: RenderKeyFields,
    audience: str,
    attestation_id: str | None,
    certifications: int,
    upstream_tokens: Iterable[str],
    product: tuple[Any, ...],
) -> tuple[Any, ...]:
    """Everything a rendering depends on besides the immutable footprint (see :func:`rendered_json`); ``product``:
    :func:`product_key` of its product, which can change."""
    return (
        ctx.company_id,
        ctx.settings.company_name,
        fp.id,
        fp.status,
        audience,
        attestation_id,
        certifications,
        tuple(upstream_tokens),
        product,
    )


def cached_rendering(key: tuple[Any, ...]) -> bytes | None:
    """The bytes :func:`rendered_json` made under ``key`` in this process, if still remembered."""
    with _RENDERED_LOCK:
        hit = _RENDERED.get(key)
        if hit is not None:
            _RENDERED.move_to_end(key)
        return hit


def rendered_json(
    ctx: NodeContext, fp: Footprint, product: Product, audience: str, *, issue_missing: bool = True, fresh: bool = False
) -> bytes:
    """:func:`render_for` as compact JSON, cached per process.

    A footprint is immutable but for its status; what else goes into the rendering is named in the key: its
    product's rendered fields, the audience, the attestation (id, and how many certifications it has gathered), the
    certifications passed up with the inputs, and the node's names. So a hit is byte-for-byte what rendering again
    would give.
    ``issue_missing=False`` raises :class:`attesting.NotIssuedYet` when the attestation is still to be issued;
    ``fresh``: see :func:`attesting.attestation_for`.
    """
    att = None
    if ctx.identity is not None and ctx.identity.can_sign:
        try:
            att = attesting.attestation_for(
                ctx,
                fp,
                product,
                audience,
                latest_verifiers(ctx, product, audience),
                issue_missing=issue_missing,
                fresh=fresh,
            )
        except attesting.CannotAttest as exc:
            log.warning("footprint %s goes out unattested: %s", fp.id, exc.detail)
    upstream = attesting.upstream_certifications(ctx, fp) if att is not None else []
    key = render_key(
        ctx,
        fp,
        audience,
        att.id if att else None,
        len(att.certifications) if att else 0,
        [e["token"] for e in upstream],
        product_key(product),
    )
    hit = cached_rendering(key)
    if hit is not None:
        return hit
    pf = rendering.render_footprint(
        footprint=fp,
        product=product,
        company_id=ctx.company_id,
        company_name=ctx.settings.company_name,
        extension=attesting.extension_data(ctx, fp, att, upstream),
    )
    own = [e["token"] for e in (att.certifications if att else []) if isinstance(e, dict) and e.get("depth") == 0]
    if own:
        # PACT's descriptive verification record, filled from our signed certification
        pf["pcf"]["verification"] = to_pact_verification(peek_certification(own[-1]))
    raw = json.dumps(pf, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    with _RENDERED_LOCK:
        _RENDERED[key] = raw
        while len(_RENDERED) > _RENDERED_MAX:
            _RENDERED.popitem(last=False)
    return raw


def latest_verifiers(ctx: NodeContext, product: Product, audience: str) -> list[str]:
    return request_rows.latest_verifiers(ctx.session, audience, product.id)
