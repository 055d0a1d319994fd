"""How the node's data reads as Ouranos: operator = our company, plants = our products' plants, parts = products
(traceId = product id), trades and statuses = requests (tradeId = request id). Ids Ouranos needs and the node has
no column for are derived (uuid5), so they are stable without storage. See docs/decisions/0021."""

from __future__ import annotations

import hashlib
import uuid
from decimal import ROUND_CEILING, Decimal
from typing import Any

from ...config import Settings
from ...storage.tables import CfpRequest, Product
from .models import MAX_NUMBER, PLACES
from .wire import DtsError

NAMESPACE = uuid.UUID("6f0b0d52-6a55-5b9e-9d0e-2a3c0c3f8a11")
TO_OURS = {
    "liter": "liter",
    "kilogram": "kilogram",
    "cubic-meter": "cubic meter",
    "kilowatt-hour": "kilowatt hour",
    "megajoule": "megajoule",
    "ton-kilometer": "ton kilometer",
    "square-meter": "square meter",
    "unit": "piece",
}
TO_OURANOS = {ours: theirs for theirs, ours in TO_OURS.items()}
PART_URN = "urn:uuid:"


def derived(kind: str, *parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join((kind, *parts))))


def operator_id(company_id: str) -> str:
    return derived("operator", company_id)


def plant_id(company_id: str, plant_name: str | None) -> str:
    return derived("plant", company_id, plant_name or "")


def trade_id(req: CfpRequest) -> str:
    """The id both sides of a request know it by: the asking event's id (a UUID for our own nodes' requests), so the
    downstream's and the upstream's tradeId agree."""
    try:
        return str(uuid.UUID(req.event_id)) if len(req.event_id) == 36 else derived("trade", req.event_id)
    except ValueError:
        return derived("trade", req.event_id)


def status_id(trade: str) -> str:
    return derived("status", trade)


def cfp_id(product_id: str) -> str:
    return derived("cfp", product_id)


def open_operator_id(settings: Settings, company_id: str) -> str:
    if company_id == settings.company_id:
        return settings.corporate_number or ""
    known = settings.partner_corporate_numbers.get(company_id)
    return known or operator_id(company_id).replace("-", "")[:20]


def open_plant_id(settings: Settings, plant_name: str | None) -> str:
    digits = int(hashlib.sha256((plant_name or "").encode()).hexdigest(), 16) % 1_000_000
    return f"{settings.corporate_number or ''}{digits:06d}"


def ouranos_unit(unit: str | None) -> str | None:
    return TO_OURANOS.get(unit or "")


def wire_number(value: Decimal | None) -> Decimal | None:
    """A value as DTS carries it: at most 5 decimals, the 6th rounded up (the spec's rule for writers); None when it
    cannot be carried (negative, or over 99999.99999)."""
    if value is None:
        return None
    out = value.quantize(Decimal(1).scaleb(-PLACES), rounding=ROUND_CEILING)
    return out if Decimal(0) <= out <= MAX_NUMBER else None


def trace_of_urn(company_id: str, urn: str) -> str:
    """The traceId a customer's part has for us: its own id when it names it (``urn:uuid:``), else derived."""
    if urn.lower().startswith(PART_URN):
        tail = urn[len(PART_URN) :]
        try:
            return str(uuid.UUID(tail))
        except ValueError:
            pass
    return derived("part", company_id, urn)


def operator_model(settings: Settings, company_id: str, name: str) -> dict[str, Any]:
    own = company_id == settings.company_id
    return {
        "operatorId": operator_id(company_id),
        "operatorName": (name or company_id)[:256],
        "operatorAddress": (settings.company_address if own and settings.company_address else "-")[:256],
        "openOperatorId": open_operator_id(settings, company_id),
        "operatorAttribute": {"globalOperatorId": company_id[:256]},
    }


def plant_model(settings: Settings, plant_name: str | None) -> dict[str, Any]:
    name = plant_name or settings.company_name
    return {
        "plantId": plant_id(settings.company_id, plant_name),
        "operatorId": operator_id(settings.company_id),
        "plantName": name[:256],
        "plantAddress": (settings.company_address or "-")[:256],
        "openPlantId": open_plant_id(settings, plant_name),
        "plantAttribute": {"globalPlantId": None},
    }


def parts_model(
    settings: Settings,
    product: Product,
    *,
    terminated: bool,
    amount: Decimal | None = None,
    unit: str | None = None,
) -> dict[str, Any]:
    support = product.description if len(product.description) <= 50 else None
    return {
        "traceId": product.id,
        "operatorId": operator_id(settings.company_id),
        "plantId": plant_id(settings.company_id, product.plant_name),
        "partsName": product.name[:50],
        "supportPartsName": support or None,
        "terminatedFlag": terminated,
        "amountRequired": wire_number(amount),
        "amountRequiredUnit": ouranos_unit(unit if unit is not None else product.declared_unit),
        "partsLabelName": None,
        "partsAddInfo1": None,
        "partsAddInfo2": None,
        "partsAddInfo3": None,
    }


CFP_STATUS = {
    "pending": "NOT_COMPLETED",
    "fulfilled": "COMPLETED",
    "rejected": "REJECT",
    "cancelled": "CANCEL",
    "failed": "REJECT",
    "refused": "REJECT",
}


def status_model(req: CfpRequest) -> dict[str, Any]:
    done = req.state == "fulfilled"
    trade = trade_id(req)
    return {
        "statusId": status_id(trade),
        "tradeId": trade,
        "requestStatus": {
            "cfpResponseStatus": CFP_STATUS.get(req.state, "NOT_COMPLETED"),
            "tradeTreeStatus": "TERMINATED" if done else "UNTERMINATED",
            "completedCount": 1 if done else 0,
            "completedCountModifiedAt": req.updated_at.isoformat().replace("+00:00", "Z") if done else None,
            "tradesCount": 1,
            "tradesCountModifiedAt": req.created_at.isoformat().replace("+00:00", "Z"),
        },
        "message": (req.message or None) and req.message[:1000],
        "replyMessage": (req.reason or None) and req.reason[:1000] if req.state != "fulfilled" else None,
        "requestType": "CFP",
        "responseDueDate": req.due_date.date().isoformat() if req.due_date else None,
    }


def require_uuid(value: str | None, name: str) -> str:
    if value is None or value == "":
        raise DtsError(400, f"Validation failed, {name}: cannot be blank.")
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise DtsError(400, f"Validation failed, {name}: must be a valid UUID.") from None
