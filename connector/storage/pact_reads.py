"""Batched look-ups for a page of PACT footprints: what ``protocols.pact.render_cache.rendered_json`` asks per
footprint, per page.

Each function answers for many footprints (or products) in one query and reads only the columns the render key needs
(not an attestation's SD-JWT or sealed evidence): prepared core statements (built once, expanding ``IN`` lists) on the
session's connection, no ORM objects (pending rows of the session flushed first, as an ORM query would).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Table, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from .repositories import execute
from .tables import Attestation, CfpRequest, Footprint, Grant, Product, UpstreamFootprint

RENDERED_PRODUCT_FIELDS = (
    "name",
    "description",
    "declared_unit",
    "mass_per_declared_unit",
    "plant_country",
    "plant_subdivision",
    "classifications",
    "product_ids",
    "reference_period_start",
    "reference_period_end",
)
"""Every field of its product that ``protocols.pact.rendering.render_footprint`` reads. A footprint is immutable but
its product is not (a new plant, other classifications): these values are part of a remembered rendering's key."""


def product_key(values: Any) -> tuple[Any, ...]:
    """The render key's part for the product: :data:`RENDERED_PRODUCT_FIELDS` of a product, or those values in that
    order (a row of their columns), hashable."""
    if not isinstance(values, tuple | list):
        values = [getattr(values, name) for name in RENDERED_PRODUCT_FIELDS]
    return tuple(tuple(v) if isinstance(v, list) else v for v in values)


class RenderKeyFields(Protocol):
    """What a render key reads of a footprint (``render_cache.render_key``, ``attesting.certifications_of_inputs``): a
    loaded ``Footprint`` has it, and so does a :class:`VisibleFootprint` read from four columns."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def inputs(self) -> list[dict[str, Any]]: ...


class VisibleFootprint(NamedTuple):
    """What the render key of a footprint's answer needs of it (see ``render_cache.render_key``), without loading it:
    ``product`` is :func:`product_key` of its product."""

    id: str
    status: str
    product_id: str
    inputs: list[dict[str, Any]]
    product: tuple[Any, ...]


def _rows(session: Session, stmt: Any, params: dict[str, Any]) -> Iterable[Sequence[Any]]:
    """:func:`execute`'s rows, typed as the sequences they are."""
    return cast("Iterable[Sequence[Any]]", execute(session, stmt, params))


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


_FP, _PRODUCT, _GRANT = (_table(t) for t in (Footprint, Product, Grant))
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
    row = cast("Sequence[Any] | None", execute(session, _VISIBLE, {"f": footprint_id.lower(), "c": company_id}).first())
    return None if row is None else VisibleFootprint(row[0], row[1], row[2], row[3], product_key(tuple(row[4:])))


_REQ, _ATT, _UP = (_table(t) for t in (CfpRequest, Attestation, UpstreamFootprint))
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
    for product_id, certs in _rows(session, _LATEST_VERIFIERS, {"a": audience, "p": product_ids}):
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
    for footprint_id, att_id, verifiers, certifications in _rows(
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
        for footprint_id, certifications in _rows(session, _HELD, {"f": footprint_ids})
    }
