"""Passport exports of a declaration: Battery Pass ``CarbonFootprintForBatteries`` 1.2.0 and Catena-X
``io.catenax.battery.battery_pass`` 6.1.0 ``sustainability.carbonFootprint``.

Both models carry numbers (xsd:double / JSON number), so this module is the one place where a footprint becomes a
float. Only declared figures cross that boundary: they have at most 6 decimals and well under 15 significant
digits, so ``float`` holds them and ``repr`` gives the declared decimal string back.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ValidationFailed
from ..stages import Stage
from .models import BPNA_PATTERN, PERFORMANCE_CLASS_NOT_DEFINED, Declaration

BATTERY_PASS_ASPECT = "urn:samm:io.BatteryPass.CarbonFootprint:1.2.0#CarbonFootprintForBatteries"
CATENAX_ASPECT = "urn:samm:io.catenax.battery.battery_pass:6.1.0#BatteryPass"

CATENAX_UNIT = "kg CO2 / kWh"
CATENAX_TYPE = "Climate Change Total"
CATENAX_TOTAL_LIFECYCLE = "total"


def _double(value: Decimal) -> float:
    # The only Decimal -> float conversion in the connector (see the module docstring).
    return float(value) + 0.0  # + 0.0 turns a rounded -0 into 0


class _Export(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- Battery Pass 1.2.0 -------------------------------------------------------------------------------------


class BatteryPassLifecycleStage(StrEnum):
    RAW_MATERIAL_EXTRACTION = "RawMaterialExtraction"
    MAIN_PRODUCTION = "MainProduction"
    DISTRIBUTION = "Distribution"
    RECYCLING = "Recycling"


BATTERY_PASS_STAGES: dict[Stage, BatteryPassLifecycleStage] = {
    Stage.RAW_MATERIAL_ACQUISITION: BatteryPassLifecycleStage.RAW_MATERIAL_EXTRACTION,
    Stage.MAIN_PRODUCTION: BatteryPassLifecycleStage.MAIN_PRODUCTION,
    Stage.DISTRIBUTION: BatteryPassLifecycleStage.DISTRIBUTION,
    Stage.END_OF_LIFE: BatteryPassLifecycleStage.RECYCLING,
}


class CarbonFootprintPerLifecycleStage(_Export):
    lifecycleStage: BatteryPassLifecycleStage
    carbonFootprint: float = Field(description="kg CO2e/kWh (functional unit); may be negative for Recycling")


class BatteryPassCarbonFootprint(_Export):
    """Battery Pass aspect ``CarbonFootprintForBatteries`` 1.2.0 (DIN DKE SPEC 99100 6.3.2-6.3.10)."""

    model_config = ConfigDict(title="CarbonFootprintForBatteries", extra="forbid", frozen=True)

    batteryCarbonFootprint: float = Field(description="kg CO2e/kWh of total lifetime energy (DIN DKE SPEC 6.3.2)")
    carbonFootprintPerLifecycleStage: list[CarbonFootprintPerLifecycleStage] = Field(min_length=1)
    carbonFootprintPerformanceClass: str = Field(description=f"class code, or {PERFORMANCE_CLASS_NOT_DEFINED!r}")
    carbonFootprintStudy: str = Field(description="URI of the public study (ResourcePath)")
    absoluteCarbonFootprint: float | None = Field(default=None, description="kg CO2e, not per functional unit")


def to_battery_pass(declaration: Declaration) -> dict[str, Any]:
    """The declaration as a Battery Pass ``CarbonFootprintForBatteries`` 1.2.0 payload (numbers are doubles)."""
    model = BatteryPassCarbonFootprint(
        batteryCarbonFootprint=_double(declaration.carbon_footprint.value),
        carbonFootprintPerLifecycleStage=[
            CarbonFootprintPerLifecycleStage(
                lifecycleStage=BATTERY_PASS_STAGES[s.stage], carbonFootprint=_double(s.value)
            )
            for s in declaration.stages
        ],
        carbonFootprintPerformanceClass=declaration.performance_class.performance_class
        or PERFORMANCE_CLASS_NOT_DEFINED,
        carbonFootprintStudy=str(declaration.study_url),
        absoluteCarbonFootprint=_double(declaration.absolute_carbon_footprint.value),
    )
    return model.model_dump(mode="json", exclude_none=True)


# --- Catena-X battery_pass 6.1.0 ----------------------------------------------------------------------------

CATENAX_LIFECYCLES: dict[Stage, str] = {
    Stage.RAW_MATERIAL_ACQUISITION: "raw material acquisition and pre-processing",
    Stage.MAIN_PRODUCTION: "main product production",
    Stage.DISTRIBUTION: "distribution",
    Stage.END_OF_LIFE: "end of life and recycling",
}


class CatenaxDocument(_Export):
    contentType: str
    header: str
    content: str


class CatenaxFacility(_Export):
    facility: str = Field(pattern=BPNA_PATTERN)


class CatenaxFootprint(_Export):
    """``FootprintEntity`` of the generic digital product passport, as used by battery_pass 6.1.0."""

    value: float = Field(description="kg CO2 / kWh; the 6.1.0 model says >= 0, see negative= in the exporter")
    unit: Literal["kg CO2 / kWh"]
    type: Literal["Climate Change Total"]
    lifecycle: str
    performanceClass: str | None = None
    manufacturingPlant: list[CatenaxFacility]
    rulebook: list[CatenaxDocument]
    declaration: list[CatenaxDocument]


class CatenaxSustainability(_Export):
    carbonFootprint: list[CatenaxFootprint] = Field(min_length=1)


class CatenaxConformity(_Export):
    declarationOfConformityId: str


class CatenaxBatteryPassCarbonFootprint(_Export):
    """The carbon footprint part of ``io.catenax.battery.battery_pass`` 6.1.0 (not a whole passport)."""

    model_config = ConfigDict(title="CatenaxBatteryPassCarbonFootprint", extra="forbid", frozen=True)

    sustainability: CatenaxSustainability
    conformity: CatenaxConformity


NegativePolicy = Literal["keep", "omit", "raise"]


def to_catenax_battery_pass(declaration: Declaration, *, negative: NegativePolicy = "keep") -> dict[str, Any]:
    """The declaration as Catena-X battery_pass 6.1.0 ``sustainability.carbonFootprint`` plus the DoC id.

    One entry per Annex II stage and one with lifecycle ``"total"`` for the Art. 7(1)(d) figure (6.1.0 has no
    fixed lifecycle values). The 6.1.0 model constrains ``value >= 0`` but a CFF end-of-life credit is negative:
    ``negative="keep"`` exports it anyway (the declared value, not schema-valid for strict consumers),
    ``"omit"`` drops such entries, ``"raise"`` refuses with ``ValidationFailed``.
    """
    plant = (
        [CatenaxFacility(facility=declaration.manufacturing_plant.bpna)] if declaration.manufacturing_plant.bpna else []
    )
    rulebook = (
        [CatenaxDocument(contentType="URL", header=declaration.methodology, content=str(declaration.methodology_url))]
        if declaration.methodology_url
        else []
    )
    documents = [
        CatenaxDocument(contentType="URL", header="Public carbon footprint study", content=str(declaration.study_url))
    ]
    if declaration.declaration_url:
        documents.append(
            CatenaxDocument(
                contentType="URL", header="Carbon footprint declaration", content=str(declaration.declaration_url)
            )
        )
    rows = [(CATENAX_LIFECYCLES[s.stage], s.value) for s in declaration.stages]
    rows.append((CATENAX_TOTAL_LIFECYCLE, declaration.carbon_footprint.value))

    entries = []
    for lifecycle, value in rows:
        if value < 0:
            if negative == "raise":
                raise ValidationFailed(
                    f"Catena-X battery_pass 6.1.0 requires value >= 0; {lifecycle} is {value}",
                    errors=[{"field": "value", "message": f"negative {lifecycle} value"}],
                )
            if negative == "omit":
                continue
        entries.append(
            CatenaxFootprint(
                value=_double(value),
                unit=CATENAX_UNIT,
                type=CATENAX_TYPE,
                lifecycle=lifecycle,
                performanceClass=declaration.performance_class.performance_class,
                manufacturingPlant=plant,
                rulebook=rulebook,
                declaration=documents,
            )
        )
    model = CatenaxBatteryPassCarbonFootprint(
        sustainability=CatenaxSustainability(carbonFootprint=entries),
        conformity=CatenaxConformity(declarationOfConformityId=declaration.declaration_of_conformity_id),
    )
    return model.model_dump(mode="json", exclude_none=True)
