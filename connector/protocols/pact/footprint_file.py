"""A PACT ProductFootprint from any conformant producer, read as an entered upstream value (issue 17).

Our own model of the members an entered value needs, checked strictly: a PACT v3 ProductFootprint (or, from an older
producer, the v2 names ``pCfExcludingBiogenic``, ``declaredUnit`` and ``unitaryProductAmount``, and v2's numbers for
``primaryDataShare`` and the ``dqi`` ratings), a bare footprint or a ``{"data": [...]}`` list answer. The stages (decision 0019): our own extension's four stages when the footprint
carries it (a footprint one of our nodes rendered); otherwise PACT gives one cradle-to-gate total, which is booked to
raw material acquisition, the stage a bought input belongs to in its buyer's declaration.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from ...decimals import DECIMAL_PATTERN, EXACT, format_decimal
from ...errors import ValidationFailed
from ...services.footprint_import import ForeignFootprint
from ...stages import STAGES, Stage, stage_total
from .events import _uuid
from .rendering import CfpExtensionData, find_extension

DecimalString = Annotated[str, Field(pattern=DECIMAL_PATTERN, max_length=60)]
Id = Annotated[str, Field(min_length=1, max_length=1_000)]


class Dqi(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    technological: DecimalString = Field(alias="technologicalDQR")
    geographical: DecimalString = Field(alias="geographicalDQR")
    temporal: DecimalString = Field(alias="temporalDQR")


class CarbonFootprint(BaseModel):
    """``pcf``: the declared unit and amount and the total, under their v3 names or (an older producer) v2's."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    declared_unit: Annotated[str, Field(min_length=1, max_length=60)] | None = Field(
        None, alias="declaredUnitOfMeasurement"
    )
    declared_amount: DecimalString | None = Field(None, alias="declaredUnitAmount")
    total: DecimalString | None = Field(None, alias="pcfExcludingBiogenicUptake")
    v2_unit: Annotated[str, Field(min_length=1, max_length=60)] | None = Field(None, alias="declaredUnit")
    v2_amount: DecimalString | None = Field(None, alias="unitaryProductAmount")
    v2_total: DecimalString | None = Field(None, alias="pCfExcludingBiogenic")
    primary_data_share: DecimalString | None = Field(None, alias="primaryDataShare")
    dqi: Dqi | None = None


class ProductFootprint(BaseModel):
    """The members of a PACT ProductFootprint an entered value reads; the rest is kept in the file as sent."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: Annotated[str, AfterValidator(_uuid)]
    spec_version: Annotated[str, Field(max_length=20)] | None = Field(None, alias="specVersion")
    company_ids: Annotated[list[Id], Field(min_length=1, max_length=100)] = Field(alias="companyIds")
    product_ids: Annotated[list[Id], Field(min_length=1, max_length=1_000)] = Field(alias="productIds")
    pcf: CarbonFootprint
    extensions: list[dict[str, Any]] | None = None


def is_pact(document: Any) -> bool:
    """Whether a parsed JSON file looks like a PACT footprint or list answer (rather than another format)."""
    if isinstance(document, dict) and isinstance(document.get("data"), list | dict):
        return True
    return (
        isinstance(document, dict)
        and isinstance(document.get("pcf"), dict)
        and "companyAndProductInformation" not in document
    )


def _fail(where: str, field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{where}: {field_name}: {message}", errors=[{"field": field_name, "message": message}])


def read_file(document: Any) -> list[ForeignFootprint]:
    """Every footprint of a PACT file: a bare ProductFootprint, a ``{"data": [...]}`` list answer, or a
    ``{"data": {...}}`` answer of GET /footprints/{id}."""
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        items = document["data"]
        if not items:
            raise _fail("file", "data", "the list holds no footprint")
        return [read_footprint(pf, f"data[{i}]") for i, pf in enumerate(items)]
    if isinstance(document, dict) and isinstance(document.get("data"), dict):  # a GET /footprints/{id} answer
        return [read_footprint(document["data"], "data")]
    return [read_footprint(document, "footprint")]


def read_footprint(pf: Any, where: str = "footprint") -> ForeignFootprint:
    """One PACT ProductFootprint as an entered value; ValidationFailed naming the field that is wrong."""
    if not isinstance(pf, dict):
        raise _fail(where, "footprint", "must be a JSON object")
    if str(pf.get("specVersion", "")).startswith("2."):
        pf = _v2_numbers(pf)
    try:
        model = ProductFootprint.model_validate(pf, strict=True)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"]) or "footprint"
        raise _fail(where, loc, first["msg"]) from None
    pcf = model.pcf
    unit = pcf.declared_unit or pcf.v2_unit
    if unit is None:
        raise _fail(where, "pcf.declaredUnitOfMeasurement", "Field required")
    amount = (pcf.declared_amount if pcf.declared_unit is not None else pcf.v2_amount) or "1"
    total_text = pcf.total if pcf.total is not None else pcf.v2_total
    if total_text is None:
        raise _fail(where, "pcf.pcfExcludingBiogenicUptake", "Field required")
    total = Decimal(total_text)
    stages = _stages(pf, total, where)
    dqr = None
    if pcf.dqi is not None:
        dqr = {"technological": pcf.dqi.technological, "geographical": pcf.dqi.geographical}
        dqr["temporal"] = pcf.dqi.temporal
    return ForeignFootprint(
        id=model.id.lower(),
        company_ids=list(model.company_ids),
        product_ids=list(model.product_ids),
        declared_unit=unit,
        declared_amount=Decimal(amount),
        stages=stages,
        primary_data_share=Decimal(pcf.primary_data_share) if pcf.primary_data_share is not None else None,
        dqr=dqr,
        where=where,
    )


def _v2_numbers(pf: dict[str, Any]) -> dict[str, Any]:
    """PACT v2 has ``primaryDataShare`` and the ``dqi`` ratings as JSON numbers (v3: decimal strings): as strings."""
    pcf = pf.get("pcf")
    if not isinstance(pcf, dict):
        return pf

    def text(value: Any) -> Any:
        is_number = isinstance(value, int | Decimal) and not isinstance(value, bool)
        return format_decimal(Decimal(value)) if is_number else value

    pcf = {**pcf, "primaryDataShare": text(pcf.get("primaryDataShare"))}
    if pcf["primaryDataShare"] is None:
        del pcf["primaryDataShare"]
    if isinstance(pcf.get("dqi"), dict):
        pcf["dqi"] = {k: text(v) for k, v in pcf["dqi"].items()}
    return {**pf, "pcf": pcf}


def _stages(pf: dict[str, Any], total: Decimal, where: str) -> dict[Stage, Decimal]:
    ours = find_extension(pf)
    if ours is None:  # decision 0019: PACT's one cradle-to-gate total, booked to raw material acquisition
        return {st: (total if st is Stage.RAW_MATERIAL_ACQUISITION else Decimal(0)) for st in STAGES}
    try:
        data = CfpExtensionData.model_validate(ours)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise _fail(where, f"extensions.data.{loc}", first["msg"]) from None
    stages = {st: Decimal(data.stages.get(st, "0")) for st in STAGES}
    if EXACT.subtract(stage_total(stages), total) != 0:
        raise _fail(where, "pcf.pcfExcludingBiogenicUptake", "differs from the sum of the stages of our extension")
    return stages
