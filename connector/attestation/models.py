"""Wire models of attestations and evidence packages (pydantic v2, camelCase on the wire).

Footprint values are :data:`~connector.decimals.DecimalStr`: ``Decimal`` in Python, decimal strings in JSON.
Stage keys stay snake_case (``raw_material_acquisition`` ...), exactly the :class:`~connector.stages.Stage` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..decimals import DecimalStr, RoundingRule
from ..errors import ValidationFailed
from ..stages import STAGES, Stage, stage_total

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
VC_TYPE = "VerifiableCredential"
ATTESTATION_TYPE = "CfpAttestation"
SD_JWT_TYP = "vc+sd-jwt"
URN_PATTERN = r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$"


class WireModel(BaseModel):
    """camelCase JSON, snake_case Python, unknown fields refused, immutable."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (decimal strings, ISO datetimes, camelCase keys)."""
        return self.model_dump(mode="json")


class StageValues(BaseModel):
    """One decimal string per EU life-cycle stage (all four required; end of life may be negative)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    raw_material_acquisition: DecimalStr
    main_production: DecimalStr
    distribution: DecimalStr
    end_of_life: DecimalStr

    @classmethod
    def from_mapping(cls, values: Mapping[Stage | str, Decimal | str]) -> StageValues:
        """From a partial or complete mapping; missing stages are zero, unknown stage names raise ValueError."""
        data: dict[str, Decimal | str] = {s.value: Decimal(0) for s in STAGES}
        for name, value in values.items():
            data[Stage(name).value] = value
        return cls.model_validate(data)

    def as_dict(self) -> dict[Stage, Decimal]:
        return {s: getattr(self, s.value) for s in STAGES}

    def total(self) -> Decimal:
        return stage_total(self.as_dict())


class ReferencePeriod(WireModel):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> ReferencePeriod:
        if self.end <= self.start:
            raise ValueError("reference period end must be after its start")
        return self


class Methodology(WireModel):
    """The calculation rules: e.g. rule set ``EU-2023/1542-Art7`` version ``2025``, or ``PACT`` ``3.0``."""

    rule_set: str = Field(min_length=1)
    version: str = Field(min_length=1)


class DataQuality(WireModel):
    """PEF data quality ratings (1 best ... 5 worst), as decimal strings since they are emission-weighted means."""

    technological: DecimalStr
    geographical: DecimalStr
    temporal: DecimalStr

    @field_validator("technological", "geographical", "temporal")
    @classmethod
    def _range(cls, v: Decimal) -> Decimal:
        if not Decimal(1) <= v <= Decimal(5):
            raise ValueError("data quality rating must be between 1 and 5")
        return v


def _absent(value: object) -> bool:
    return value is None


class CoverageClaim(WireModel):
    """The share of a footprint that rests on attested values, in percent, per stage and overall (decimal strings,
    rounded down to 2 places; :func:`connector.aggregation.compute_coverage` defines it)."""

    stages: StageValues = Field(description="percent of each stage's absolute mass resting on attested values")
    total: DecimalStr = Field(description="percent of the whole absolute mass resting on attested values")

    @model_validator(mode="after")
    def _percent(self) -> CoverageClaim:
        for value in (*self.stages.as_dict().values(), self.total):
            if not Decimal(0) <= value <= Decimal(100):
                raise ValueError("coverage must be between 0 and 100 (percent)")
        return self


class ClaimValues(WireModel):
    """The clear claims of a CFP attestation except who issued it to whom: what ``credentialSubject`` carries.

    ``stages`` and ``total`` are per declared unit, already rounded with ``rounding``.
    """

    footprint_id: str = Field(min_length=1, description="id of the PACT ProductFootprint this attests")
    product_ids: list[str] = Field(min_length=1)
    declared_unit: str = Field(min_length=1)
    stages: StageValues
    total: DecimalStr
    reference_period: ReferencePeriod
    methodology: Methodology
    primary_data_share: DecimalStr = Field(description="percent, 0 to 100")
    data_quality: DataQuality
    rounding: str = Field(description="e.g. decimal-places:12;half-even", examples=["decimal-places:12;half-even"])
    attested_coverage: CoverageClaim | None = Field(
        default=None,
        exclude_if=_absent,
        description="share of the footprint resting on attested values (issue 17); absent: made before entered "
        "inputs existed, read as 100 %",
    )
    entered_inputs: int | None = Field(
        default=None,
        ge=0,
        exclude_if=_absent,
        description="entered (not attested) inputs in the whole tree below, counted; absent: 0",
    )

    @field_validator("primary_data_share")
    @classmethod
    def _share(cls, v: Decimal) -> Decimal:
        if not Decimal(0) <= v <= Decimal(100):
            raise ValueError("primary data share must be between 0 and 100 (percent)")
        return v

    @field_validator("rounding")
    @classmethod
    def _rounding(cls, v: str) -> str:
        try:
            RoundingRule.parse(v)
        except ValidationFailed as exc:
            raise ValueError(exc.detail) from None
        return v


class AttestationClaims(ClaimValues):
    """The clear claims of a CFP attestation: everything the customer (the audience) may see.

    ``stages`` and ``total`` are per declared unit, already rounded with ``rounding``.
    """

    issuer: str = Field(pattern=URN_PATTERN, description="company id URN of the issuing company")
    audience: str = Field(pattern=URN_PATTERN, description="company id URN of the customer the attestation is for")


class InputClaim(WireModel):
    """One bill-of-materials input (hidden from the customer): bound to the upstream attestation it used
    (``basis: attested``), or a value entered without one (``basis: entered``) with its provenance.

    An input disclosed without ``basis`` (attestations made before entered inputs existed) is attested.
    """

    basis: Literal["attested", "entered"] = Field(default="attested", description="attested or entered")
    attestation_digest: str | None = Field(
        default=None,
        exclude_if=_absent,
        pattern=r"^[A-Za-z0-9_-]{43}$",
        description="base64url SHA-256 of the upstream SD-JWT (see attestation_digest); attested inputs only",
    )
    quantity: DecimalStr = Field(description="quantity of the upstream product per declared unit of this product")
    unit: str = Field(min_length=1)
    upstream: StageValues = Field(description="the upstream per-stage values per its declared unit")
    declared_unit: str = Field(min_length=1, description="the upstream declared unit")
    document_digest: str | None = Field(
        default=None,
        exclude_if=_absent,
        pattern=r"^[0-9a-f]{64}$",
        description="entered inputs: lower-case hex SHA-256 of the source document (sealed in the evidence)",
    )
    source_kind: str | None = Field(
        default=None, exclude_if=_absent, min_length=1, max_length=40, description="entered inputs: kind of source"
    )
    entered_by: str | None = Field(
        default=None, exclude_if=_absent, min_length=1, max_length=200, description="entered inputs: who entered it"
    )
    entered_at: AwareDatetime | None = Field(
        default=None, exclude_if=_absent, description="entered inputs: when it was recorded"
    )
    supplier: str | None = Field(
        default=None, exclude_if=_absent, min_length=1, max_length=300, description="entered inputs: claimed supplier"
    )

    @model_validator(mode="after")
    def _basis(self) -> InputClaim:
        provenance = (self.document_digest, self.source_kind, self.entered_by, self.entered_at, self.supplier)
        if self.basis == "attested":
            if self.attestation_digest is None:
                raise ValueError("an attested input needs attestationDigest")
            if any(v is not None for v in provenance):
                raise ValueError("an attested input carries no provenance of an entered value")
        else:
            if self.attestation_digest is not None:
                raise ValueError("an entered input has no attestationDigest")
            if None in (self.source_kind, self.entered_by, self.entered_at, self.supplier):
                raise ValueError("an entered input needs sourceKind, enteredBy, enteredAt and supplier")
        return self

    @property
    def entered(self) -> bool:
        return self.basis == "entered"


class HiddenClaims(WireModel):
    """The selectively disclosable claims: own emissions and the inputs. Only verifiers ever see them."""

    own_emissions: StageValues
    inputs: list[InputClaim] = Field(default_factory=list)


class CredentialSubject(ClaimValues):
    """``credentialSubject`` of the SD-JWT payload: the clear claims except issuer/audience, plus ``_sd``."""

    sd: list[str] = Field(alias="_sd", min_length=1, description="salted digests of hidden claims and decoys")


class AttestationPayload(WireModel):
    """The issuer-signed JWT payload of a CFP attestation: a W3C VC 2.0 plus JWT and SD-JWT claims."""

    context: list[str] = Field(alias="@context", min_length=1, description="starts with the VC 2.0 context")
    type: list[str] = Field(min_length=2, description="VerifiableCredential, CfpAttestation")
    id: str = Field(pattern=r"^urn:uuid:", description="equals jti")
    issuer: str = Field(pattern=URN_PATTERN, description="issuing company id; equals iss and the certificate's")
    valid_from: AwareDatetime = Field(description="equals iat")
    valid_until: AwareDatetime = Field(description="equals exp")
    credential_subject: CredentialSubject
    iss: str = Field(pattern=URN_PATTERN)
    aud: str = Field(pattern=URN_PATTERN, description="the customer company id")
    iat: int
    exp: int
    jti: str = Field(pattern=r"^urn:uuid:")
    sd_alg: Literal["sha-256"] = Field(alias="_sd_alg")


class JweRecipient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    header: dict[str, Any]
    encrypted_key: str


def _omitted_not_null(schema: dict[str, Any]) -> None:
    """The serialization schema of an optional JWE member: its type only (it is omitted, never null)."""
    if "anyOf" not in schema:
        schema.pop("default", None)


def _optional_member(description: str) -> Any:
    """An optional JWE JSON member: RFC 7516 section 7.2.1 omits a member that is absent, so None is never written
    (whatever dumps the model, nested or not); a null is still read: packages sealed before issue 14 carry one."""
    return Field(default=None, exclude_if=_absent, json_schema_extra=_omitted_not_null, description=description)


class SealedEvidence(BaseModel):
    """An evidence package: JWE JSON general serialization (RFC 7516 section 7.2.1), ECDH-ES+A256KW / A256GCM.

    ``unprotected`` and ``aad`` are never written (the connector uses neither); when a package has them, they are
    JSON members as the RFC says, never ``null``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    protected: str
    unprotected: Annotated[dict[str, Any] | None, WithJsonSchema({"type": "object"}, mode="serialization")] = (
        _optional_member("JWE Shared Unprotected Header; omitted when absent")
    )
    recipients: list[JweRecipient] = Field(min_length=1)
    iv: str
    ciphertext: str
    tag: str
    aad: Annotated[str | None, WithJsonSchema({"type": "string"}, mode="serialization")] = _optional_member(
        "base64url JWE AAD; omitted when absent"
    )

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


def check_total(claims: AttestationClaims) -> None:
    """Raise ValidationFailed when ``total`` is not exactly the sum of the four stages."""
    if claims.stages.total() != claims.total:
        raise ValidationFailed(f"total {claims.total} is not the sum of the stages {claims.stages.total()}")


__all__ = [
    "ATTESTATION_TYPE",
    "SD_JWT_TYP",
    "VC_CONTEXT_V2",
    "VC_TYPE",
    "AttestationClaims",
    "AttestationPayload",
    "ClaimValues",
    "CoverageClaim",
    "CredentialSubject",
    "DataQuality",
    "HiddenClaims",
    "InputClaim",
    "JweRecipient",
    "Methodology",
    "ReferencePeriod",
    "SealedEvidence",
    "StageValues",
    "check_total",
]
