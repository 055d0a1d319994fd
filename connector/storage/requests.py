"""The statements of CFP requests, incoming and outgoing (the request state machine is exchange/requests.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, update
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from .repositories import execute, first_row, scalar
from .tables import CfpRequest

_PENDING_INCOMING = select(CfpRequest).where(
    CfpRequest.direction == "incoming", CfpRequest.product_id == bindparam("p"), CfpRequest.state == "pending"
)


def pending_incoming(session: Session, product_id: str) -> list[CfpRequest]:
    """The incoming requests for the product still waiting for an answer."""
    return list(session.exec(_PENDING_INCOMING, params={"p": product_id}))


_OUTGOING_BY_EVENT = select(CfpRequest).where(CfpRequest.direction == "outgoing", CfpRequest.event_id == bindparam("e"))


def outgoing_request(session: Session, event_id: str) -> CfpRequest | None:
    """The request this node sent with the RequestCreated event ``event_id``."""
    return session.exec(_OUTGOING_BY_EVENT, params={"e": event_id}).first()


_INCOMING_BY_EVENT = select(CfpRequest).where(
    CfpRequest.direction == "incoming", CfpRequest.event_id == bindparam("e"), CfpRequest.company_id == bindparam("c")
)


def incoming_request(session: Session, event_id: str, company_id: str) -> CfpRequest | None:
    """The request ``company_id`` sent this node with the event ``event_id``."""
    return session.exec(_INCOMING_BY_EVENT, params={"e": event_id, "c": company_id}).first()


_REQ = CfpRequest.__table__  # type: ignore[attr-defined]
_LATEST_VERIFIERS = (
    core_select(_REQ.c.verifier_certs)
    .where(_REQ.c.direction == "incoming", _REQ.c.company_id == bindparam("c"), _REQ.c.product_id == bindparam("p"))
    .order_by(_REQ.c.created_at.desc())
    .limit(1)
)


_OPEN_FOR_LINE = (
    core_select(_REQ.c.id)
    .where(_REQ.c.direction == "outgoing", _REQ.c.bom_line_id == bindparam("l"), _REQ.c.state == "pending")
    .limit(1)
)


_OUTGOING_OWNER = (
    core_select(_REQ.c.id, _REQ.c.company_id)
    .where(_REQ.c.direction == "outgoing", _REQ.c.event_id == bindparam("e"))
    .limit(1)
)


def outgoing_request_owner(session: Session, event_id: str) -> tuple[str, str] | None:
    """(id, company id) of the request this node sent with the RequestCreated event ``event_id``, without loading
    it (:func:`outgoing_request` loads it)."""
    row = first_row(session, _OUTGOING_OWNER, {"e": event_id})
    return (row[0], row[1]) if row else None


_ANSWERED = (
    core_select(_REQ.c.id, _REQ.c.company_id, _REQ.c.state, _REQ.c.footprint_ids, _REQ.c.product_ids)
    .where(_REQ.c.direction == "outgoing", _REQ.c.event_id == bindparam("e"))
    .limit(1)
)
_ANSWERED_LOCKED = _ANSWERED.with_for_update()


def outgoing_request_answered(session: Session, event_id: str) -> Row[Any] | None:
    """(id, company_id, state, footprint_ids, product_ids) of the request sent with the RequestCreated event ``event_id``, for its
    answer to update; locked on PostgreSQL, so answers arriving together are applied one after the other."""
    postgres = session.connection().dialect.name == "postgresql"
    return first_row(session, _ANSWERED_LOCKED if postgres else _ANSWERED, {"e": event_id})


_GIVE_UP = (
    update(_REQ)
    .where(_REQ.c.direction == "outgoing", _REQ.c.event_id == bindparam("e"), _REQ.c.state == "pending")
    .values(state="failed", reason=bindparam("r"), updated_at=bindparam("at"))
    .returning(_REQ.c.id)
)


def fail_request(session: Session, event_id: str, reason: str, at: object) -> str | None:
    """Close the pending outgoing request sent with ``event_id`` as ``failed`` (its RequestCreated event could not be
    delivered); its id, or None when it was no longer pending."""
    return execute(session, _GIVE_UP, {"e": event_id, "r": reason, "at": at}).scalar()


def update_request(session: Session, request_id: str, **values: Any) -> None:
    """One UPDATE of a request (ORM-enabled: an instance of it in the session is updated too)."""
    session.execute(update(CfpRequest).where(col(CfpRequest.id) == request_id).values(**values))


def open_request_for_line(session: Session, line_id: str) -> str | None:
    """The id of the pending outgoing request for a BOM line, if there is one."""
    return scalar(session, _OPEN_FOR_LINE, {"l": line_id})  # type: ignore[return-value]


def latest_verifiers(session: Session, company_id: str, product_id: str) -> list[str]:
    """The verifier certificates named by the customer's latest request for the product."""
    return list(scalar(session, _LATEST_VERIFIERS, {"c": company_id, "p": product_id}) or [])  # type: ignore[call-overload]


_LATEST_ANSWERED_INCOMING = (
    core_select(_REQ.c.id)
    .where(
        _REQ.c.direction == "incoming",
        _REQ.c.company_id == bindparam("c"),
        _REQ.c.product_id == bindparam("p"),
        _REQ.c.state != "pending",
    )
    .order_by(_REQ.c.created_at.desc())
    .limit(1)
)


def latest_answered_incoming(session: Session, company_id: str, product_id: str) -> str | None:
    """The id of the customer's latest request for the product that is no longer pending (answered, or closed
    otherwise), if there is one."""
    return scalar(session, _LATEST_ANSWERED_INCOMING, {"c": company_id, "p": product_id})  # type: ignore[return-value]
