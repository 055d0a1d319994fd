"""Operator API request and response bodies (``XCreate`` / ``XUpdate`` / ``XRead``).

The bodies the use cases take and return live with them in ``connector.services.models`` and are re-exported here;
this module adds the schemas only the web layer uses (pages, requests, grants, keys, audit, outbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field, field_validator

from ..decimals import DecimalStr
from ..services.models import (
    DataQualityIn,
    EmissionCreate,
    EnteredUpstreamCreate,
    FootprintRead,
    Model,
    PartnerCreate,
    PartnerUpdate,
    PeerClientCreate,
    PeerClientCreated,
    PeerClientRead,
    ProductCreate,
    ProductPlant,
    ProductRead,
    ProductUpdate,
    SecondaryLineCreate,
    SupplierLineCreate,
    UpstreamFootprintCreate,
    UpstreamFootprintRead,
    Urn,
)

__all__ = [
    # re-exported from connector.services.models
    "DataQualityIn",
    "EmissionCreate",
    "FootprintRead",
    "Model",
    "PartnerCreate",
    "PartnerUpdate",
    "PeerClientCreate",
    "PeerClientCreated",
    "PeerClientRead",
    "ProductPlant",
    "ProductCreate",
    "ProductRead",
    "ProductUpdate",
    "SecondaryLineCreate",
    "SupplierLineCreate",
    "EnteredUpstreamCreate",
    "UpstreamFootprintCreate",
    "UpstreamFootprintRead",
    "Urn",
    # the web layer's own
    "Page",
    "BomLineRead",
    "EmissionRead",
    "PartnerRead",
    "Role",
    "ApiKeyCreate",
    "ApiKeyRead",
    "ApiKeyCreated",
    "ComputeResult",
    "RequestCreate",
    "RequestRead",
    "RejectBody",
    "GrantCreate",
    "GrantRead",
    "AuditRead",
    "AuditCheck",
    "OutboxRead",
]

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class BomLineRead(Model):
    id: str
    kind: str
    supplier_company_id: str | None = Field(None, alias="supplierCompanyId")
    supplier_product_id: str | None = Field(None, alias="supplierProductId")
    quantity: DecimalStr
    unit: str
    dataset: str | None = None
    dataset_version: str | None = Field(None, alias="datasetVersion")
    factor: DecimalStr | None = None
    stage: str | None = None


class EmissionRead(Model):
    id: str
    stage: str
    kind: str
    value: DecimalStr | None = None
    amount: DecimalStr | None = None
    unit: str | None = None
    factor: DecimalStr | None = None
    source: str | None = None
    primary: bool


class PartnerRead(Model):
    id: str
    company_id: str = Field(alias="companyId")
    name: str
    node_url: str | None = Field(None, alias="nodeUrl")
    protocol: str
    bpnl: str | None = None
    is_supplier: bool = Field(alias="isSupplier")
    is_customer: bool = Field(alias="isCustomer")
    auto_fulfil: bool = Field(alias="autoFulfil")


Role = Literal["admin", "editor", "viewer"]


class ApiKeyCreate(Model):
    name: str = Field(min_length=1, max_length=100)
    role: Role


class ApiKeyRead(Model):
    id: str
    name: str
    role: str
    prefix: str
    revoked: bool
    created_at: datetime = Field(alias="createdAt")


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The secret; shown once and never stored in clear.")


class ComputeResult(Model):
    footprint: FootprintRead
    changed: bool = Field(description="False when the inputs gave the same values as the active footprint.")


class RequestCreate(Model):
    """Ask a supplier for the footprint of a BOM line's product."""

    bom_line_id: str = Field(alias="bomLineId")
    message: str | None = Field(None, max_length=2000)
    due_date: datetime | None = Field(None, alias="dueDate")
    verifier_certificates: list[str] = Field(
        default_factory=list,
        alias="verifierCertificates",
        max_length=10,
        description="PEM certificates of the verifiers to seal evidence to",
    )


class RequestRead(Model):
    id: str
    direction: str
    event_id: str = Field(alias="eventId")
    company_id: str = Field(alias="companyId")
    product_ids: list[str] = Field(alias="productIds")
    product_id: str | None = Field(None, alias="productId")
    bom_line_id: str | None = Field(None, alias="bomLineId")
    message: str | None = None
    due_date: datetime | None = Field(None, alias="dueDate")
    state: str
    reason: str | None = None
    footprint_ids: list[str] = Field(alias="footprintIds")
    verifier_count: int = Field(alias="verifierCount")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class RejectBody(Model):
    reason: str = Field(min_length=1, max_length=2000)


class LinkBody(Model):
    """Answer a held incoming request with one of our products."""

    product_id: str = Field(alias="productId", min_length=1, max_length=36)
    verifier_certificates: list[str] = Field(
        default_factory=list,
        alias="verifierCertificates",
        max_length=10,
        description="PEM certificates of the verifiers to seal the answer's evidence to, in place of those the "
        "request named (an Ouranos trade names none)",
    )


class PartLinkRead(Model):
    """A remembered link (decision 0028): trades for this platform part are linked to our product automatically."""

    id: str
    platform_url: str = Field(alias="platformUrl", description="Where the customer's trades for the part come from")
    trace_id: str = Field(alias="traceId", description="The part as the platform identifies it (its DTS traceId)")
    company_id: str = Field(alias="companyId", description="The customer whose part it is")
    parts_name: str | None = Field(None, alias="partsName")
    product_id: str = Field(alias="productId")
    verifier_count: int = Field(alias="verifierCount")
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")


class PartLinkUpdate(Model):
    """Change a remembered link: another product of ours, or the verifiers its answers are sealed to."""

    product_id: str | None = Field(None, alias="productId", min_length=1, max_length=36)
    verifier_certificates: list[str] | None = Field(
        None,
        alias="verifierCertificates",
        max_length=10,
        description="PEM certificates of the verifiers to seal the answers' evidence to ([]: none)",
    )

    @field_validator("product_id", "verifier_certificates")
    @classmethod
    def _not_null(cls, v: object) -> object:  # runs only for fields sent
        if v is None:
            raise ValueError("may be omitted, but not null")
        return v


class GrantCreate(Model):
    product_id: str = Field(alias="productId")
    company_id: Urn = Field(alias="companyId")


class GrantRead(Model):
    id: str
    product_id: str = Field(alias="productId")
    company_id: str = Field(alias="companyId")
    created_at: datetime = Field(alias="createdAt")


class AuditRead(Model):
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    details: dict
    prev_hash: str = Field(alias="prevHash")
    hash: str


class AuditCheck(Model):
    valid: bool
    entries: int
    first_bad_seq: int | None = Field(None, alias="firstBadSeq")
    reason: str | None = None


class OutboxRead(Model):
    id: str
    target_url: str = Field(alias="targetUrl")
    company_id: str = Field(alias="companyId")
    kind: str
    state: str
    attempts: int
    next_attempt_at: datetime = Field(alias="nextAttemptAt")
    last_error: str | None = Field(None, alias="lastError")
