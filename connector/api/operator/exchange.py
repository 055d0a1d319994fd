"""Requests to and from partners, grants, PACT client credentials, the outbox and the audit log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, status
from sqlmodel import col

from ...exchange import grants, outbox, part_links, requests
from ...services import audit, pact_clients
from ...storage import repositories as repo
from ...storage.tables import AuditEntry, CfpRequest, Grant, OutboxMessage
from .. import schemas as s
from ..deps import AdminDep, ContextDep, EditorDep, ViewerDep
from ..strict_body import StrictJsonRoute
from . import examples as ex
from .paging import PagingDep

router = APIRouter(tags=["exchange"], route_class=StrictJsonRoute)


def _read(r: CfpRequest) -> s.RequestRead:
    return s.RequestRead(
        id=r.id,
        direction=r.direction,
        event_id=r.event_id,
        company_id=r.company_id,
        product_ids=r.product_ids,
        product_id=r.product_id,
        bom_line_id=r.bom_line_id,
        message=r.message,
        due_date=r.due_date,
        state=r.state,
        reason=r.reason,
        footprint_ids=r.footprint_ids,
        verifier_count=len(r.verifier_certs),
        created_at=r.created_at,
        updated_at=r.updated_at,
    )


def _wake(request: Request) -> None:
    worker = getattr(request.app.state, "worker", None)
    if worker is not None:
        worker.wake()


@router.get("/requests", response_model=s.Page[s.RequestRead])
def list_requests(
    ctx: ContextDep,
    _: ViewerDep,
    paging: PagingDep,
    direction: Annotated[Literal["incoming", "outgoing"] | None, Query()] = None,
    state: Annotated[
        Literal["pending", "fulfilled", "rejected", "cancelled", "refused", "failed"] | None, Query()
    ] = None,
) -> s.Page[s.RequestRead]:
    """List incoming and outgoing CFP requests with their state."""
    where = []
    if direction:
        where.append(CfpRequest.direction == direction)
    if state:
        where.append(CfpRequest.state == state)
    items, total = repo.page(
        ctx.session,
        CfpRequest,
        *where,
        order=col(CfpRequest.created_at).desc(),
        limit=paging.limit,
        offset=paging.offset,
    )
    paging.link(total)
    return s.Page(items=[_read(r) for r in items], total=total, limit=paging.limit, offset=paging.offset)


@router.post("/requests", status_code=status.HTTP_201_CREATED, response_model=s.RequestRead)
def create_request(
    request: Request,
    ctx: ContextDep,
    _: EditorDep,
    body: Annotated[s.RequestCreate, Body(openapi_examples=ex.REQUEST_CREATE)],
) -> s.RequestRead:
    """Ask the supplier of a BOM line for its footprint."""
    req = requests.request_footprint(
        ctx, body.bom_line_id, message=body.message, due_date=body.due_date, verifier_certs=body.verifier_certificates
    )
    _wake(request)
    return _read(req)


@router.get("/requests/{request_id}", response_model=s.RequestRead)
def get_request(ctx: ContextDep, _: ViewerDep, request_id: str) -> s.RequestRead:
    """Get one request."""
    return _read(requests.get_request(ctx, request_id))


@router.post("/requests/{request_id}/accept", response_model=s.RequestRead)
def accept_request(request: Request, ctx: ContextDep, _: EditorDep, request_id: str) -> s.RequestRead:
    """Accept an incoming request: grant the product to the requester and answer when the footprint exists."""
    req = requests.accept_request(ctx, request_id)
    _wake(request)
    return _read(req)


@router.post("/requests/{request_id}/reject", response_model=s.RequestRead)
def reject_request(
    request: Request,
    ctx: ContextDep,
    _: EditorDep,
    request_id: str,
    body: Annotated[s.RejectBody, Body(openapi_examples=ex.REJECT)],
) -> s.RequestRead:
    """Reject an incoming request with a reason."""
    req = requests.reject_request(ctx, request_id, body.reason)
    _wake(request)
    return _read(req)


@router.post("/requests/{request_id}/link", response_model=s.RequestRead)
def link_request(
    request: Request,
    ctx: ContextDep,
    _: EditorDep,
    request_id: str,
    body: Annotated[s.LinkBody, Body(openapi_examples=ex.LINK)],
) -> s.RequestRead:
    """Link a pending incoming request to one of our products (a request naming ids we do not know, held for the
    operator: an Ouranos trade names the customer's part). The ids asked for become identifiers of the product, the
    requester is granted it, and the answer goes as soon as the product has a footprint. A trade for a platform's
    part remembers the link (``/part-links``): later trades for that part are linked to the product automatically."""
    req = part_links.link_product(ctx, request_id, body.product_id, body.verifier_certificates)
    _wake(request)
    return _read(req)


@router.post("/requests/{request_id}/fulfil", response_model=s.RequestRead)
def fulfil_request(request: Request, ctx: ContextDep, _: EditorDep, request_id: str) -> s.RequestRead:
    """Answer an accepted incoming request with the current footprint."""
    req = requests.fulfil_request(ctx, request_id)
    _wake(request)
    return _read(req)


@router.post("/requests/{request_id}/cancel", response_model=s.RequestRead)
def cancel_request(ctx: ContextDep, _: EditorDep, request_id: str) -> s.RequestRead:
    """Cancel a pending outgoing request."""
    return _read(requests.cancel_request(ctx, request_id))


@router.get("/grants", response_model=s.Page[s.GrantRead])
def list_grants(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> s.Page[s.GrantRead]:
    """List product x customer grants."""
    items, total = repo.page(ctx.session, Grant, order=col(Grant.created_at), limit=paging.limit, offset=paging.offset)
    paging.link(total)
    reads = [
        s.GrantRead(id=g.id, product_id=g.product_id, company_id=g.company_id, created_at=g.created_at) for g in items
    ]
    return s.Page(items=reads, total=total, limit=paging.limit, offset=paging.offset)


@router.post("/grants", status_code=status.HTTP_201_CREATED, response_model=s.GrantRead)
def create_grant(
    ctx: ContextDep, _: EditorDep, body: Annotated[s.GrantCreate, Body(openapi_examples=ex.GRANT)]
) -> s.GrantRead:
    """Let a customer see a product's footprints."""
    g = grants.grant(ctx, body.product_id, body.company_id)
    return s.GrantRead(id=g.id, product_id=g.product_id, company_id=g.company_id, created_at=g.created_at)


@router.delete("/grants/{grant_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_grant(ctx: ContextDep, _: EditorDep, grant_id: str) -> None:
    """Withdraw a grant."""
    grants.revoke_grant(ctx, grant_id)


@router.post("/pact-clients", status_code=status.HTTP_201_CREATED, response_model=s.PeerClientCreated)
def create_pact_client(
    ctx: ContextDep, _: AdminDep, body: Annotated[s.PeerClientCreate, Body(openapi_examples=ex.PACT_CLIENT)]
) -> s.PeerClientCreated:
    """Issue client_secret_basic credentials to a PACT partner without dataspace certificates."""
    return pact_clients.issue(ctx, body.company_id)


@router.get("/pact-clients", response_model=list[s.PeerClientRead])
def list_pact_clients(ctx: ContextDep, _: AdminDep) -> list[s.PeerClientRead]:
    """The client_secret_basic credentials issued to PACT partners (never a secret)."""
    return pact_clients.list_clients(ctx)


@router.post("/pact-clients/{client_id}/rotate", response_model=s.PeerClientCreated)
def rotate_pact_client(ctx: ContextDep, _: AdminDep, client_id: str) -> s.PeerClientCreated:
    """A new secret for a PACT client (shown once): the old secret and every access token issued under it are
    refused from now on, so the partner must fetch a new token with the new secret."""
    return pact_clients.rotate(ctx, client_id)


@router.delete("/pact-clients/{client_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_pact_client(ctx: ContextDep, _: AdminDep, client_id: str) -> None:
    """Revoke a PACT client for good: its secret and every access token issued under it are refused from now on."""
    pact_clients.revoke(ctx, client_id)


@router.get("/outbox", response_model=s.Page[s.OutboxRead])
def list_outbox(
    ctx: ContextDep,
    _: ViewerDep,
    paging: PagingDep,
    state: Annotated[Literal["pending", "sent", "failed"] | None, Query()] = None,
) -> s.Page[s.OutboxRead]:
    """List outgoing messages and their delivery state."""
    where = [OutboxMessage.state == state] if state else []
    items, total = repo.page(
        ctx.session,
        OutboxMessage,
        *where,
        order=col(OutboxMessage.created_at).desc(),
        limit=paging.limit,
        offset=paging.offset,
    )
    paging.link(total)
    reads = [
        s.OutboxRead(
            id=m.id,
            target_url=m.target_url,
            company_id=m.company_id,
            kind=m.kind,
            state=m.state,
            attempts=m.attempts,
            next_attempt_at=m.next_attempt_at,
            last_error=m.last_error,
        )
        for m in items
    ]
    return s.Page(items=reads, total=total, limit=paging.limit, offset=paging.offset)


@router.post("/outbox/retry", response_model=dict)
def retry_outbox(request: Request, ctx: ContextDep, _: EditorDep) -> dict[str, int]:
    """Make every pending message due now (after a partner is back)."""
    count = outbox.retry_now(ctx.session, ctx.now())
    _wake(request)
    return {"rescheduled": count}


@router.get("/audit", response_model=s.Page[s.AuditRead])
def list_audit(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> s.Page[s.AuditRead]:
    """Read the hash-chained audit log, oldest first."""
    items, total = repo.page(
        ctx.session, AuditEntry, order=col(AuditEntry.seq), limit=paging.limit, offset=paging.offset
    )
    paging.link(total)
    reads = [
        s.AuditRead(
            seq=e.seq or 0,
            at=e.at,
            actor=e.actor,
            action=e.action,
            subject=e.subject,
            details=e.details,
            prev_hash=e.prev_hash,
            hash=e.hash,
        )
        for e in items
    ]
    return s.Page(items=reads, total=total, limit=paging.limit, offset=paging.offset)


@router.get("/audit/check", response_model=s.AuditCheck)
def check_audit(ctx: ContextDep, _: ViewerDep) -> s.AuditCheck:
    """Recompute the audit log's hash chain."""
    result = audit.check_chain(ctx.session)
    return s.AuditCheck(
        valid=result.valid, entries=result.entries, first_bad_seq=result.first_bad_seq, reason=result.reason
    )
