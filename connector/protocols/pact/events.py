"""The CloudEvents a node accepts on ``POST /3/events``, as pydantic models: the envelope and each PACT v3 event's data.

An event is parsed strictly (:func:`~connector.strict_json.strict_json_loads`) and then validated here, before any
state is touched: whatever a peer sends that these models refuse is a 400 with PACT's error body, and nothing is
stored. The models only check shapes; what the node does with a valid event is ``protocols.pact.inbound.handle_event``.
Extension attributes of the envelope and vendor fields of the data (``x-<impl>-<name>``) are kept as sent.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

__all__ = ["InvalidEvent", "cloud_event", "parse_event"]

EVENT_PREFIX = "org.wbcsd.pact.ProductFootprint."
REQUEST_CREATED = EVENT_PREFIX + "RequestCreatedEvent.3"
REQUEST_FULFILLED = EVENT_PREFIX + "RequestFulfilledEvent.3"
REQUEST_REJECTED = EVENT_PREFIX + "RequestRejectedEvent.3"
PUBLISHED = EVENT_PREFIX + "PublishedEvent.3"
ANSWER_REFUSED = "dev.battery-cfp-connector.ProductFootprint.AnswerRefusedEvent.1"
"""Ours, not PACT's (decision 0019): a customer tells its supplier that the answer to its request was refused as a
whole (data as RequestRejectedEvent's: ``requestEventId`` and ``error``, and since decision 0019's addendum
``refusals``, each refused footprint with why). Sent to PACT nodes that are not ours too: PACT v3 has a host answer
4xx to an event it does not accept, and the sender lets it be."""
FOOTPRINT_REFUSED = "dev.battery-cfp-connector.ProductFootprint.FootprintRefusedEvent.1"
"""Ours too: a customer tells its supplier that some footprints it sent were refused while the rest was accepted
(``requestEventId`` names the request they answered), or that a footprint it announced in a PublishedEvent was
refused once fetched (no ``requestEventId``); ``refusals``: each footprint (``pfId``) with an ``error``. A new type,
not AnswerRefusedEvent with a flag: a node of ours that knows only the latter would close its request as refused,
where it knows nothing of this one and answers 400, which the sender lets be."""
EVENT_TYPES = (REQUEST_CREATED, REQUEST_FULFILLED, REQUEST_REJECTED, PUBLISHED, ANSWER_REFUSED, FOOTPRINT_REFUSED)

# Our additions to a RequestCreated event travel as vendor fields, as PACT allows (x-<impl>-<name>).
X_VERIFIERS = "x-cfpconnector-verifierCertificates"
X_DUE = "x-cfpconnector-dueDate"
X_MESSAGE = "x-cfpconnector-message"


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cloud_event(
    type_: str, source: str, data: dict[str, Any], *, event_id: str | None = None, at: datetime | None = None
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "time": iso(at or datetime.now(UTC)),
        "type": type_,
        "datacontenttype": "application/json",
        "data": data,
    }


def _iso_datetime(value: str) -> str:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("must be an ISO 8601 date-time") from None
    return value


def _uuid(value: str) -> str:
    try:
        uuid.UUID(value)
    except ValueError:
        raise ValueError("must be a UUID") from None
    return value


IsoDateTime = Annotated[str, StringConstraints(max_length=64), AfterValidator(_iso_datetime)]
"""An ISO 8601 date-time as a string (kept as sent; never a number)."""
Text = Annotated[str, StringConstraints(max_length=10_000)]
Criterion = Annotated[str, StringConstraints(max_length=1_000)]
Criteria = Annotated[list[Criterion], Field(max_length=1_000)]


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class RequestCreatedData(_Data):
    """PACT's request criteria (the ListFootprints filters and a comment) and our vendor fields."""

    product_id: Criteria | None = Field(None, alias="productId")
    company_id: Criteria | None = Field(None, alias="companyId")
    geography: Criteria | None = None
    classification: Criteria | None = None
    valid_on: IsoDateTime | None = Field(None, alias="validOn")
    valid_after: IsoDateTime | None = Field(None, alias="validAfter")
    valid_before: IsoDateTime | None = Field(None, alias="validBefore")
    status: Criterion | None = None
    comment: Text | None = None
    due_date: IsoDateTime | None = Field(None, alias=X_DUE)
    message: Text | None = Field(None, alias=X_MESSAGE)
    verifier_certificates: (
        Annotated[list[Annotated[str, StringConstraints(max_length=20_000)]], Field(max_length=20)] | None
    ) = Field(None, alias=X_VERIFIERS)


EventId = Annotated[str, StringConstraints(min_length=1, max_length=200)]


Urn = Annotated[str, StringConstraints(max_length=1_000)]


class FootprintShape(BaseModel):
    """The members of a PACT ProductFootprint the receipt reads before verifying its attestation, with the types it
    reads them as; the rest is kept as sent (and checked against the signed attestation on receipt)."""

    model_config = ConfigDict(extra="allow")

    id: Annotated[str, AfterValidator(_uuid)]
    company_ids: Annotated[list[Urn], Field(min_length=1, max_length=100)] = Field(alias="companyIds")
    product_ids: Annotated[list[Urn], Field(min_length=1, max_length=1_000)] = Field(alias="productIds")
    status: Annotated[str, StringConstraints(max_length=20)] | None = None
    pcf: dict[str, Any]
    extensions: list[dict[str, Any]] | None = None


class RequestFulfilledData(_Data):
    request_event_id: EventId = Field(alias="requestEventId")
    pfs: Annotated[list[FootprintShape], Field(min_length=1)] = Field(
        description="the footprints (each verified on its own when received; a bad one is refused and recorded)"
    )


class PactError(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: Annotated[str, StringConstraints(max_length=100)]
    message: Text


class RequestRejectedData(_Data):
    request_event_id: EventId = Field(alias="requestEventId")
    error: PactError


class PublishedData(_Data):
    pf_ids: Annotated[list[Annotated[str, AfterValidator(_uuid)]], Field(min_length=1, max_length=1_000)] = Field(
        alias="pfIds"
    )


class FootprintRefusal(BaseModel):
    """One refused footprint: its id as the customer read it (a UUID when the document had one; kept as a string, since
    a document refused for a malformed id is named too) and why."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    pf_id: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(alias="pfId")
    error: PactError


Refusals = Annotated[list[FootprintRefusal], Field(min_length=1, max_length=1_000)]


class AnswerRefusedData(RequestRejectedData):
    refusals: Refusals | None = None


class FootprintRefusedData(_Data):
    request_event_id: EventId | None = Field(None, alias="requestEventId")
    refusals: Refusals


class _Envelope(BaseModel):
    """CloudEvents 1.0, structured mode: the attributes PACT requires; extension attributes are kept."""

    model_config = ConfigDict(extra="allow")

    specversion: Literal["1.0"]
    id: EventId
    source: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        description="the sender, as it names itself; informative only: answers go to the partner's registered URL"
    )
    time: IsoDateTime


class RequestCreated(_Envelope):
    type: Literal["org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"]
    data: RequestCreatedData


class RequestFulfilled(_Envelope):
    type: Literal["org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"]
    data: RequestFulfilledData


class RequestRejected(_Envelope):
    type: Literal["org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"]
    data: RequestRejectedData


class Published(_Envelope):
    type: Literal["org.wbcsd.pact.ProductFootprint.PublishedEvent.3"]
    data: PublishedData


class AnswerRefused(_Envelope):
    type: Literal["dev.battery-cfp-connector.ProductFootprint.AnswerRefusedEvent.1"]
    data: AnswerRefusedData


class FootprintRefused(_Envelope):
    type: Literal["dev.battery-cfp-connector.ProductFootprint.FootprintRefusedEvent.1"]
    data: FootprintRefusedData


MODELS = (RequestCreated, RequestFulfilled, RequestRejected, Published, AnswerRefused, FootprintRefused)
"""One model per PACT v3 event type, in the order of ``EVENT_TYPES`` (a test keeps the two in step)."""
Event = Annotated[
    RequestCreated | RequestFulfilled | RequestRejected | Published | AnswerRefused | FootprintRefused,
    Field(discriminator="type"),
]
_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


class InvalidEvent(ValueError):
    """The body is not an event this node accepts; the message says where (for PACT's ``BadRequest``)."""


def _where(error: Any) -> str:
    loc = [str(p) for p in error.get("loc", ())]
    if loc and loc[0] in EVENT_TYPES:
        loc = loc[1:]  # the union's tag: the type is named in the message already
    return ".".join(loc) or "event"


def parse_event(value: Any) -> dict[str, Any]:
    """The event as a dict (the JSON it came as; nothing coerced), once the model of its type accepts it."""
    if not isinstance(value, dict):
        raise InvalidEvent("the body must be a CloudEvent JSON object")
    try:
        _EVENT.validate_python(value, strict=True)  # JSON types only: nothing coerced
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = "; ".join(f"{_where(e)}: {e['msg']}" for e in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise InvalidEvent(
            f"invalid {value.get('type') if isinstance(value.get('type'), str) else 'event'}: {first}{more}"[:1000]
        ) from None
    return value
