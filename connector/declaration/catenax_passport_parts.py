"""The Catena-X ``io.catenax.battery.battery_pass`` 6.1.0 models, part 1: the shared base and patterns, then the
identification, operation, characteristics, sustainability and materials members (see :mod:`.catenax_passport`).

Written from what the published JSON Schema requires; they check and are never dumped.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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


class PassportModel(BaseModel):
    # strict: a JSON string is not a number, a number is not a string; members the model lacks are refused
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Doc(PassportModel):
    content: str
    contentType: str
    header: str = Field(max_length=100)


# --- identification, operation, characteristics -------------------------------------------------------------


class SerialKey(PassportModel):
    key: str = Field(pattern=r"^(manufacturerId|partInstanceId|batchId|van|customKey:\w+)$")
    value: str


class BatchKey(PassportModel):
    key: str = Field(pattern=r"^(manufacturerId|batchId|customKey:\w+)$")
    value: str


class PartType(PassportModel):
    manufacturerPartId: str
    nameAtManufacturer: str


class Code(PassportModel):
    key: str
    value: str


class DataCarrier(PassportModel):
    carrierType: str
    carrierLayout: str


class Classification(PassportModel):
    classificationStandard: str
    classificationID: str
    classificationDescription: str | None = None


class PartIdentification(PassportModel):
    serial: list[SerialKey] | None = None
    batch: list[BatchKey] | None = None
    type: PartType
    codes: list[Code]
    dataCarrier: DataCarrier
    classification: list[Classification]


class Identification(PassportModel):
    category: Literal["SLI", "LMT", "EV", "industrial", "portable", "incorporated"]
    idDmc: str
    chemistry: str
    identification: PartIdentification


class Facility(PassportModel):
    facility: str = Field(pattern=BPNA_PATTERN)


class PassportManufacturer(PassportModel):
    facility: list[Facility]
    manufacturer: str = Field(pattern=BPNL_PATTERN)
    manufacturingDate: str | None = Field(None, pattern=DATE_PATTERN)


class Operation(PassportModel):
    intoServiceDate: str | None = Field(None, pattern=DATE_PATTERN)
    manufacturer: PassportManufacturer


class Warranty(PassportModel):
    lifeValue: float
    lifeUnit: Literal["unit:day", "unit:month", "unit:year", "unit:cycle", "unit:runningOrOperatingHour"]


class Linear(PassportModel):
    value: float
    unit: Literal["unit:millimetre", "unit:centimetre", "unit:metre", "unit:kilometre", "unit:inch", "unit:foot",
                  "unit:yard"]  # fmt: skip


class Mass(PassportModel):
    value: float
    unit: Literal["unit:gram", "unit:kilogram", "unit:tonneMetricTon", "unit:tonUsOrShortTonUkorus",
                  "unit:ounceAvoirdupois", "unit:pound"]  # fmt: skip


class PhysicalDimension(PassportModel):
    height: Linear | None = None
    length: Linear | None = None
    width: Linear | None = None
    weight: Mass


class Characteristics(PassportModel):
    warranty: Warranty
    physicalDimension: PhysicalDimension


# --- sustainability ------------------------------------------------------------------------------------------


class SustainabilityDocuments(PassportModel):
    separateCollection: list[Doc]
    wastePrevention: list[Doc]
    euTaxonomyDisclosureStatement: list[Doc] | None = None
    sustainabilityReport: list[Doc] | None = None


class PassportCarbonFootprint(PassportModel):
    value: float = Field(ge=0)
    rulebook: list[Doc]
    lifecycle: str
    unit: str
    type: ImpactCategory
    performanceClass: str | None = None
    manufacturingPlant: list[Facility]
    declaration: list[Doc]


class Sustainability(PassportModel):
    documents: SustainabilityDocuments
    carbonFootprint: list[PassportCarbonFootprint]
    status: Literal["original", "repurposed", "re-used", "remanufactured", "waste"]


# --- materials -----------------------------------------------------------------------------------------------


class MaterialId(PassportModel):
    id: str
    type: Literal["CAS", "EC", "IUPAC"]
    name: str


class ActiveMaterial(PassportModel):
    location: str
    recycled: Percentage
    documentation: list[Doc]
    critical: bool


class OtherActiveMaterial(ActiveMaterial):
    materialIdentification: list[MaterialId]


class Hazardous(PassportModel):
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


class ActiveMaterials(PassportModel):
    nickel: ActiveMaterial
    lithium: ActiveMaterial
    cobalt: ActiveMaterial
    lead: Lead
    other: list[OtherActiveMaterial] | None = None


class HazardousSubstances(PassportModel):
    cadmium: Hazardous
    mercury: Hazardous
    lead: Lead
    other: list[OtherHazardous] | None = None


class Composition(PassportModel):
    id: list[MaterialId]
    concentration: float = Field(ge=0)
    unit: ConcentrationUnit
    critical: bool
    documentation: list[Doc]
    recycled: Percentage
    location: str
    renewable: Percentage


class Materials(PassportModel):
    active: ActiveMaterials
    hazardous: HazardousSubstances
    composition: list[Composition]
