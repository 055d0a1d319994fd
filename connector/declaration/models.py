"""Wire models of the OEM's Art. 7 carbon footprint declaration: what goes in, what comes out.

Field names on the wire are camelCase (``model_dump(by_alias=True)``); every footprint figure is a
``DecimalStr``. A :class:`Declaration` dumped with ``mode="json", by_alias=True`` is the credentialSubject
of the declaration's verifiable credential.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..decimals import DecimalStr
from ..errors import InvalidValue
from ..stages import Stage

BPNA_PATTERN = r"^BPNA[a-zA-Z0-9]{12}$"
PERFORMANCE_CLASS_NOT_DEFINED = "not yet defined"


def _alias(name: str) -> str:
    return to_camel(name).replace("Co2E", "Co2e")  # kg_co2e -> kgCo2e, not kgCo2E


class CamelModel(BaseModel):
    model_config = ConfigDict(alias_generator=_alias, populate_by_name=True, extra="forbid", frozen=True)


class BatteryCategory(StrEnum):
    """Battery categories Art. 7 applies to (EV, rechargeable industrial > 2 kWh, LMT)."""

    ELECTRIC_VEHICLE = "electric_vehicle"
    LMT = "lmt"
    INDUSTRIAL = "industrial"
    INDUSTRIAL_EXTERNAL_STORAGE = "industrial_external_storage"


class VehicleCategory(StrEnum):
    """UNECE / EU type-approval vehicle categories the draft delegated act gives cycle defaults for."""

    M1 = "M1"
    N1 = "N1"
    L = "L"
    M2 = "M2"
    M3 = "M3"
    N2 = "N2"
    N3 = "N3"


# Full equivalent cycles per year, draft delegated act Ares(2024)3131389 (see docs/declaration.md).
DEFAULT_CYCLES_PER_YEAR: dict[VehicleCategory, Decimal] = {
    VehicleCategory.M1: Decimal(60),
    VehicleCategory.N1: Decimal(60),
    VehicleCategory.L: Decimal(20),
    VehicleCategory.M2: Decimal(250),
    VehicleCategory.M3: Decimal(250),
    VehicleCategory.N2: Decimal(250),
    VehicleCategory.N3: Decimal(250),
}


class VerificationStatus(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    NOT_VERIFIED = "not-verified"


class PerformanceClassStatus(StrEnum):
    NOT_YET_DEFINED = "not-yet-defined"
    ASSIGNED = "assigned"


# --- inputs -------------------------------------------------------------------------------------------------


class Manufacturer(CamelModel):
    """Art. 7(1)(a): administrative information about the manufacturer."""

    name: str = Field(min_length=1)
    address: str = Field(min_length=1)
    company_id: str = Field(min_length=1)


class Plant(CamelModel):
    """Art. 7(1)(c): geographic location of the battery manufacturing plant."""

    name: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    subdivision: str | None = Field(default=None, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$", description="ISO 3166-2")
    town: str | None = None
    bpna: str | None = Field(default=None, pattern=BPNA_PATTERN, description="Catena-X site address number")

    @model_validator(mode="after")
    def _subdivision_in_country(self) -> Plant:
        if self.subdivision and not self.subdivision.startswith(self.country + "-"):
            raise InvalidValue(
                "subdivision %(subdivision)r is not in country %(country)r",
                code="plant.subdivision-country",
                params={"subdivision": self.subdivision, "country": self.country},
            )
        return self


class PerformanceClassBoundary(CamelModel):
    """A class and its inclusive upper bound in declared kg CO2e/kWh; ``None`` means open-ended (worst class)."""

    performance_class: str = Field(alias="class", min_length=1)
    up_to_kg_co2e_per_kwh: DecimalStr | None = None


class PerformanceClassScheme(CamelModel):
    """Class boundaries, best class first. None are published yet (Annex II point 8), so this is configuration."""

    source: str = Field(min_length=1, description="where the boundaries come from (act, draft, internal)")
    boundaries: tuple[PerformanceClassBoundary, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> PerformanceClassScheme:
        names = [b.performance_class for b in self.boundaries]
        if len(set(names)) != len(names):
            raise ValueError("performance classes must be unique")
        bounds = [b.up_to_kg_co2e_per_kwh for b in self.boundaries]
        if any(b is None for b in bounds[:-1]):
            raise ValueError("only the last (worst) class may be open-ended")
        closed = [b for b in bounds if b is not None]
        if closed != sorted(closed) or len(set(closed)) != len(closed):
            raise ValueError("class boundaries must be strictly increasing, best class first")
        return self


class DeclarationInput(CamelModel):
    """What the OEM states about one battery model per manufacturing plant (Art. 7(1))."""

    issuer_company_id: str | None = Field(default=None, description="the company issuing the declaration")
    manufacturer: Manufacturer
    battery_model: str = Field(min_length=1)
    battery_category: BatteryCategory
    vehicle_category: VehicleCategory | None = None
    plant: Plant
    pack_product_id: str = Field(min_length=1, description="the product whose footprint is declared")
    usable_energy_kwh: DecimalStr = Field(description="usable energy at beginning of life, kWh")
    cycles_per_year: DecimalStr | None = Field(default=None, description="full equivalent cycles per year")
    cycles_override_reason: str | None = None
    service_life_years: DecimalStr
    declaration_of_conformity_id: str = Field(min_length=1)
    study_url: HttpUrl
    methodology: str = "Draft Commission Delegated Regulation Ares(2024)3131389 (JRC CFB-EV 2023)"
    methodology_url: HttpUrl | None = None
    declaration_url: HttpUrl | None = Field(default=None, description="public link to this declaration")
    performance_classes: PerformanceClassScheme | None = None

    @field_validator("usable_energy_kwh", "service_life_years")
    @classmethod
    def _positive(cls, v: Decimal) -> Decimal:
        if v <= 0:
            raise InvalidValue("must be greater than 0", code="value.not-positive")
        return v

    @field_validator("cycles_override_reason")
    @classmethod
    def _reason_not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise InvalidValue("must not be blank", code="value.blank")
        return v

    @model_validator(mode="after")
    def _cycles(self) -> DeclarationInput:
        default = self.default_cycles_per_year
        if self.cycles_per_year is None:
            if default is None:
                raise InvalidValue(
                    "cyclesPerYear is required when no vehicleCategory gives a default "
                    "(60 for M1/N1, 20 for L, 250 for M2/M3/N2/N3)",
                    code="declaration.cycles-required",
                )
            return self
        if self.cycles_per_year <= 0:
            raise InvalidValue("cyclesPerYear must be greater than 0", code="declaration.cycles-not-positive")
        if self.cycles_per_year != default and not self.cycles_override_reason:
            if default is None:
                raise InvalidValue(
                    "cyclesPerYear %(cycles)s is not a draft delegated act default (there is no default): "
                    "give cyclesOverrideReason (the justification also belongs in the public study)",
                    code="declaration.cycles-override-no-default",
                    params={"cycles": self.cycles_per_year},
                )
            raise InvalidValue(
                "cyclesPerYear %(cycles)s is not a draft delegated act default "
                "(the default for %(category)s is %(default)s): "
                "give cyclesOverrideReason (the justification also belongs in the public study)",
                code="declaration.cycles-override",
                params={"cycles": self.cycles_per_year, "category": self.vehicle_category, "default": default},
            )
        return self

    @property
    def default_cycles_per_year(self) -> Decimal | None:
        return DEFAULT_CYCLES_PER_YEAR.get(self.vehicle_category) if self.vehicle_category else None

    @property
    def effective_cycles_per_year(self) -> Decimal:
        value = self.cycles_per_year if self.cycles_per_year is not None else self.default_cycles_per_year
        assert value is not None  # guaranteed by _cycles
        return value


class SupplierContributionInput(CamelModel):
    """One tier-1 supply line of the declared product, as the OEM knows it."""

    company_name: str = Field(min_length=1)
    company_id: str | None = None
    product_id: str = Field(min_length=1)
    product_name: str | None = None
    quantity: DecimalStr = Field(description="in the supplier's declared unit, per declared battery")
    declared_unit: str = Field(min_length=1)
    kg_co2e_per_declared_unit: DecimalStr


class CertificationInput(CamelModel):
    """A third-party verification of one company's footprint in the chain; tier 0 is the declaration itself."""

    tier: int = Field(ge=0)
    company_name: str = Field(min_length=1)
    company_id: str | None = None
    product_id: str | None = None
    verifier: str = Field(min_length=1)
    verifier_id: str | None = None
    date: dt.date
    status: VerificationStatus
    reference: str | None = Field(default=None, description="certificate number or link")


# --- output -------------------------------------------------------------------------------------------------


class BatteryModelInfo(CamelModel):
    """Art. 7(1)(b): information about the battery model."""

    model_id: str
    category: BatteryCategory
    vehicle_category: VehicleCategory | None
    pack_product_id: str


class FunctionalUnit(CamelModel):
    """One kWh of the total energy provided by the battery over its service life (Annex II)."""

    definition: str = "1 kWh of the total energy provided by the battery over its expected service life"
    usable_energy_kwh: DecimalStr
    cycles_per_year: DecimalStr
    cycles_per_year_basis: Literal["default", "override"]
    cycles_override_reason: str | None
    service_life_years: DecimalStr
    total_energy_kwh: DecimalStr


class CarbonFootprint(CamelModel):
    """Art. 7(1)(d): kg CO2e per kWh of total lifetime energy, declared (rounded) and exact."""

    value: DecimalStr
    exact_value: DecimalStr
    unit: Literal["kg CO2e/kWh"] = "kg CO2e/kWh"


class StageFootprint(CamelModel):
    """Art. 7(1)(e): the footprint of one Annex II point 4 life cycle stage."""

    stage: Stage
    title: str
    value: DecimalStr = Field(description="declared, kg CO2e/kWh")
    exact_value: DecimalStr
    absolute_kg_co2e: DecimalStr


class AbsoluteFootprint(CamelModel):
    value: DecimalStr
    unit: Literal["kg CO2e"] = "kg CO2e"


class PerformanceClassResult(CamelModel):
    performance_class: str | None = Field(alias="class")
    status: PerformanceClassStatus
    note: str
    scheme_source: str | None = None


class SupplierContribution(CamelModel):
    company_name: str
    company_id: str | None
    product_id: str
    product_name: str | None
    quantity: DecimalStr
    declared_unit: str
    kg_co2e: DecimalStr = Field(description="quantity x footprint per declared unit, per battery")
    kg_co2e_per_kwh: DecimalStr = Field(description="rounded as the declared figures")
    share_percent: DecimalStr = Field(description="of the absolute footprint, 2 decimals")


class Certification(CamelModel):
    tier: int
    company_name: str
    company_id: str | None
    product_id: str | None
    verifier: str
    verifier_id: str | None
    date: dt.date
    status: VerificationStatus
    reference: str | None


class StageCoverage(CamelModel):
    stage: Stage
    percent: DecimalStr = Field(description="percent of the stage resting on attested values, rounded down")


class EnteredSupplier(CamelModel):
    """A tier-1 supplier whose value the declaring company entered itself (no attestation)."""

    company_id: str
    company_name: str | None = None
    product_id: str
    source_kind: str | None = None


class AttestedCoverage(CamelModel):
    """How much of the declared footprint rests on attested values (issue 17), for the notified body: per stage and
    overall (the pack attestation's clear claim), the tier-1 suppliers whose values were entered, by name, and the
    entered values deeper in the chain as a count only (the declaring company does not know whose they are)."""

    stages: tuple[StageCoverage, ...]
    total: DecimalStr = Field(description="percent of the whole footprint resting on attested values, rounded down")
    fully_attested: bool
    entered_tier1: tuple[EnteredSupplier, ...] = ()
    entered_deeper_tiers: int = Field(ge=0, description="entered values below tier 1, as a count")


class Declaration(CamelModel):
    """The Art. 7(1) carbon footprint declaration of one battery model per manufacturing plant."""

    type: Literal["BatteryCarbonFootprintDeclaration"] = "BatteryCarbonFootprintDeclaration"
    id: str
    issued_at: AwareDatetime
    issuer_company_id: str | None
    legal_basis: str = "Regulation (EU) 2023/1542, Article 7(1)"
    methodology: str
    methodology_url: HttpUrl | None
    manufacturer: Manufacturer
    battery_model: BatteryModelInfo
    manufacturing_plant: Plant
    carbon_footprint: CarbonFootprint
    stages: tuple[StageFootprint, ...]
    declaration_of_conformity_id: str
    study_url: HttpUrl
    declaration_url: HttpUrl | None
    absolute_carbon_footprint: AbsoluteFootprint
    functional_unit: FunctionalUnit
    rounding: str = Field(description="rule applied to every declared kg CO2e/kWh figure")
    performance_class: PerformanceClassResult
    supplier_contributions: tuple[SupplierContribution, ...]
    certifications: tuple[Certification, ...]
    verification_status: VerificationStatus
    attested_coverage: AttestedCoverage | None = Field(
        default=None, description="share resting on attested values; absent in declarations made before issue 17"
    )

    def stage(self, stage: Stage) -> StageFootprint:
        return next(s for s in self.stages if s.stage is stage)


# Art. 7(1) items (a)-(g): letter, title as in the Regulation, the Declaration field (wire name) that carries it.
ART7_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("a", "Administrative information about the manufacturer", "manufacturer"),
    ("b", "Information about the battery model", "batteryModel"),
    ("c", "Geographic location of the battery manufacturing plant", "manufacturingPlant"),
    ("d", "Carbon footprint of the battery (kg CO2e per kWh of total lifetime energy)", "carbonFootprint"),
    ("e", "Carbon footprint differentiated by life cycle stage (Annex II point 4)", "stages"),
    ("f", "Identification number of the EU declaration of conformity", "declarationOfConformityId"),
    ("g", "Web link to a public version of the supporting study", "studyUrl"),
)

STAGE_TITLES: dict[Stage, str] = {
    Stage.RAW_MATERIAL_ACQUISITION: "Raw material acquisition and pre-processing",
    Stage.MAIN_PRODUCTION: "Main product production",
    Stage.DISTRIBUTION: "Distribution",
    Stage.END_OF_LIFE: "End of life and recycling",
}
