"""The Catena-X ``io.catenax.battery.battery_pass`` 6.1.0 models, part 2: the ``performance`` member (rated and
dynamic values; see :mod:`.catenax_passport`)."""

from __future__ import annotations

from pydantic import Field

from .catenax_passport_parts import TIMESTAMP_PATTERN, Doc, PassportModel

# --- performance ---------------------------------------------------------------------------------------------


class Voltage(PassportModel):
    min: float
    max: float
    nominal: float
    temperature: float | None = None


class RatedRoundTripEfficiency(PassportModel):
    depthOfDischarge: float
    initial: float
    fiftyPercentLife: float = Field(alias="50PercentLife")
    temperature: float | None = None


class RatedEnergy(PassportModel):
    value: float
    temperature: float | None = None


class RatedResistance(PassportModel):
    cell: float
    module: float | None = None
    pack: float
    temperature: float | None = None


class RatedPower(PassportModel):
    value: float
    at20SoC: float
    at80SoC: float
    temperature: float | None = None


class RatedCapacity(PassportModel):
    value: float
    thresholdExhaustion: float
    temperature: float | None = None


class TemperatureRange(PassportModel):
    lower: float
    upper: float


class CycleLife(PassportModel):
    temperature: float
    cycles: float
    depthOfDischarge: float
    appliedChargeRate: float
    appliedDischargeRate: float


class Lifetime(PassportModel):
    expectedYears: float
    report: list[Doc]
    cycleLifeTesting: CycleLife


class Rated(PassportModel):
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


class Record(PassportModel):
    """Every time-stamped record of the model: a number and an xsd:dateTime."""

    value: float
    time: str = Field(pattern=TIMESTAMP_PATTERN)


class DynamicPower(PassportModel):
    fade: Record
    remaining: Record


class DynamicCapacity(PassportModel):
    fade: Record
    throughput: Record
    capacity: Record


class DynamicRoundTripEfficiency(PassportModel):
    fade: Record
    remaining: Record


class ResistanceRecords(PassportModel):
    pack: Record
    module: Record | None = None
    cell: Record


class DynamicResistance(PassportModel):
    increase: ResistanceRecords
    remaining: ResistanceRecords


class DynamicEnergy(PassportModel):
    soce: Record
    remaining: Record
    throughput: Record | None = None


class Dynamic(PassportModel):
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


class Performance(PassportModel):
    rated: Rated
    dynamic: Dynamic
