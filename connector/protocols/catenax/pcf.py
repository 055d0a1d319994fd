"""A Catena-X PCF (``io.catenax.pcf``) JSON document read as an entered upstream value (issue 17).

Two shapes: 9.0.0 (R25.09) groups the members in aspects, each a list holding one object
(``companyAndProductInformation[0].productInformation[0].productIds``...); 7.x is flat, PACT-v2-like (``productIds``
at the top, a ``pcf`` block with ``declaredUnit``, ``unitaryProductAmount``, ``pcfExcludingBiogenic``). Values are
JSON numbers: read them from a document parsed with ``parse_float=Decimal`` to keep them exact.

The stages (decision 0019): the production stage (cradle to gate) is booked to raw material acquisition, the stage a
bought input belongs to in its buyer's declaration; a distribution stage the file declares included goes to
distribution.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ...errors import ValidationFailed
from ...services.footprint_import import ForeignFootprint
from ...stages import STAGES, Stage

__all__ = ["is_catenax_pcf", "read_pcf"]

Id = Annotated[str, Field(min_length=1, max_length=1_000)]
Ids = Annotated[list[Id], Field(min_length=1, max_length=1_000)]
Unit = Annotated[str, Field(min_length=1, max_length=60)]
SPEC_PREFIX = "urn:io.catenax.pcf:datamodel:version:"

T = TypeVar("T")
One = Annotated[list[T], Field(min_length=1, max_length=1)]
"""A 9.0.0 aspect: a list holding one object."""


class _M(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class _ProductInformation(_M):
    declared_unit: Unit = Field(alias="declaredUnitOfMeasurement")
    declared_amount: Decimal = Field(alias="declaredUnitAmount")
    product_ids: Ids = Field(alias="productIds")


class _CompanyInformation(_M):
    company_ids: Ids = Field(alias="companyIds")


class _CompanyAndProduct(_M):
    product: One[_ProductInformation] = Field(alias="productInformation")
    company: One[_CompanyInformation] = Field(alias="companyInformation")


class _ProductionStage(_M):
    total: Decimal = Field(alias="pcfExcludingBiogenicUptake")


class _DistributionStage(_M):
    included: bool = Field(False, alias="distributionStageIncluded")
    total: Decimal | None = Field(None, alias="distributionStagePcfExcludingBiogenicUptake")


class _Stages(_M):
    production: One[_ProductionStage] = Field(alias="productionStage")
    distribution: list[_DistributionStage] = Field(default_factory=list, alias="distributionStage", max_length=1)


class _Quality(_M):
    primary_data_share: Decimal | None = Field(None, alias="primaryDataShare")
    technological: Decimal | None = Field(None, alias="technologicalDQR")
    geographical: Decimal | None = Field(None, alias="geographicalDQR")
    temporal: Decimal | None = Field(None, alias="temporalDQR")


class _IdAndVersion(_M):
    id: Id


class _AssessmentInformation(_M):
    id_and_version: One[_IdAndVersion] = Field(alias="idAndVersion")


class _Assessment(_M):
    quality: list[_Quality] = Field(default_factory=list, alias="dataSourcesAndQuality", max_length=1)
    information: One[_AssessmentInformation] = Field(alias="pcfAssessmentInformation")


class Pcf9(_M):
    """io.catenax.pcf 9.0.0: the members an entered value reads."""

    company_and_product: One[_CompanyAndProduct] = Field(alias="companyAndProductInformation")
    stages: One[_Stages] = Field(alias="productLifeCycleStagesAndEmissions")
    assessment: One[_Assessment] = Field(alias="pcfAssessmentAndMethodology")


class _Pcf7Block(_M):
    declared_unit: Unit = Field(alias="declaredUnit")
    declared_amount: Decimal = Field(Decimal(1), alias="unitaryProductAmount")
    total: Decimal = Field(alias="pcfExcludingBiogenic")
    distribution: Decimal | None = Field(None, alias="distributionStagePcfExcludingBiogenic")
    primary_data_share: Decimal | None = Field(None, alias="primaryDataShare")
    quality: _Quality | None = Field(None, alias="dataQualityRating")


class Pcf7(_M):
    """io.catenax.pcf 7.x (flat): the members an entered value reads."""

    id: Id
    company_ids: Ids = Field(alias="companyIds")
    product_ids: Ids = Field(alias="productIds")
    pcf: _Pcf7Block


def _spec_version(document: dict[str, Any]) -> str | None:
    scope = document.get("scopeOfPcfForm")
    if isinstance(scope, list) and scope and isinstance(scope[0], dict):
        found = scope[0].get("specVersion")
        return found if isinstance(found, str) else None
    found = document.get("specVersion")
    return found if isinstance(found, str) else None


def is_catenax_pcf(document: Any) -> bool:
    """Whether a parsed JSON file is a Catena-X PCF (by its spec version, or 9.0.0's aspects)."""
    if not isinstance(document, dict):
        return False
    version = _spec_version(document) or ""
    return version.startswith(SPEC_PREFIX) or "companyAndProductInformation" in document


def _fail(field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"pcf: {field_name}: {message}", errors=[{"field": field_name, "message": message}])


def _dqr(quality: _Quality | None) -> dict[str, str] | None:
    if quality is None or None in (quality.technological, quality.geographical, quality.temporal):
        return None
    return {k: str(getattr(quality, k)) for k in ("technological", "geographical", "temporal")}


def _stages(production: Decimal, distribution: Decimal | None) -> dict[Stage, Decimal]:
    values = {st: Decimal(0) for st in STAGES}
    values[Stage.RAW_MATERIAL_ACQUISITION] = production
    if distribution is not None:
        values[Stage.DISTRIBUTION] = distribution
    return values


def _validated(model: type[BaseModel], document: dict[str, Any], names: dict[str, str]) -> Any:
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = ".".join(names.get(str(p), str(p)) for p in first["loc"]) or "pcf"
        raise _fail(loc, first["msg"]) from None


_NESTED: tuple[type[BaseModel], ...] = (
    _ProductInformation,
    _CompanyInformation,
    _CompanyAndProduct,
    _ProductionStage,
    _DistributionStage,
    _Stages,
    _Quality,
    _IdAndVersion,
    _AssessmentInformation,
    _Assessment,
    _Pcf7Block,
)
_MODELS: tuple[type[BaseModel], ...] = (Pcf9, Pcf7, *_NESTED)
_NAMES = {n: f.alias for m in _MODELS for n, f in m.model_fields.items() if f.alias}
"""Python field name -> JSON name, so an error names the member as the file spells it."""


def read_pcf(document: Any) -> ForeignFootprint:
    """A Catena-X PCF (7.x or 9.0.0) as an entered value; ValidationFailed naming the member that is wrong."""
    if not isinstance(document, dict):
        raise _fail("pcf", "must be a JSON object")
    version = _spec_version(document) or ""
    if "companyAndProductInformation" in document or version.startswith(SPEC_PREFIX + "9"):
        pcf9: Pcf9 = _validated(Pcf9, document, _NAMES)
        product, company = pcf9.company_and_product[0].product[0], pcf9.company_and_product[0].company[0]
        stages = pcf9.stages[0]
        dist = stages.distribution[0] if stages.distribution else None
        quality = pcf9.assessment[0].quality[0] if pcf9.assessment[0].quality else None
        return ForeignFootprint(
            id=pcf9.assessment[0].information[0].id_and_version[0].id.lower(),
            company_ids=list(company.company_ids),
            product_ids=list(product.product_ids),
            declared_unit=product.declared_unit,
            declared_amount=product.declared_amount,
            stages=_stages(stages.production[0].total, dist.total if dist is not None and dist.included else None),
            primary_data_share=quality.primary_data_share if quality else None,
            dqr=_dqr(quality),
            where="pcf",
        )
    pcf7: Pcf7 = _validated(Pcf7, document, _NAMES)
    block = pcf7.pcf
    return ForeignFootprint(
        id=pcf7.id.lower(),
        company_ids=list(pcf7.company_ids),
        product_ids=list(pcf7.product_ids),
        declared_unit=block.declared_unit,
        declared_amount=block.declared_amount,
        stages=_stages(block.total, block.distribution),
        primary_data_share=block.primary_data_share,
        dqr=_dqr(block.quality),
        where="pcf",
    )
