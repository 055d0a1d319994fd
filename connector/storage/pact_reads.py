"""Batched look-ups for a page of PACT footprints: what ``exchange.rendered_json`` asks per footprint, per page.

Each function answers for many footprints (or products) in one query and reads only the columns the render key needs
(not an attestation's SD-JWT or sealed evidence): prepared core statements (built once, expanding ``IN`` lists) on the
session's connection, no ORM objects (pending rows of the session flushed first, as an ORM query would).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from ..exchange.pact import RENDERED_PRODUCT_FIELDS, product_key
from .repositories import execute
from .tables import Attestation, CfpRequest, Footprint, Grant, Product, UpstreamFootprint


class RenderKeyFields(Protocol):
    """What a render key reads of a footprint (``exchange.render_key``, ``attesting.certifications_of_inputs``): a
    loaded ``Footprint`` has it, and so does a :class:`VisibleFootprint` read from four columns."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def inputs(self) -> list[dict[str, Any]]: ...


class VisibleFootprint(NamedTuple):
    """What the render key of a footprint's answer needs of it (see ``exchange.render_key``), without loading it:
    ``product`` is ``pact.product_key`` of its product."""

    id: str
    status: str
    product_id: str
    inputs: list[dict[str, Any]]
    product: tuple[Any, ...]


_FP, _PRODUCT, _GRANT = (t.__table__ for t in (Footprint, Product, Grant))  # type: ignore[attr-defined]
_VISIBLE = (
    core_select(
        _FP.c.id, _FP.c.status, _FP.c.product_id, _FP.c.inputs, *(_PRODUCT.c[name] for name in RENDERED_PRODUCT_FIELDS)
    )
    .select_from(
        _FP.join(_PRODUCT, _PRODUCT.c.id == _FP.c.product_id).join(_GRANT, _GRANT.c.product_id == _PRODUCT.c.id)
    )
    .where(_FP.c.id == bindparam("f"), _GRANT.c.company_id == bindparam("c"))
    .limit(1)
)


def visible_footprint(session: Session, company_id: str, footprint_id: str) -> VisibleFootprint | None:
    """``exchange.visible_footprint``'s question (the footprint, its product and a grant to ``company_id``; the id
    lower-cased) in one prepared statement, answered with the render key's columns only (the product's rendered
    fields among them); None when not visible."""
    row = execute(session, _VISIBLE, {"f": footprint_id.lower(), "c": company_id}).first()
    return None if row is None else VisibleFootprint(*row[:4], product_key(tuple(row[4:])))


_REQ, _ATT, _UP = (t.__table__ for t in (CfpRequest, Attestation, UpstreamFootprint))  # type: ignore[attr-defined]
_LATEST_VERIFIERS = (
    core_select(_REQ.c.product_id, _REQ.c.verifier_certs)
    .where(
        _REQ.c.direction == "incoming",
        _REQ.c.company_id == bindparam("a"),
        _REQ.c.product_id.in_(bindparam("p", expanding=True)),
    )
    .order_by(_REQ.c.created_at.desc())
)


def latest_verifiers(session: Session, audience: str, product_ids: list[str]) -> dict[str, list[str]]:
    """Per product: the verifier certificates of ``audience``'s latest incoming request (as
    ``exchange.latest_verifiers``); products without one are absent."""
    if not product_ids:
        return {}
    out: dict[str, list[str]] = {}
    for product_id, certs in execute(session, _LATEST_VERIFIERS, {"a": audience, "p": product_ids}):
        if product_id is not None and product_id not in out:
            out[product_id] = list(certs or [])
    return out


_ATTESTATION_KEYS = core_select(_ATT.c.footprint_id, _ATT.c.id, _ATT.c.verifiers, _ATT.c.certifications).where(
    _ATT.c.audience == bindparam("a"), _ATT.c.footprint_id.in_(bindparam("f", expanding=True))
)


def attestation_keys(
    session: Session, audience: str, footprint_ids: list[str]
) -> dict[str, list[tuple[str, list[str], int]]]:
    """Per footprint: (attestation id, verifiers, number of certifications) of each attestation for ``audience``."""
    if not footprint_ids:
        return {}
    out: dict[str, list[tuple[str, list[str], int]]] = {}
    for footprint_id, att_id, verifiers, certifications in execute(
        session, _ATTESTATION_KEYS, {"a": audience, "f": footprint_ids}
    ):
        out.setdefault(footprint_id, []).append((att_id, list(verifiers or []), len(certifications or [])))
    return out


_HELD = core_select(_UP.c.footprint_id, _UP.c.certifications).where(
    _UP.c.footprint_id.in_(bindparam("f", expanding=True))
)


def upstream_certifications(session: Session, footprint_ids: list[str]) -> dict[str, list[Any]]:
    """Per upstream footprint id: the certifications held with it (as ``attesting.upstream_certifications``)."""
    if not footprint_ids:
        return {}
    return {
        footprint_id: certifications or []
        for footprint_id, certifications in execute(session, _HELD, {"f": footprint_ids})
    }
