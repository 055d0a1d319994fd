"""Passport exports of a declaration: Battery Pass ``CarbonFootprintForBatteries`` 1.2.0 (a whole aspect) and the
declaration's part of a Catena-X ``io.catenax.battery.battery_pass`` 6.1.0 passport (decision 0010).

Both models carry numbers (xsd:double / JSON number), so this module is the one place where a footprint becomes a
float. Only declared figures cross that boundary: they have at most 6 decimals and well under 15 significant
digits, so ``float`` holds them and ``repr`` gives the declared decimal string back.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ValidationFailed
from ..stages import Stage
from .catenax_passport import merge_passport, passport_problems
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
#
# The 6.1.0 aspect requires 11 top-level members (identification, materials, performance, safety, ...) that a
# carbon footprint declaration does not know. The export is therefore the part the declaration owns, at the model's
# own nesting, for the automaker to merge into its passport (decision 0010); everything it carries is valid
# against the official schema, and CATENAX_LEFT_TO_MERGE lists the required members it leaves to the automaker.

CATENAX_SPEC_VERSION: Final = "urn:io.catenax.battery.battery_pass:6.1.0"
CATENAX_HEADER_MAX = 100  # HeaderTrait of DocumentationEntity

CATENAX_LIFECYCLES: dict[Stage, str] = {
    Stage.RAW_MATERIAL_ACQUISITION: "raw material acquisition and pre-processing",
    Stage.MAIN_PRODUCTION: "main product production",
    Stage.DISTRIBUTION: "distribution",
    Stage.END_OF_LIFE: "end of life and recycling",
}

# JSON pointers of the required members the export leaves to the automaker (the aspect's owner).
CATENAX_LEFT_TO_MERGE: tuple[str, ...] = (
    "/identification",
    "/operation",
    "/characteristics",
    "/materials",
    "/performance",
    "/safety",
    "/metadata",
    "/commercial",
    "/handling",
    "/sustainability/documents",
    "/sustainability/status",
    "/conformity/declarationOfConformity",
    "/conformity/resultOfTestReport",
    "/conformity/thirdPartyAssurance",
    "/conformity/dueDiligencePolicy",
)
CATENAX_PLANT_TO_MERGE = "/sustainability/carbonFootprint/*/manufacturingPlant"


class CatenaxDocument(_Export):
    """``DocumentationEntity``: a link with a title of at most 100 characters."""

    contentType: str
    header: str = Field(max_length=CATENAX_HEADER_MAX)
    content: str


class CatenaxFacility(_Export):
    """``FacilityEntity``: the model identifies a facility by its BPNA only."""

    facility: str = Field(pattern=BPNA_PATTERN)


class CatenaxFootprint(_Export):
    """``FootprintEntity`` of the generic digital product passport, as used by battery_pass 6.1.0."""

    value: float = Field(ge=0, description="kg CO2 / kWh; the 6.1.0 model has no negative footprints")
    unit: Literal["kg CO2 / kWh"]
    type: Literal["Climate Change Total"]
    lifecycle: str
    performanceClass: str | None = None
    manufacturingPlant: list[CatenaxFacility] = Field(description="[] when the plant has no BPNA")
    rulebook: list[CatenaxDocument]
    declaration: list[CatenaxDocument]


class CatenaxSustainability(_Export):
    """``sustainability`` without ``documents`` and ``status``, which the automaker merges."""

    carbonFootprint: list[CatenaxFootprint] = Field(min_length=1)


class CatenaxConformity(_Export):
    """``conformity`` without its four document lists, which the automaker merges."""

    declarationOfConformityId: str


class CatenaxBatteryPassCarbonFootprint(_Export):
    """The members of ``io.catenax.battery.battery_pass`` 6.1.0 a declaration owns (not a whole passport)."""

    model_config = ConfigDict(title="CatenaxBatteryPassCarbonFootprint", extra="forbid", frozen=True)

    specVersion: Literal["urn:io.catenax.battery.battery_pass:6.1.0"] = CATENAX_SPEC_VERSION
    sustainability: CatenaxSustainability
    conformity: CatenaxConformity


NegativePolicy = Literal["omit", "raise"]


def catenax_left_to_merge(declaration: Declaration) -> list[str]:
    """What the automaker must merge into the export to make a whole 6.1.0 passport (JSON pointers)."""
    plant = [] if declaration.manufacturing_plant.bpna else [CATENAX_PLANT_TO_MERGE]
    return [*CATENAX_LEFT_TO_MERGE, *plant]


def _document(header: str, url: object) -> CatenaxDocument:
    if len(header) > CATENAX_HEADER_MAX:
        raise ValidationFailed(
            f"Catena-X battery_pass 6.1.0 document headers hold at most {CATENAX_HEADER_MAX} characters; "
            f"{header[:40]!r}... has {len(header)}",
            errors=[{"field": "methodology", "message": f"longer than {CATENAX_HEADER_MAX} characters"}],
        )
    return CatenaxDocument(contentType="URL", header=header, content=str(url))


def to_catenax_battery_pass(
    declaration: Declaration, *, negative: NegativePolicy = "omit", passport: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The declaration's part of a Catena-X battery_pass 6.1.0 passport: ``sustainability.carbonFootprint``, the
    DoC id and ``specVersion``; valid against the official schema except for ``catenax_left_to_merge``.

    With ``passport`` (the automaker's passport without those members) the result is the whole aspect: the
    declaration's members merged into it, checked against the whole model; ``ValidationFailed`` names every
    required member still missing and every other problem, so an invalid passport is never written.

    One entry per Annex II stage and one with lifecycle ``"total"`` for the Art. 7(1)(d) figure (6.1.0 has no
    fixed lifecycle values). The model requires ``value >= 0`` but a CFF end-of-life credit is negative:
    ``negative="omit"`` leaves such a stage out (the total still includes it; the Battery Pass export carries it),
    ``"raise"`` refuses with ``ValidationFailed``. A negative total is always refused: omitting it would drop the
    declared figure. ``manufacturingPlant`` is ``[]`` when the plant has no BPNA, the only identifier it takes.
    """
    plant = [CatenaxFacility(facility=bpna)] if (bpna := declaration.manufacturing_plant.bpna) else []
    rulebook = [_document(declaration.methodology, declaration.methodology_url)] if declaration.methodology_url else []
    documents = [_document("Public carbon footprint study", declaration.study_url)]
    if declaration.declaration_url:
        documents.append(_document("Carbon footprint declaration", declaration.declaration_url))
    rows = [(CATENAX_LIFECYCLES[s.stage], s.value) for s in declaration.stages]
    rows.append((CATENAX_TOTAL_LIFECYCLE, declaration.carbon_footprint.value))

    entries = []
    for lifecycle, value in rows:
        if value < 0:
            if negative == "raise" or lifecycle == CATENAX_TOTAL_LIFECYCLE:
                raise ValidationFailed(
                    f"Catena-X battery_pass 6.1.0 requires value >= 0; {lifecycle} is {value} kg CO2e/kWh "
                    "(the Battery Pass export carries negative values)",
                    errors=[{"field": "value", "message": f"negative {lifecycle} value"}],
                )
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
    fragment = model.model_dump(mode="json", exclude_none=True)
    return fragment if passport is None else _whole(passport, fragment)


def check_catenax_passport(passport: Any) -> None:
    """Refuse, before anything is declared, an automaker's passport that no declaration can complete: the
    declaration adds only ``sustainability.carbonFootprint`` (checked here as an empty list, which 6.1.0 allows)
    and the DoC id and ``specVersion`` (optional)."""
    _whole(passport, {"sustainability": {"carbonFootprint": []}})


def _whole(passport: Any, fragment: dict[str, Any]) -> dict[str, Any]:
    """The automaker's passport with the declaration's members in it, or ``ValidationFailed`` saying what is wrong."""
    if not isinstance(passport, Mapping):
        raise ValidationFailed("the Catena-X passport must be a JSON object (the battery_pass 6.1.0 aspect)")
    merged = merge_passport(passport, fragment)
    missing, problems = passport_problems(merged)
    if not missing and not problems:
        return merged
    parts = [f"lacks {len(missing)} required member(s): {', '.join(missing)}"] if missing else []
    parts += [f"{len(problems)} other problem(s): " + "; ".join(f"{w}: {m}" for w, m in problems)] if problems else []
    raise ValidationFailed(
        "the merged Catena-X battery_pass 6.1.0 passport " + "; ".join(parts),
        errors=[{"field": m, "message": "required member missing"} for m in missing]
        + [{"field": where, "message": message} for where, message in problems],
    )
