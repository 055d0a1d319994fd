"""Every table of a node, kept together. Decimals are stored as text so both back ends keep them exact."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, LargeBinary, String, Text, TypeDecorator, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ..decimals import format_decimal


def _factory(fn: Callable[[], Any]) -> Callable[[], Any]:
    """A default factory whose signature is worked out once: pydantic inspects a factory's signature every time it
    makes a default (a SQLModel table model, once per field left out, on every construction), which costs ~0.1 ms
    for a builtin such as ``list`` (its signature is parsed from text) and made a CfpRequest ~4x dearer to build."""
    fn.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    return fn


@_factory
def utcnow() -> datetime:
    return datetime.now(UTC)


@_factory
def new_id() -> str:
    return str(uuid.uuid4())


@_factory
def empty_list() -> list[Any]:
    return []


@_factory
def empty_dict() -> dict[str, Any]:
    return {}


class DecimalText(TypeDecorator):
    """Decimal <-> canonical decimal string; SQLite's NUMERIC would silently go through float."""

    impl = String(80)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else format_decimal(Decimal(value))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both back ends (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


def _dec(**kw: Any) -> Any:
    return Field(sa_type=DecimalText, **kw)


def _json(**kw: Any) -> Any:
    return Field(sa_column=Column(JSON, nullable=kw.pop("nullable", False)), **kw)


class Partner(SQLModel, table=True):
    """A company this node trades with: a supplier, a customer, or both."""

    id: str = Field(default_factory=new_id, primary_key=True)
    company_id: str = Field(index=True, unique=True, max_length=300)
    name: str = Field(max_length=300)
    node_url: str | None = Field(default=None, max_length=500)
    protocol: str = Field(default="pact", max_length=40, sa_column_kwargs={"server_default": "pact"})
    """The wire protocol that reaches ``node_url`` (an adapter under ``connector/protocols``), picked by the
    operator."""
    bpnl: str | None = Field(default=None, max_length=16, unique=True, index=True)
    """Its Catena-X Business Partner Number (legal entity): who a Catena-X data plane says is calling."""
    is_supplier: bool = False
    is_customer: bool = False
    auto_fulfil: bool = False
    created_at: datetime = _ts(default_factory=utcnow)


class Product(SQLModel, table=True):
    id: str = Field(default_factory=new_id, primary_key=True)
    product_ids: list[str] = _json(default_factory=empty_list)
    name: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    declared_unit: str = Field(max_length=40)
    mass_per_declared_unit: Decimal | None = _dec(default=None, nullable=True)
    plant_name: str | None = Field(default=None, max_length=300)
    plant_country: str | None = Field(default=None, max_length=2)
    plant_subdivision: str | None = Field(default=None, max_length=6)
    classifications: list[str] = _json(default_factory=empty_list)
    reference_period_start: datetime | None = _ts(default=None, nullable=True)
    reference_period_end: datetime | None = _ts(default=None, nullable=True)
    primary_data_share: Decimal | None = _dec(default=None, nullable=True)
    dqr: dict[str, str] | None = _json(default=None, nullable=True)
    manual_confirmation: bool = False
    created_at: datetime = _ts(default_factory=utcnow)


class ProductIdentifier(SQLModel, table=True):
    """One row per productIds URN, so a URN belongs to one product only (enforced by the database)."""

    urn: str = Field(primary_key=True, max_length=300)
    product_id: str = Field(foreign_key="product.id", ondelete="CASCADE", index=True)


class BomLine(SQLModel, table=True):
    """An input of a product: a supplier's product, or a secondary dataset booked to one stage."""

    id: str = Field(default_factory=new_id, primary_key=True)
    product_id: str = Field(foreign_key="product.id", ondelete="CASCADE", index=True)
    kind: str = Field(max_length=20)  # "supplier" | "secondary"
    supplier_company_id: str | None = Field(default=None, max_length=300)
    supplier_product_id: str | None = Field(default=None, max_length=300, index=True)
    quantity: Decimal = _dec()
    unit: str = Field(max_length=40)
    dataset: str | None = Field(default=None, max_length=300)
    dataset_version: str | None = Field(default=None, max_length=60)
    factor: Decimal | None = _dec(default=None, nullable=True)
    stage: str | None = Field(default=None, max_length=40)
    created_at: datetime = _ts(default_factory=utcnow)


class OwnEmission(SQLModel, table=True):
    """Own emissions per declared unit: a direct value, or an activity line (amount x factor, with source)."""

    id: str = Field(default_factory=new_id, primary_key=True)
    product_id: str = Field(foreign_key="product.id", ondelete="CASCADE", index=True)
    stage: str = Field(max_length=40)
    kind: str = Field(max_length=20)  # "direct" | "activity"
    value: Decimal | None = _dec(default=None, nullable=True)
    amount: Decimal | None = _dec(default=None, nullable=True)
    unit: str | None = Field(default=None, max_length=40)
    factor: Decimal | None = _dec(default=None, nullable=True)
    source: str | None = Field(default=None, max_length=300)
    primary: bool = True
    created_at: datetime = _ts(default_factory=utcnow)


class UpstreamFootprint(SQLModel, table=True):
    """A supplier's footprint this node holds: received from a peer (verified) or recorded by hand."""

    __table_args__ = (UniqueConstraint("footprint_id", name="uq_upstream_footprint_id"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    footprint_id: str = Field(max_length=36)
    supplier_company_id: str = Field(max_length=300, index=True)
    product_id: str = Field(max_length=300, index=True)
    declared_unit: str = Field(max_length=40)
    stages: dict[str, str] = _json()
    primary_data_share: Decimal | None = _dec(default=None, nullable=True)
    dqr: dict[str, str] | None = _json(default=None, nullable=True)
    status: str = Field(default="Active", max_length=20)
    source: str = Field(default="manual", max_length=20)  # how it arrived: "manual" | "peer" | "import"
    basis: str = Field(default="attested", max_length=20, sa_column_kwargs={"server_default": "attested"})
    """"attested" (carries an attestation this node verified) or "entered" (a value without one: typed, imported
    from a file, or sent unsigned by a partner); an entered value carries its provenance below."""
    source_kind: str | None = Field(default=None, max_length=40)
    """For an entered value, the kind of source (see :data:`connector.services.models.SOURCE_KINDS`)."""
    document_sha256: str | None = Field(default=None, max_length=64)
    """Lower-case hex SHA-256 of the source document; sealed into the evidence with the document."""
    document: bytes | None = Field(default=None, sa_type=LargeBinary)
    """The source document as received (a PACT or Catena-X JSON file, a PDF...): private to this node and its
    verifiers."""
    document_media_type: str | None = Field(default=None, max_length=100)
    entered_by: str | None = Field(default=None, max_length=200)
    """Who entered it: ``api-key:<name>``, ``user:<login>`` or ``partner:<company id>``."""
    attestation: str | None = Field(default=None, sa_type=Text)
    evidence: dict[str, Any] | None = _json(default=None, nullable=True)
    certifications: list[Any] = _json(default_factory=empty_list)
    pact: dict[str, Any] | None = _json(default=None, nullable=True)
    received_at: datetime = _ts(default_factory=utcnow)


ACTIVE_ONLY = text("status = 'Active'")
OPEN_OUTGOING = text("direction = 'outgoing' AND state = 'pending'")


class Footprint(SQLModel, table=True):
    """An issued footprint of one of our products. Immutable except status; a change is a new row.

    The database holds the versioning rules (concurrent computes on PostgreSQL once forked a product's versions):
    one version number per product, and at most one Active footprint per product (a partial unique index)."""

    __table_args__ = (
        Index("uq_footprint_version", "product_id", "version", unique=True),
        Index("uq_footprint_active", "product_id", unique=True, postgresql_where=ACTIVE_ONLY, sqlite_where=ACTIVE_ONLY),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    product_id: str = Field(foreign_key="product.id", ondelete="CASCADE", index=True)
    version: int = 1
    status: str = Field(default="Active", max_length=20, index=True)
    preceding_ids: list[str] = _json(default_factory=empty_list)
    stages: dict[str, str] = _json()
    own_stages: dict[str, str] = _json()
    total: Decimal = _dec()
    rounding: str = Field(max_length=60)
    primary_data_share: Decimal | None = _dec(default=None, nullable=True)
    dqr: dict[str, str] | None = _json(default=None, nullable=True)
    inputs: list[dict[str, Any]] = _json(default_factory=empty_list)  # private: which upstream footprints were used
    created_at: datetime = _ts(default_factory=utcnow)
    validity_start: datetime | None = _ts(default=None, nullable=True)
    validity_end: datetime | None = _ts(default=None, nullable=True)


class Attestation(SQLModel, table=True):
    """A signed attestation this node issued for one footprint to one customer, with its sealed evidence."""

    id: str = Field(default_factory=new_id, primary_key=True)
    footprint_id: str = Field(foreign_key="footprint.id", ondelete="CASCADE", index=True)
    audience: str = Field(max_length=300, index=True)
    sd_jwt: str = Field(sa_type=Text)
    digest: str = Field(max_length=64)
    disclosures: list[str] = _json(default_factory=empty_list)  # kept private to this node
    evidence: dict[str, Any] | None = _json(default=None, nullable=True)
    verifiers: list[str] = _json(default_factory=empty_list)
    certifications: list[Any] = _json(default_factory=empty_list)
    created_at: datetime = _ts(default_factory=utcnow)


class ApiKey(SQLModel, table=True):
    """Operator API key: only a SHA-256 hash of the secret is stored."""

    id: str = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=100)
    role: str = Field(max_length=20)  # admin | editor | viewer
    prefix: str = Field(max_length=16, unique=True, index=True)
    secret_hash: str = Field(max_length=64)
    created_at: datetime = _ts(default_factory=utcnow)
    revoked: bool = False


class PeerClient(SQLModel, table=True):
    """``client_secret_basic`` credentials an operator issued to a PACT partner (hashed)."""

    client_id: str = Field(primary_key=True, max_length=100)
    company_id: str = Field(max_length=300)
    secret_hash: str = Field(max_length=200)
    created_at: datetime = _ts(default_factory=utcnow)
    revoked: bool = False
    generation: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    """Raised by every rotation and the revocation: an access token carries the generation it was issued under and
    is refused once it is not the current one (decision 0029)."""
    rotated_at: datetime | None = _ts(default=None, nullable=True)


class UsedAssertion(SQLModel, table=True):
    """``jti`` of accepted private_key_jwt assertions, refused when replayed until they expire."""

    jti: str = Field(primary_key=True, max_length=200)
    expires_at: datetime = _ts()


class Grant(SQLModel, table=True):
    """Product x customer company: nothing is visible to a customer without one (Ouranos' ACL)."""

    __table_args__ = (UniqueConstraint("product_id", "company_id", name="uq_grant"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    product_id: str = Field(foreign_key="product.id", ondelete="CASCADE", index=True)
    company_id: str = Field(max_length=300, index=True)
    created_at: datetime = _ts(default_factory=utcnow)


class CfpRequest(SQLModel, table=True):
    """An incoming or outgoing CFP request: pending -> fulfilled | rejected | cancelled, or (outgoing) refused: the
    answer came and failed verification, or failed: the request could not be delivered; ``reason`` says why.

    At most one pending outgoing request per BOM line (a partial unique index): asking again returns it."""

    __table_args__ = (
        Index(
            "uq_cfprequest_open_line",
            "bom_line_id",
            unique=True,
            postgresql_where=OPEN_OUTGOING,
            sqlite_where=OPEN_OUTGOING,
        ),
    )

    id: str = Field(default_factory=new_id, primary_key=True)
    direction: str = Field(max_length=10, index=True)  # incoming | outgoing
    event_id: str = Field(max_length=200, index=True)  # CloudEvent id of the RequestCreated event
    company_id: str = Field(max_length=300, index=True)  # the other party
    product_ids: list[str] = _json(default_factory=empty_list)
    product_id: str | None = Field(default=None, max_length=36)  # our product (incoming, once matched)
    bom_line_id: str | None = Field(default=None, max_length=36)  # outgoing: the line it serves
    message: str | None = Field(default=None, sa_type=Text)
    due_date: datetime | None = _ts(default=None, nullable=True)
    verifier_certs: list[str] = _json(default_factory=empty_list)  # PEM
    callback_url: str | None = Field(default=None, max_length=500)
    protocol: str = Field(default="pact", max_length=40, sa_column_kwargs={"server_default": "pact"})
    """The protocol the request travels by: an incoming one is answered over the protocol it came by."""
    state: str = Field(default="pending", max_length=20, index=True)
    reason: str | None = Field(default=None, sa_type=Text)
    footprint_ids: list[str] = _json(default_factory=empty_list)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """A durable outgoing message, written in the same transaction as the state change that caused it."""

    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: str = Field(default_factory=new_id, primary_key=True)
    target_url: str = Field(max_length=500)
    company_id: str = Field(max_length=300)
    kind: str = Field(max_length=60)  # an intent (exchange.outbox.INTENTS), or a kind written before them
    protocol: str = Field(default="pact", max_length=40, sa_column_kwargs={"server_default": "pact"})
    """The adapter that turns the intent into its wire message when it is sent."""
    body: dict[str, Any] = _json()
    state: str = Field(default="pending", max_length=20)  # pending | sent | failed
    attempts: int = 0
    next_attempt_at: datetime = _ts(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_type=Text)
    holder: str | None = Field(default=None, max_length=200)  # the worker that leased it last (see outbox.reclaim)
    created_at: datetime = _ts(default_factory=utcnow)
    sent_at: datetime | None = _ts(default=None, nullable=True)


class IdempotentResponse(SQLModel, table=True):
    """The response of an operator write sent with an ``Idempotency-Key``, stored in that write's transaction: a
    retry with the same key gets it back instead of doing the write twice (see api/idempotency.py)."""

    key: str = Field(primary_key=True, max_length=64)  # sha256 of the API key and the Idempotency-Key
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status: int
    media_type: str = Field(max_length=100)
    body: str = Field(sa_type=Text)
    created_at: datetime = _ts(default_factory=utcnow, index=True)


class InboxEvent(SQLModel, table=True):
    """Ids of processed incoming events: a duplicate delivery changes nothing."""

    event_id: str = Field(primary_key=True, max_length=200)
    source: str = Field(max_length=500)
    type: str = Field(max_length=200)
    received_at: datetime = _ts(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Append-only, hash-chained audit log: each entry's hash covers the previous one."""

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(default_factory=utcnow)
    actor: str = Field(max_length=300)
    action: str = Field(max_length=100)
    subject: str = Field(default="", max_length=300)
    details: dict[str, Any] = _json(default_factory=empty_dict)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DeclarationRecord(SQLModel, table=True):
    """An OEM declaration issued by this node (signed VC and its inputs); the document is declaration.Declaration."""

    __tablename__ = "declaration"

    id: str = Field(default_factory=new_id, primary_key=True)
    battery_model: str = Field(max_length=200)
    pack_product_id: str = Field(max_length=300)
    document: dict[str, Any] = _json()
    signed: str | None = Field(default=None, sa_type=Text)
    bundle: dict[str, Any] | None = _json(default=None, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)
