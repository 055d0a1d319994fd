"""The whole Catena-X ``io.catenax.battery.battery_pass`` 6.1.0 aspect, for checking a merged passport (decision 0010).

The automaker owns the passport; the declaration owns its carbon footprint and DoC id. ``merge_passport`` puts the
declaration's members into the automaker's passport and ``passport_problems`` says, as JSON pointers, what the
official model would refuse in the result, so the connector never writes a passport that does not validate.

These models are written from what the published JSON Schema requires (members, required ones, enumerations,
patterns, minimums); they check and are never dumped: the passport is written as the automaker gave it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .models import BPNA_PATTERN

BPNL_PATTERN = r"^BPNL[a-zA-Z0-9]{12}$"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
UUID_PATTERN = (
    r"(^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)"
    r"|(^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$)"
)
TIMESTAMP_PATTERN = (  # xsd:dateTime, unanchored as in the model
    r"-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]+)?|(24:00:00(\.0+)?))"
    r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
)

Percentage = Annotated[float, Field(ge=0, le=100)]
ConcentrationUnit = Literal[
    "unit:partPerMillion", "unit:percent", "unit:percentVolume", "unit:partPerThousand", "unit:partPerTrillionUs",
    "unit:partPerBillionUs",
]  # fmt: skip
ImpactCategory = Literal[
    "Climate Change Total", "Climate Change Fossil", "Climate Change Biogenic Removals and Emissions",
    "Climate Change Land Use and Land Use Change", "Ozone Depletion", "Acidification",
    "Eutrophication Aquatic Freshwater", "Eutrophication Fresh Marine", "Eutrophication Terrestrial",
    "Photochemical Ozone Formation", "Abiotic Depletion- Minerals and Metals", "Fossil Fuels", "Water Use",
    "Particulate Matter Emissions", "Ionizing Radiation, Human Health", "Eco-Toxicity",
    "Human Toxicity, Cancer Effects", "Human Toxicity, Non-Cancer Effects", "Land Use Related Impacts/Soil Quality",
]  # fmt: skip


class _M(BaseModel):
    # strict: a JSON string is not a number, a number is not a string; members the model lacks are refused
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Doc(_M):
    content: str
    contentType: str
    header: str = Field(max_length=100)


# --- identification, operation, characteristics -------------------------------------------------------------


class SerialKey(_M):
    key: str = Field(pattern=r"^(manufacturerId|partInstanceId|batchId|van|customKey:\w+)$")
    value: str


class BatchKey(_M):
    key: str = Field(pattern=r"^(manufacturerId|batchId|customKey:\w+)$")
    value: str


class PartType(_M):
    manufacturerPartId: str
    nameAtManufacturer: str


class Code(_M):
    key: str
    value: str


class DataCarrier(_M):
    carrierType: str
    carrierLayout: str


class Classification(_M):
    classificationStandard: str
    classificationID: str
    classificationDescription: str | None = None


class PartIdentification(_M):
    serial: list[SerialKey] | None = None
    batch: list[BatchKey] | None = None
    type: PartType
    codes: list[Code]
    dataCarrier: DataCarrier
    classification: list[Classification]


class Identification(_M):
    category: Literal["SLI", "LMT", "EV", "industrial", "portable", "incorporated"]
    idDmc: str
    chemistry: str
    identification: PartIdentification


class Facility(_M):
    facility: str = Field(pattern=BPNA_PATTERN)


class Manufacturer(_M):
    facility: list[Facility]
    manufacturer: str = Field(pattern=BPNL_PATTERN)
    manufacturingDate: str | None = Field(None, pattern=DATE_PATTERN)


class Operation(_M):
    intoServiceDate: str | None = Field(None, pattern=DATE_PATTERN)
    manufacturer: Manufacturer


class Warranty(_M):
    lifeValue: float
    lifeUnit: Literal["unit:day", "unit:month", "unit:year", "unit:cycle", "unit:runningOrOperatingHour"]


class Linear(_M):
    value: float
    unit: Literal["unit:millimetre", "unit:centimetre", "unit:metre", "unit:kilometre", "unit:inch", "unit:foot",
                  "unit:yard"]  # fmt: skip


class Mass(_M):
    value: float
    unit: Literal["unit:gram", "unit:kilogram", "unit:tonneMetricTon", "unit:tonUsOrShortTonUkorus",
                  "unit:ounceAvoirdupois", "unit:pound"]  # fmt: skip


class PhysicalDimension(_M):
    height: Linear | None = None
    length: Linear | None = None
    width: Linear | None = None
    weight: Mass


class Characteristics(_M):
    warranty: Warranty
    physicalDimension: PhysicalDimension


# --- sustainability ------------------------------------------------------------------------------------------


class SustainabilityDocuments(_M):
    separateCollection: list[Doc]
    wastePrevention: list[Doc]
    euTaxonomyDisclosureStatement: list[Doc] | None = None
    sustainabilityReport: list[Doc] | None = None


class Footprint(_M):
    value: float = Field(ge=0)
    rulebook: list[Doc]
    lifecycle: str
    unit: str
    type: ImpactCategory
    performanceClass: str | None = None
    manufacturingPlant: list[Facility]
    declaration: list[Doc]


class Sustainability(_M):
    documents: SustainabilityDocuments
    carbonFootprint: list[Footprint]
    status: Literal["original", "repurposed", "re-used", "remanufactured", "waste"]


# --- materials -----------------------------------------------------------------------------------------------


class MaterialId(_M):
    id: str
    type: Literal["CAS", "EC", "IUPAC"]
    name: str


class ActiveMaterial(_M):
    location: str
    recycled: Percentage
    documentation: list[Doc]
    critical: bool


class OtherActiveMaterial(ActiveMaterial):
    materialIdentification: list[MaterialId]


class Hazardous(_M):
    impactOfSubstances: list[Doc]
    concentration: float = Field(ge=0)
    location: str
    materialUnit: ConcentrationUnit
    critical: bool
    documentation: list[Doc]


class Lead(Hazardous):
    recycled: Percentage


class OtherHazardous(Hazardous):
    materialIdentification: list[MaterialId]


class ActiveMaterials(_M):
    nickel: ActiveMaterial
    lithium: ActiveMaterial
    cobalt: ActiveMaterial
    lead: Lead
    other: list[OtherActiveMaterial] | None = None


class HazardousSubstances(_M):
    cadmium: Hazardous
    mercury: Hazardous
    lead: Lead
    other: list[OtherHazardous] | None = None


class Composition(_M):
    id: list[MaterialId]
    concentration: float = Field(ge=0)
    unit: ConcentrationUnit
    critical: bool
    documentation: list[Doc]
    recycled: Percentage
    location: str
    renewable: Percentage


class Materials(_M):
    active: ActiveMaterials
    hazardous: HazardousSubstances
    composition: list[Composition]


# --- performance ---------------------------------------------------------------------------------------------


class Voltage(_M):
    min: float
    max: float
    nominal: float
    temperature: float | None = None


class RatedRoundTripEfficiency(_M):
    depthOfDischarge: float
    initial: float
    fiftyPercentLife: float = Field(alias="50PercentLife")
    temperature: float | None = None


class RatedEnergy(_M):
    value: float
    temperature: float | None = None


class RatedResistance(_M):
    cell: float
    module: float | None = None
    pack: float
    temperature: float | None = None


class RatedPower(_M):
    value: float
    at20SoC: float
    at80SoC: float
    temperature: float | None = None


class RatedCapacity(_M):
    value: float
    thresholdExhaustion: float
    temperature: float | None = None


class TemperatureRange(_M):
    lower: float
    upper: float


class CycleLife(_M):
    temperature: float
    cycles: float
    depthOfDischarge: float
    appliedChargeRate: float
    appliedDischargeRate: float


class Lifetime(_M):
    expectedYears: float
    report: list[Doc]
    cycleLifeTesting: CycleLife


class Rated(_M):
    voltage: Voltage
    roundTripEfficiency: RatedRoundTripEfficiency
    energy: RatedEnergy | None = None
    resistance: RatedResistance
    power: RatedPower
    capacity: RatedCapacity
    performanceDocument: list[Doc] | None = None
    temperature: TemperatureRange
    selfDischargingRate: float
    testReport: list[Doc] | None = None
    lifetime: Lifetime


class Record(_M):
    """Every time-stamped record of the model: a number and an xsd:dateTime."""

    value: float
    time: str = Field(pattern=TIMESTAMP_PATTERN)


class DynamicPower(_M):
    fade: Record
    remaining: Record


class DynamicCapacity(_M):
    fade: Record
    throughput: Record
    capacity: Record


class DynamicRoundTripEfficiency(_M):
    fade: Record
    remaining: Record


class ResistanceRecords(_M):
    pack: Record
    module: Record | None = None
    cell: Record


class DynamicResistance(_M):
    increase: ResistanceRecords
    remaining: ResistanceRecords


class DynamicEnergy(_M):
    soce: Record
    remaining: Record
    throughput: Record | None = None


class Dynamic(_M):
    stateOfCharge: Record
    fullCycles: Record
    performanceDocument: list[Doc] | None = None
    selfDischargingRate: float
    power: DynamicPower
    capacity: DynamicCapacity
    roundTripEfficiency: DynamicRoundTripEfficiency
    resistance: DynamicResistance
    energy: DynamicEnergy
    negativeEvents: list[Doc] | None = None
    operatingEnvironment: list[Doc] | None = None


class Performance(_M):
    rated: Rated
    dynamic: Dynamic


# --- conformity, safety, sources, metadata, commercial, handling ---------------------------------------------


class Conformity(_M):
    declarationOfConformityId: str | None = None
    declarationOfConformity: list[Doc]
    resultOfTestReport: list[Doc]
    thirdPartyAssurance: list[Doc]
    dueDiligencePolicy: list[Doc]


class ExtinguishAgent(_M):
    document: list[Doc] | None = None
    media: str
    fireClass: str


class Safety(_M):
    usableExtinguishAgent: list[ExtinguishAgent]
    safetyMeasures: list[Doc]
    meaningOfLabels: list[Doc]
    safeDischarging: list[Doc] | None = None
    dismantling: list[Doc]
    removalFromAppliance: list[Doc] | None = None


class Source(_M):
    content: str
    category: Literal[
        "Product Specifications", "Manufacturer Information", "User Manuals and Guides",
        "Certifications and Compliance", "Product Images and Videos", "Warranty Information", "Reviews and Ratings",
        "Product Variations", "Supply Chain Information", "Environmental Impact", "Compatibility and Accessories",
        "FAQs and Support", "Purchase and Retail Information", "Privacy and Data Handling",
        "Third-Party Integrations", "Legal Information", "Safety Information", "Repair and Installation",
        "Waste Generation and Prevention", "Specific Voluntary Labels", "Product Packaging", "Return and Disposal",
        "End of Life", "Material and Substance Information", "Technical Documentation", "Treatment facilities",
        "Other",
    ]  # fmt: skip
    type: str
    header: str = Field(max_length=100)


class Metadata(_M):
    version: str
    status: Literal["draft", "approved", "invalid", "expired"] | None = None
    expirationDate: str = Field(pattern=DATE_PATTERN)
    issueDate: str = Field(pattern=DATE_PATTERN)
    economicOperatorId: str = Field(pattern=BPNL_PATTERN)
    passportIdentifier: str = Field(pattern=UUID_PATTERN)
    predecessor: str = Field(pattern=UUID_PATTERN)
    backupReference: str
    registrationIdentifier: str | None = None
    lastModification: str | None = Field(None, pattern=DATE_PATTERN)


class Commercial(_M):
    placedOnMarket: str | None = Field(None, pattern=DATE_PATTERN)
    purpose: list[str]


class Producer(_M):
    id: str = Field(pattern=BPNL_PATTERN)


class SparePart(_M):
    producer: list[Producer]
    sparePart: list[PartType]


class Handling(_M):
    content: SparePart
    applicable: bool


class CatenaxBatteryPass(_M):
    """The whole ``io.catenax.battery.battery_pass`` 6.1.0 aspect: 13 members, all but two required."""

    specVersion: str | None = None
    identification: Identification
    operation: Operation
    characteristics: Characteristics
    sustainability: Sustainability
    materials: Materials
    performance: Performance
    conformity: Conformity
    safety: Safety
    sources: list[Source] | None = None
    metadata: Metadata
    commercial: Commercial
    handling: Handling


# --- merge and check -----------------------------------------------------------------------------------------


def _pointer(loc: tuple[str | int, ...]) -> str:
    return "".join(f"/{p}" for p in loc) or "/"


def passport_problems(passport: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """What the 6.1.0 model refuses in ``passport``: the required members missing (JSON pointers), and every other
    problem as (JSON pointer, message)."""
    try:
        CatenaxBatteryPass.model_validate(passport)
    except ValidationError as exc:
        missing: list[str] = []
        other: list[tuple[str, str]] = []
        for e in exc.errors(include_url=False):
            where = _pointer(e["loc"])
            if e["type"] == "missing":
                missing.append(where)
            elif e["type"] == "extra_forbidden":
                other.append((where, "not a member of the model"))
            else:
                other.append((where, e["msg"]))
        return missing, other
    return [], []


def merge_passport(passport: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """The automaker's ``passport`` with the declaration's members (``specVersion``,
    ``sustainability.carbonFootprint``, ``conformity.declarationOfConformityId``) put in; they replace any the
    passport carries, since the declaration is where they are declared. Nothing else of the passport changes."""
    merged = copy.deepcopy(dict(passport))
    for key, value in ours.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **copy.deepcopy(value)}
        else:
            merged[key] = copy.deepcopy(value)
    return merged
