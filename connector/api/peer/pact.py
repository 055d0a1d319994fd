"""PACT v3: ListFootprints, GetFootprint and Events, with PACT error bodies."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from ...errors import ConnectorError
from ...exchange import pact
from ...services import attesting, audit, exchange
from ...services.context import NodeContext
from ...storage.db import read_only
from ...storage.tables import Footprint, InboxEvent, Product
from ..deps import ContextDep
from .deps import CallerDep

router = APIRouter(prefix="/3", tags=["peer: PACT v3"])


class BadRequest(ConnectorError):
    status = 400
    pact_code = "BadRequest"


def _date(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date-time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _validity(fp: Footprint, product: Product) -> tuple[datetime, datetime]:
    _, ref_end = pact.reference_period(product, fp)
    start = fp.validity_start or ref_end
    end = fp.validity_end or ref_end + timedelta(days=3 * 365)
    return start, end


def _lower(values: list[str] | None) -> set[str]:
    return {v.lower() for v in values or []}


def matches(fp: Footprint, product: Product, company_id: str, *, product_ids: set[str], company_ids: set[str],
            geographies: set[str], classifications: set[str], statuses: set[str], valid_on: datetime | None,
            valid_after: datetime | None, valid_before: datetime | None) -> bool:
    """PACT 3.0.1 filter semantics: OR within a repeated parameter, AND across parameters, case-insensitive."""
    if product_ids and not product_ids & _lower(product.product_ids):
        return False
    if company_ids and company_id.lower() not in company_ids:
        return False
    if geographies and not geographies & _lower([g for g in (product.plant_country, product.plant_subdivision) if g]):
        return False
    if classifications and not classifications & _lower(product.classifications):
        return False
    if statuses and fp.status.lower() not in statuses:
        return False
    start, end = _validity(fp, product)
    if valid_on and not (start <= valid_on <= end):
        return False
    if valid_after and not start > valid_after:
        return False
    return not (valid_before and not end < valid_before)


def _reader(app: Any) -> Any:
    engine = getattr(app.state, "read_engine", None)
    if engine is None:
        engine = app.state.read_engine = read_only(app.state.engine)
    return engine


def _serve_read(app: Any, caller: str, action: str, read: Any) -> tuple[Any, list[bytes]]:
    """Run ``read(ctx, issue_missing)`` -> (subject, audit details, result, rendered footprints), then audit it.

    The read goes in a read-only transaction (on SQLite it neither takes nor waits for the write lock); only when
    an attestation must be issued first (the first read of a footprint by this customer) is it repeated in a write
    transaction. The audit entry is appended in a short write transaction of its own, committed before any byte of
    the answer leaves: every peer access is on the hash chain, or the caller gets a 500 and no data.
    """
    settings, identity = app.state.settings, app.state.identity
    with Session(_reader(app), expire_on_commit=False) as session:
        try:
            subject, details, result, rendered = read(NodeContext(session, settings, identity), False)
            write_needed = False
        except attesting.NotIssuedYet:
            write_needed = True
        session.rollback()
    with Session(app.state.engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings, identity)
        if write_needed:
            subject, details, result, rendered = read(ctx, True)
        audit.append(session, caller, action, subject, **details)
        session.commit()
    return result, rendered


def _json(prefix: bytes, items: list[bytes], suffix: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(content=prefix + b",".join(items) + suffix, media_type="application/json", headers=headers)


@router.get("/footprints", summary="ListFootprints")
async def list_footprints(
    request: Request,
    caller: CallerDep,
    product_id: Annotated[list[str] | None, Query(alias="productId")] = None,
    company_id: Annotated[list[str] | None, Query(alias="companyId")] = None,
    geography: Annotated[list[str] | None, Query()] = None,
    classification: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[str] | None, Query()] = None,
    valid_on: Annotated[str | None, Query(alias="validOn")] = None,
    valid_after: Annotated[str | None, Query(alias="validAfter")] = None,
    valid_before: Annotated[str | None, Query(alias="validBefore")] = None,
    limit: Annotated[str | None, Query()] = None,
    offset: Annotated[str | None, Query()] = None,
) -> Response:
    """The footprints the caller has been granted, filtered and paginated (RFC 8288 Link, rel=next)."""
    settings = request.app.state.settings
    try:
        size = int(limit) if limit is not None else 100
        start = int(offset) if offset is not None else 0
    except ValueError:
        raise BadRequest("limit and offset must be integers") from None
    if size < 1 or start < 0:
        raise BadRequest("limit must be at least 1 and offset not negative")
    size = min(size, settings.page_size_max)
    filters = {
        "product_ids": _lower(product_id), "company_ids": _lower(company_id), "geographies": _lower(geography),
        "classifications": _lower(classification), "statuses": _lower(status),
        "valid_on": _date(valid_on, "validOn"), "valid_after": _date(valid_after, "validAfter"),
        "valid_before": _date(valid_before, "validBefore"),
    }

    def read(ctx: NodeContext, issue_missing: bool) -> tuple[str, dict[str, Any], int, list[bytes]]:
        selected = [(fp, p) for fp, p in exchange.visible_footprints(ctx, caller.company_id)
                    if matches(fp, p, ctx.company_id, **filters)]  # type: ignore[arg-type]
        window = selected[start:start + size]
        rendered = [exchange.rendered_json(ctx, fp, p, caller.company_id, issue_missing=issue_missing)
                    for fp, p in window]
        return "", {"returned": len(window)}, len(selected), rendered

    total, rendered = await run_in_threadpool(_serve_read, request.app, caller.company_id, "pact.list", read)
    headers = None
    if start + size < total:
        nxt = request.url.include_query_params(limit=size, offset=start + size)
        headers = {"Link": f'<{nxt}>; rel="next"'}
    return _json(b'{"data":[', rendered, b"]}", headers)


@router.get("/footprints/{footprint_id}", summary="GetFootprint")
async def get_footprint(request: Request, caller: CallerDep, footprint_id: str) -> Response:
    """One footprint the caller has been granted; anything else is 404."""
    try:
        uuid.UUID(footprint_id)
    except ValueError:
        raise BadRequest("footprint id must be a UUID") from None

    def read(ctx: NodeContext, issue_missing: bool) -> tuple[str, dict[str, Any], None, list[bytes]]:
        fp, product = exchange.visible_footprint(ctx, caller.company_id, footprint_id)
        return fp.id, {}, None, [exchange.rendered_json(ctx, fp, product, caller.company_id,
                                                        issue_missing=issue_missing)]

    _, rendered = await run_in_threadpool(_serve_read, request.app, caller.company_id, "pact.get", read)
    return _json(b'{"data":', rendered, b"}")


REQUIRED = ("specversion", "id", "source", "type", "time", "data")


def _validate_event(event: Any) -> dict[str, Any]:
    if not isinstance(event, dict):
        raise BadRequest("the body must be a CloudEvent JSON object")
    missing = [k for k in REQUIRED if k not in event or event[k] in (None, "")]
    if missing:
        raise BadRequest(f"missing CloudEvent attribute(s): {', '.join(missing)}")
    if event["specversion"] != "1.0":
        raise BadRequest("specversion must be 1.0")
    if not isinstance(event["id"], str) or len(event["id"]) > 200 or not isinstance(event["source"], str):
        raise BadRequest("id and source must be strings")
    if event["type"] not in pact.EVENT_TYPES:
        raise BadRequest(f"unsupported event type {event['type']!r}")
    if not isinstance(event["data"], dict):
        raise BadRequest("data must be an object")
    _date(str(event["time"]), "time")
    data = event["data"]
    if event["type"] == pact.PUBLISHED:
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids:
            raise BadRequest("pfIds must be a non-empty list")
        for pf_id in ids:
            try:
                uuid.UUID(str(pf_id))
            except ValueError:
                raise BadRequest(f"pfIds must be UUIDs, got {pf_id!r}") from None
    elif event["type"] == pact.REQUEST_CREATED:
        if not event["source"].startswith(("http://", "https://")):
            raise BadRequest("source must be the requester's base URL for the answer")
        for key in ("productId", "companyId", "geography", "classification"):
            if key in data and not isinstance(data[key], list):
                raise BadRequest(f"{key} must be a list")
    elif event["type"] in (pact.REQUEST_FULFILLED, pact.REQUEST_REJECTED):
        if not data.get("requestEventId"):
            raise BadRequest("requestEventId is required")
        if event["type"] == pact.REQUEST_FULFILLED and not isinstance(data.get("pfs"), list):
            raise BadRequest("pfs must be a list")
    return event


@router.post("/events", summary="Events", status_code=200)
async def events(request: Request, ctx: ContextDep, caller: CallerDep) -> Response:
    """Receive a CloudEvent (structured mode); a repeated event id changes nothing."""
    try:
        event = _validate_event(json.loads(await request.body()))
    except json.JSONDecodeError:
        raise BadRequest("the body is not valid JSON") from None
    await run_in_threadpool(_process_event, ctx, caller.company_id, event)
    if getattr(request.app.state, "worker", None) is not None:
        request.app.state.worker.wake()
    return Response(status_code=200)


def _process_event(ctx: NodeContext, caller: str, event: dict[str, Any]) -> None:
    key = f"{caller}|{event['id']}"[:200]
    if ctx.session.get(InboxEvent, key) is not None:
        return
    ctx.session.add(InboxEvent(event_id=key, source=event["source"][:500], type=event["type"], received_at=ctx.now()))
    try:
        ctx.session.flush()
    except IntegrityError:  # the same event delivered twice at the same moment
        ctx.session.rollback()
        return
    exchange.handle_event(ctx, caller, event)
