"""Catena-X look-ups: the partner a Business Partner Number names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session

from .repositories import first_row
from .tables import CfpRequest, Partner

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
