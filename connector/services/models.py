"""What the use cases take and return: products, bill of materials lines, own emissions, partners, footprints, PACT
client credentials.

The services work on these models; ``connector.api.schemas`` re-exports them as the operator API's bodies (same
names, so the OpenAPI document is unchanged) next to the schemas only the web layer uses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..decimals import DecimalStr, format_decimal
from ..errors import InvalidValue, UnitError
from ..protocols import KNOWN as KNOWN_PROTOCOLS
from ..stages import Stage
from ..units import PACT_DECLARED_UNITS, normalize_unit

Urn = Annotated[str, Field(pattern=r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$", max_length=300)]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
SubdivisionCode = Annotated[str, Field(pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$")]


MAX_DIGITS = 30


def _bounded(v: Decimal) -> Decimal:
    # Stored as varchar(80) (PostgreSQL refused longer ones with a 500, SQLite kept them), and a product of two
    # 30-digit operands stays exact under the 60-digit calculation context.
    if len(format_decimal(v).lstrip("-").replace(".", "")) > MAX_DIGITS:
        raise InvalidValue("at most %(digits)s digits", code="decimal.too-many-digits", params={"digits": MAX_DIGITS})
    return v


def _positive(v: Decimal) -> Decimal:
    if v <= 0:
        raise InvalidValue("must be greater than zero", code="value.not-positive")
    return v


def _rating(v: Decimal) -> Decimal:
    if not Decimal(1) <= v <= Decimal(5):
        raise InvalidValue("must be between 1 and 5", code="value.not-a-rating")
    return v


def _percent(v: Decimal) -> Decimal:
    if not Decimal(0) <= v <= Decimal(100):
        raise InvalidValue("must be between 0 and 100", code="value.not-a-percent")
    return v


def _unit(v: str) -> str:
    # a ValueError, so pydantic names the field (a UnitError escaped validation and named only "unit")
    try:
        return normalize_unit(v)
    except UnitError as exc:
        raise InvalidValue(exc.detail.replace("%", "%%"), code=exc.code, params=exc.params) from None


InDecimal = Annotated[DecimalStr, AfterValidator(_bounded)]
"""A decimal string in an operator request: at most MAX_DIGITS digits."""
PositiveDecimal = Annotated[InDecimal, AfterValidator(_positive)]
Rating = Annotated[InDecimal, AfterValidator(_rating)]
Percent = Annotated[InDecimal, AfterValidator(_percent)]
Unit = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(_unit)]


def _pact_unit(v: str) -> str:
    # a product's footprints go out as PACT v3, whose declaredUnitOfMeasurement is a closed list (no gram, ton, Wh)
    if v not in PACT_DECLARED_UNITS:
        raise InvalidValue(
            "a product's declared unit must be one of PACT's: %(units)s",
            code="unit.not-pact",
            params={"units": ", ".join(PACT_DECLARED_UNITS)},
        )
    return v


DeclaredUnit = Annotated[Unit, AfterValidator(_pact_unit)]
"""A product's declared unit: a unit we know (aliases normalised) that PACT v3 can carry."""


def _not_null(cls: type, v: object) -> object:
    # runs only for fields sent: an explicit null on a NOT NULL column was a 500
    if v is None:
        raise InvalidValue("may be omitted, but not null", code="value.null")
    return v


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DataQualityIn(Model):
    technological: Rating
    geographical: Rating
    temporal: Rating


class ProductPlant(Model):
    name: str = Field(min_length=1, max_length=300)
    country: CountryCode
    subdivision: SubdivisionCode | None = None


class ProductCreate(Model):
    product_ids: list[Urn] = Field(alias="productIds", min_length=1, max_length=50)
    name: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=5000)
    declared_unit: DeclaredUnit = Field(alias="declaredUnit")
    mass_per_declared_unit: PositiveDecimal | None = Field(None, alias="massPerDeclaredUnit")
    plant: ProductPlant | None = None
    classifications: list[Urn] = Field(default_factory=list, max_length=50)
    reference_period_start: datetime | None = Field(None, alias="referencePeriodStart")
    reference_period_end: datetime | None = Field(None, alias="referencePeriodEnd")
    primary_data_share: Percent | None = Field(None, alias="primaryDataShare")
    dqr: DataQualityIn | None = None
    manual_confirmation: bool = Field(False, alias="manualConfirmation")

    @field_validator("product_ids")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len({x.lower() for x in v}) != len(v):
            raise ValueError("productIds must be unique")
        return v


class ProductUpdate(Model):
    name: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=5000)
    mass_per_declared_unit: PositiveDecimal | None = Field(None, alias="massPerDeclaredUnit")
    plant: ProductPlant | None = None
    classifications: list[Urn] | None = None
    primary_data_share: Percent | None = Field(None, alias="primaryDataShare")
    dqr: DataQualityIn | None = None
    manual_confirmation: bool | None = Field(None, alias="manualConfirmation")

    _not_null = field_validator("name", "description", "classifications", "manual_confirmation")(_not_null)


class ProductRead(Model):
    id: str
    product_ids: list[str] = Field(alias="productIds")
    name: str
    description: str
    declared_unit: str = Field(alias="declaredUnit")
    mass_per_declared_unit: DecimalStr | None = Field(None, alias="massPerDeclaredUnit")
    plant: ProductPlant | None = None
    classifications: list[str]
    primary_data_share: DecimalStr | None = Field(None, alias="primaryDataShare")
    dqr: DataQualityIn | None = None
    manual_confirmation: bool = Field(alias="manualConfirmation")
    created_at: datetime = Field(alias="createdAt")


class SupplierLineCreate(Model):
    kind: Literal["supplier"] = "supplier"
    supplier_company_id: Urn = Field(alias="supplierCompanyId")
    supplier_product_id: Urn = Field(alias="supplierProductId")
    quantity: PositiveDecimal
    unit: Unit


class SecondaryLineCreate(Model):
    kind: Literal["secondary"] = "secondary"
    dataset: str = Field(min_length=1, max_length=300)
    dataset_version: str | None = Field(None, alias="datasetVersion", max_length=60)
    quantity: PositiveDecimal
    unit: Unit
    factor: InDecimal
    stage: Stage


class EmissionCreate(Model):
    """A direct value (``value``), or an activity line (``amount`` x ``factor`` with ``source``)."""

    stage: Stage
    value: InDecimal | None = None
    amount: PositiveDecimal | None = None
    unit: Unit | None = None
    factor: InDecimal | None = None
    source: str | None = Field(None, max_length=300)
    primary: bool = True

    @model_validator(mode="after")
    def _one_kind(self) -> EmissionCreate:
        direct = self.value is not None
        activity = self.amount is not None or self.factor is not None
        if direct == activity:
            raise InvalidValue("give either value, or amount and factor", code="emission.value-or-activity")
        if activity and (self.amount is None or self.factor is None or not self.source):
            raise InvalidValue("an activity line needs amount, factor and source", code="emission.activity-incomplete")
        return self


def _known_protocol(value: str) -> str:
    if value not in KNOWN_PROTOCOLS:
        raise ValueError(f"unknown protocol; this node speaks: {', '.join(KNOWN_PROTOCOLS)}")
    return value


ProtocolName = Annotated[
    str,
    Field(max_length=40, description="the wire protocol that reaches the partner's node URL"),
    AfterValidator(_known_protocol),
]


Bpnl = Annotated[
    str, Field(pattern=r"^BPNL[0-9A-Z]{12}$", description="its Catena-X Business Partner Number (legal entity)")
]


class PartnerCreate(Model):
    company_id: Urn = Field(alias="companyId")
    name: str = Field(min_length=1, max_length=300)
    node_url: str | None = Field(None, alias="nodeUrl", pattern=r"^https?://", max_length=500)
    protocol: ProtocolName = "pact"
    bpnl: Bpnl | None = None
    is_supplier: bool = Field(False, alias="isSupplier")
    is_customer: bool = Field(False, alias="isCustomer")
    auto_fulfil: bool = Field(False, alias="autoFulfil")


class PartnerUpdate(Model):
    name: str | None = Field(None, min_length=1, max_length=300)
    node_url: str | None = Field(None, alias="nodeUrl", pattern=r"^https?://", max_length=500)
    protocol: ProtocolName | None = None
    bpnl: Bpnl | None = None
    is_supplier: bool | None = Field(None, alias="isSupplier")
    is_customer: bool | None = Field(None, alias="isCustomer")
    auto_fulfil: bool | None = Field(None, alias="autoFulfil")

    _not_null = field_validator("name", "protocol", "is_supplier", "is_customer", "auto_fulfil")(_not_null)


StageValues = dict[Stage, InDecimal]


MAX_DOCUMENT_BASE64 = 14 * 1024 * 1024
"""Longest base64 source document the operator API takes with a value entered by hand (about 10 MiB)."""

SOURCE_KINDS = (
    "pact-file",  # a PACT v3 ProductFootprint JSON file, from any conformant producer
    "catenax-pcf-file",  # a Catena-X PCF (io.catenax.pcf) JSON file
    "battery-pass-file",  # a Battery Pass export
    "pact-partner",  # a PACT partner that sent the footprint without our attestation
    "ouranos-partner",  # a partner on an Ouranos platform, without our attestation
    "catenax-partner",  # a Catena-X partner, without our attestation
    "document",  # a value typed from a document (a supplier's PDF, a spreadsheet...)
)
"""The kinds of source an entered upstream value can come from (``UpstreamFootprint.source_kind``)."""


class UpstreamFootprintCreate(Model):
    """A supplier's footprint recorded by hand (until the supplier runs a node)."""

    footprint_id: str | None = Field(None, alias="footprintId", pattern=r"^[0-9a-fA-F-]{36}$")
    supplier_company_id: Urn = Field(alias="supplierCompanyId")
    product_id: Urn = Field(alias="productId")
    declared_unit: Unit = Field(alias="declaredUnit")
    stages: StageValues
    primary_data_share: Percent | None = Field(None, alias="primaryDataShare")
    dqr: DataQualityIn | None = None


class EnteredUpstreamCreate(UpstreamFootprintCreate):
    """A supplier's footprint entered by hand with where it came from (issue 17): the kind of source and the source
    document (base64, with its media type) or only its SHA-256. Who entered it is the API key's name."""

    source_kind: str = Field("document", alias="sourceKind", description="one of " + ", ".join(SOURCE_KINDS))
    document_sha256: str | None = Field(None, alias="documentSha256", pattern=r"^[0-9a-fA-F]{64}$")
    media_type: str | None = Field(
        None,
        alias="mediaType",
        pattern=r"^[\w.+-]+/[\w.+-]+$",
        max_length=100,
        description="the document's media type, e.g. application/pdf (required with document)",
    )
    document: str | None = Field(
        None, max_length=MAX_DOCUMENT_BASE64, description="the source document, base64 (RFC 4648, padded)"
    )

    @field_validator("source_kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        if v not in SOURCE_KINDS:
            raise InvalidValue(
                "sourceKind must be one of %(kinds)s",
                code="upstream.source-kind",
                params={"kinds": ", ".join(SOURCE_KINDS)},
            )
        return v

    @field_validator("document")
    @classmethod
    def _document(cls, v: str | None, info: ValidationInfo) -> str | None:
        if v is None:
            return v
        digest = hashlib.sha256(_base64(v)).hexdigest()
        given = info.data.get("document_sha256")
        if given is not None and given.lower() != digest:
            raise ValueError(f"documentSha256 {given} is not the SHA-256 of document ({digest})")
        if info.data.get("media_type") is None and "media_type" in info.data:
            raise ValueError("a document needs its mediaType (e.g. application/pdf)")
        return v

    @model_validator(mode="after")
    def _media_type_alone(self) -> EnteredUpstreamCreate:
        if self.media_type is not None and self.document is None:
            raise ValueError("mediaType describes a document: give document too")
        return self

    def document_bytes(self) -> bytes:
        return b"" if self.document is None else _base64(self.document)


def _base64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("document is not base64 (RFC 4648, padded)") from None


class UpstreamFootprintRead(Model):
    id: str
    footprint_id: str = Field(alias="footprintId")
    supplier_company_id: str = Field(alias="supplierCompanyId")
    product_id: str = Field(alias="productId")
    declared_unit: str = Field(alias="declaredUnit")
    stages: dict[str, str]
    total: DecimalStr
    primary_data_share: DecimalStr | None = Field(None, alias="primaryDataShare")
    dqr: dict[str, str] | None = None
    status: str
    source: str
    verified: bool
    certifications: list[dict] = Field(default_factory=list)
    received_at: datetime = Field(alias="receivedAt")
    basis: str = Field("attested", description="attested, or entered (no attestation; see sourceKind)")
    source_kind: str | None = Field(None, alias="sourceKind")
    document_sha256: str | None = Field(None, alias="documentSha256")
    entered_by: str | None = Field(None, alias="enteredBy")


class FootprintRead(Model):
    id: str
    product_id: str = Field(alias="productId")
    product_ids: list[str] = Field(alias="productIds")
    version: int
    status: str
    preceding_pf_ids: list[str] = Field(alias="precedingPfIds")
    declared_unit: str = Field(alias="declaredUnit")
    stages: dict[str, str]
    total: DecimalStr
    rounding: str
    primary_data_share: DecimalStr | None = Field(None, alias="primaryDataShare")
    dqr: dict[str, str] | None = None
    created_at: datetime = Field(alias="createdAt")


class PeerClientCreate(Model):
    company_id: Urn = Field(alias="companyId")


class PeerClientCreated(Model):
    client_id: str = Field(alias="clientId")
    client_secret: str = Field(alias="clientSecret", description="Shown once; stored hashed.")
    company_id: str = Field(alias="companyId")
    token_endpoint: str = Field(alias="tokenEndpoint")


class PeerClientRead(Model):
    client_id: str = Field(alias="clientId")
    company_id: str = Field(alias="companyId")
    created_at: datetime = Field(alias="createdAt")
    rotated_at: datetime | None = Field(None, alias="rotatedAt", description="When the secret was last replaced.")
    revoked: bool
