"""Catena-X look-ups: the partner a Business Partner Number names, and what a submodel GET shows it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import Row, bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import Session

from .pact_reads import RENDERED_PRODUCT_FIELDS, VisibleFootprint, product_key
from .repositories import execute, first_row
from .tables import Attestation, CfpRequest, Footprint, Grant, Partner, Product, ProductIdentifier

_PARTNER = Partner.__table__  # type: ignore[attr-defined]
_BY_BPNL = core_select(_PARTNER).where(_PARTNER.c.bpnl == bindparam("b")).limit(1)
_BPNL_OF = core_select(_PARTNER.c.bpnl).where(_PARTNER.c.company_id == bindparam("c")).limit(1)


def partner_by_bpnl(session: Session, bpnl: str) -> Row[Any] | None:
    """The partner whose BPNL is ``bpnl`` (upper case, as Catena-X writes them), as a read-only row."""
    return first_row(session, _BY_BPNL, {"b": bpnl.strip().upper()})


def bpnl_of(session: Session, company_id: str) -> str | None:
    """The BPNL recorded for the partner ``company_id``, if any."""
    row = first_row(session, _BPNL_OF, {"c": company_id})
    return row[0] if row is not None else None


_CFP = CfpRequest.__table__  # type: ignore[attr-defined]
_LAST_ASKED = (
    core_select(_CFP.c.event_id)
    .where(
        _CFP.c.direction == "incoming",
        _CFP.c.company_id == bindparam("c"),
        _CFP.c.product_id == bindparam("p"),
        _CFP.c.protocol == bindparam("proto"),
    )
    .order_by(_CFP.c.created_at.desc())
    .limit(1)
)


def last_request_id(session: Session, company_id: str, product_id: str, protocol: str) -> str | None:
    """The id the customer gave its latest request over ``protocol`` for our product (what an update answers)."""
    row = first_row(session, _LAST_ASKED, {"c": company_id, "p": product_id, "proto": protocol})
    return str(row[0]) if row is not None else None


_FP = Footprint.__table__  # type: ignore[attr-defined]
_PRODUCT = Product.__table__  # type: ignore[attr-defined]
_GRANT = Grant.__table__  # type: ignore[attr-defined]
_ATT = Attestation.__table__  # type: ignore[attr-defined]
_IDENT = ProductIdentifier.__table__  # type: ignore[attr-defined]
_FIRST_PRODUCT = (  # the product ``repositories.products_by_urns`` puts first for one URN
    core_select(_PRODUCT.c.id)
    .where(_PRODUCT.c.id.in_(core_select(_IDENT.c.product_id).where(func.lower(_IDENT.c.urn) == bindparam("u"))))
    .order_by(_PRODUCT.c.created_at)
    .limit(1)
    .scalar_subquery()
)
_LATEST_VERIFIERS = (  # as ``requests.latest_verifiers``: those the caller's latest request for the product named
    core_select(_CFP.c.verifier_certs)
    .where(
        _CFP.c.direction == "incoming",
        _CFP.c.company_id == _PARTNER.c.company_id,
        _CFP.c.product_id == _PRODUCT.c.id,
    )
    .order_by(_CFP.c.created_at.desc())
    .limit(1)
    .scalar_subquery()
)
_SUBMODEL = (
    core_select(
        _PARTNER.c.company_id,
        _FP.c.id,
        _FP.c.status,
        _FP.c.product_id,
        _FP.c.inputs,
        _LATEST_VERIFIERS,
        _ATT.c.id,
        _ATT.c.verifiers,
        _ATT.c.certifications,
        _PRODUCT.c.plant_name,
        *(_PRODUCT.c[name] for name in RENDERED_PRODUCT_FIELDS),
    )
    .select_from(
        _PARTNER.join(_GRANT, _GRANT.c.company_id == _PARTNER.c.company_id)
        .join(_PRODUCT, _PRODUCT.c.id == _GRANT.c.product_id)
        .join(_FP, _FP.c.product_id == _PRODUCT.c.id)
        .outerjoin(_ATT, (_ATT.c.footprint_id == _FP.c.id) & (_ATT.c.audience == _PARTNER.c.company_id))
    )
    .where(_PARTNER.c.bpnl == bindparam("b"), _PRODUCT.c.id == _FIRST_PRODUCT, _FP.c.status == "Active")
)


class SubmodelKey(NamedTuple):
    """What the render key of a submodel answer needs, read without loading a footprint, product or attestation."""

    audience: str
    """The caller's company id."""
    footprint: VisibleFootprint
    plant_name: str | None
    verifiers: list[str]
    """Named by the caller's latest request for the product (``requests.latest_verifiers``)."""
    attestations: list[tuple[str, list[str], int]]
    """(id, verifiers, number of certifications) of each attestation of the footprint for the caller."""


def submodel_key(session: Session, bpnl: str, product_urn: str) -> SubmodelKey | None:
    """The submodel GET's look-ups in one prepared statement: the partner ``bpnl`` names, the product a URN names (the
    first, as ``repositories.products_by_urns`` orders them), a grant of it to that partner, its Active footprint,
    the caller's latest verifiers and the footprint's attestations for the caller; None when any of the first four
    is missing."""
    params = {"b": bpnl.strip().upper(), "u": product_urn.lower()}
    rows = cast("list[Sequence[Any]]", list(execute(session, _SUBMODEL, params)))
    if not rows:
        return None
    first = rows[0]
    fp = VisibleFootprint(first[1], first[2], first[3], first[4], product_key(tuple(first[10:])))
    attestations = [(row[6], list(row[7] or []), len(row[8] or [])) for row in rows if row[6] is not None]
    return SubmodelKey(first[0], fp, first[9], list(first[5] or []), attestations)
