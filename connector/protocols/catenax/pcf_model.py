"""The Catena-X PCF aspect ``urn:samm:io.catenax.pcf:9.0.0`` as we send and read it (decision 0023).

A payload is held as a plain dict whose numbers are decimal strings (JSON-storable, exact: the outbox and the upstream
store keep it so) and written by :func:`dumps` with the model's numeric members as JSON numbers, digit for digit.
:func:`loads` reads a received one back to that form (numbers as decimal strings), refusing duplicate members and
NaN/Infinity as every JSON this node takes in.

Our attestation, its sealed evidence, the four Annex II stages and the rounding rule travel as one
``attestationOfConformance`` entry whose ``attestationStandard`` is our extension schema's URL and whose
``attestationOfConformanceId`` is the compact JSON of the PACT extension's ``data`` (the same members, the same
model as PACT's ``CfpExtensionData``, checked here by :func:`check_extension`). So the payload has no member the aspect model does not define.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ...decimals import DECIMAL_PATTERN, format_decimal
from ...periods import reference_period, validity_period
from ...stages import STAGES, Stage
from ...units import product_mass
from .pcf import SPEC_PREFIX

EXTENSION_SCHEMA = "https://battery-cfp-connector.dev/schemas/pact-cfp-extension.schema.json"
"""The schema of our extension's data (the same data PACT carries in its ``extensions``)."""

SUPPORTED_VERSIONS = ("9.0.0",)
"""io.catenax.pcf versions this node writes and reads; a request for another is refused (CX-0136: fall back to
9.0.0 when none is named)."""
DEFAULT_VERSION = "9.0.0"
SEMANTIC_ID = "urn:samm:io.catenax.pcf:{version}#Pcf"
SPEC_VERSION = SPEC_PREFIX + "{version}"
EXTENSION_TYPE = "battery-cfp-connector attestation (SD-JWT VC) with sealed evidence"
EXTENSION_STANDARD_NAME = "Regulation (EU) 2023/1542 Art. 7 carbon footprint declaration"

NUMERIC = frozenset(
    {
        "declaredUnitAmount",
        "productMassPerDeclaredUnit",
        "primaryDataShare",
        "technologicalDQR",
        "temporalDQR",
        "geographicalDQR",
        "version",
        "exemptedEmissionsPercent",
        "programCertificationShare",
        "productVerificationShare3rdParty",
        "productVerificationShare2ndParty",
        "productVerificationShare1stParty",
        "carbonContentTotal",
        "fossilCarbonContent",
        "biogenicCarbonContent",
        "packagingBiogenicCarbonContent",
        "recycledCarbonContent",
        "pcfIncludingBiogenicUptake",
        "pcfExcludingBiogenicUptake",
        "fossilGhgEmissions",
        "biogenicNonCO2Emissions",
        "biogenicCO2Uptake",
        "landUseChangeGhgEmissions",
        "landManagementBiogenicCO2Emissions",
        "packagingLandManagementBiogenicCO2Emissions",
        "landManagementBiogenicCO2Removals",
        "aircraftGhgEmissions",
        "distributionStagePcfIncludingBiogenicUptake",
        "distributionStagePcfExcludingBiogenicUptake",
        "distributionStageFossilGhgEmissions",
        "distributionStageBiogenicNonCO2Emissions",
        "distributionStageBiogenicCO2Uptake",
        "distributionStageLandUseChangeGhgEmissions",
        "distributionStageLandManagementBiogenicCO2Emissions",
        "distributionStageLandManagementBiogenicCO2Removals",
        "distributionStageAircraftGhgEmissions",
        "packagingPcfIncludingBiogenicUptake",
        "packagingPcfExcludingBiogenicUptake",
        "packagingFossilGhgEmissions",
        "packagingBiogenicNonCO2Emissions",
        "packagingBiogenicCO2Uptake",
        "packagingLandUseChangeGhgEmissions",
        "packagingLandManagementBiogenicCO2Removals",
        "packagingAircraftGhgEmissions",
    }
)
"""The members the 9.0.0 schema types ``number`` (tests/unit/test_catenax_pcf.py checks the list against the
schema when its path is given)."""

DECLARED_UNITS = (
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
    "piece",
    "hour",
    "megabit",
    "second",
)
"""9.0.0 ``declaredUnitOfMeasurement``: a product held in another unit (PACT's ``megabit second``) has no PCF."""

# UN M49 regions of the plant countries a battery chain names most; any other country: "Global"
_REGIONS = {
    **dict.fromkeys(("DE", "FR", "NL", "BE", "AT", "CH", "LU"), "Western Europe"),
    **dict.fromkeys(("PL", "HU", "CZ", "SK", "RO", "BG"), "Eastern Europe"),
    **dict.fromkeys(("SE", "FI", "NO", "DK", "GB", "IE", "EE", "LV", "LT"), "Northern Europe"),
    **dict.fromkeys(("ES", "PT", "IT", "GR", "SI", "HR", "RS"), "Southern Europe"),
    **dict.fromkeys(("JP", "CN", "KR", "TW", "MN"), "Eastern Asia"),
    **dict.fromkeys(("ID", "PH", "VN", "TH", "MY", "SG"), "South-eastern Asia"),
    **dict.fromkeys(("US", "CA"), "Northern America"),
    **dict.fromkeys(("CL", "AR", "BR", "MX", "BO", "PE"), "Latin America and the Caribbean"),
    **dict.fromkeys(("AU", "NZ"), "Australia and New Zealand"),
    **dict.fromkeys(("CD", "ZM", "ZA", "ZW", "MG"), "Sub-Saharan Africa"),
    **dict.fromkeys(("MA", "EG", "DZ", "TN"), "Northern Africa"),
    "IN": "Southern Asia",
}

_NUMBER = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")


class NotExpressible(ValueError):
    """A footprint the 9.0.0 model cannot carry (a unit it lacks, a negative cradle-to-gate value)."""


def _dec(value: Any) -> str:
    return format_decimal(Decimal(str(value)))


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def to_pcf(
    footprint: Any,
    product: Any,
    extension: dict[str, Any] | None,
    *,
    company_name: str,
    company_id: str,
    bpnl: str | None,
    plant_bpns: str | None = None,
    version: str = DEFAULT_VERSION,
    waste_incineration: str = "cut-off",
) -> dict[str, Any]:
    """The PCF of ``footprint`` (a row and its product) with our extension data (attestation, evidence, stages)."""
    if version not in SUPPORTED_VERSIONS:
        raise NotExpressible(f"io.catenax.pcf {version} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}")
    unit = product.declared_unit
    if unit not in DECLARED_UNITS:
        raise NotExpressible(f"declared unit {unit!r} has no io.catenax.pcf {version} value")
    stages = {s: Decimal(footprint.stages[s.value]) for s in STAGES}
    gate = stages[Stage.RAW_MATERIAL_ACQUISITION] + stages[Stage.MAIN_PRODUCTION]
    distribution = stages[Stage.DISTRIBUTION]
    if gate < 0 or distribution < 0:
        raise NotExpressible("a negative cradle-to-gate or distribution value has no io.catenax.pcf place")
    ref_start, ref_end = reference_period(product, footprint)
    valid_start, valid_end = validity_period(product, footprint)
    ext = extension
    company_ids = [f"urn:{bpnl}"] if bpnl else []
    company_ids.append(company_id)
    product_info: dict[str, Any] = {
        "productNameCompany": product.name,
        "productIds": list(product.product_ids),
        "declaredUnitOfMeasurement": unit,
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": _dec(product_mass(product)),
        "productDescription": product.description or product.name,
    }
    if product.classifications:
        product_info["productClassifications"] = list(dict.fromkeys(product.classifications))
    quality: dict[str, Any] = {}
    if footprint.primary_data_share is not None:
        quality["primaryDataShare"] = _dec(footprint.primary_data_share)
    for key in ("technological", "geographical", "temporal"):
        if footprint.dqr and footprint.dqr.get(key) is not None:
            quality[f"{key}DQR"] = _dec(footprint.dqr[key])
    geography: dict[str, Any] = {"geographyRegionOrSubregion": _REGIONS.get(product.plant_country or "", "Global")}
    if product.plant_country:
        geography["geographyCountry"] = product.plant_country
    if product.plant_subdivision:
        geography["geographyCountrySubdivision"] = product.plant_subdivision
    time = {
        "referencePeriodStart": iso(ref_start),
        "referencePeriodEnd": iso(ref_end),
        "created": iso(footprint.created_at),
        "validityPeriodStart": iso(valid_start),
        "validityPeriodEnd": iso(valid_end),
    }
    id_and_version: dict[str, Any] = {
        "id": footprint.id,
        "version": str(footprint.version),
        "status": footprint.status,
        "retroOrProspectivePcfType": "Retrospective PCF",
    }
    boundary = (
        "Cradle to gate of this product, and its distribution stage; the end-of-life stage declared under "
        "Regulation (EU) 2023/1542 Annex II travels in the attestation entry only."
    )
    if plant_bpns:
        boundary = f"{boundary} Plant {plant_bpns}."
    pcf: dict[str, Any] = {
        "scopeOfPcfForm": [{"specVersion": SPEC_VERSION.format(version=version), "partialFullPcf": "Cradle-to-gate"}],
        "companyAndProductInformation": [
            {
                "companyInformation": [{"companyName": company_name, "companyIds": company_ids}],
                "productInformation": [product_info],
            }
        ],
        "pcfAssessmentAndMethodology": [
            {
                "dataSourcesAndQuality": [quality],
                "pcfAssessmentInformation": [
                    {
                        "technology": [
                            {"ccsTechnologicalCO2CaptureIncluded": False, "boundaryProcessesDescription": boundary}
                        ],
                        "idAndVersion": [id_and_version],
                        "boundarySpecifications": [{"exemptedEmissionsPercent": "0"}],
                        "geography": [geography],
                        "time": [time],
                    }
                ],
                "pcfMethodology": [
                    {
                        "massBalancingInformation": [
                            {
                                "massBalancingUsed": False,
                                "freeAttributionInMassBalancing": "not applicable",
                                "massBalancingCertificateScheme": "not applicable",
                            }
                        ],
                        "standards": [
                            {
                                "crossSectoralStandards": ["ISO 14067", "PEF"],
                                "productOrSectorSpecificRules": [EXTENSION_STANDARD_NAME],
                            }
                        ],
                        "gwpCharacterizationFactorDetails": [{"ipccCharacterizationFactors": "AR6"}],
                        "allocationInForeground": [{"allocationWasteIncineration": waste_incineration}],
                    }
                ],
            }
        ],
        "general": [{"comment": f"Version {footprint.version}; rounding {footprint.rounding}."}],
        "carbonContent": [{}],
        "productLifeCycleStagesAndEmissions": [
            {
                "productionStage": [
                    {"pcfExcludingBiogenicUptake": _dec(gate), "pcfIncludingBiogenicUptake": _dec(gate)}
                ],
                "distributionStage": [
                    {
                        "distributionStageIncluded": True,
                        "distributionStagePcfExcludingBiogenicUptake": _dec(distribution),
                        "distributionStagePcfIncludingBiogenicUptake": _dec(distribution),
                    }
                ],
                "packagingStage": [{"packagingEmissionsIncluded": False}],
            }
        ],
    }
    if ext is not None:
        entry: dict[str, Any] = {
            "attestationType": EXTENSION_TYPE,
            "standardName": EXTENSION_STANDARD_NAME,
            "attestationStandard": EXTENSION_SCHEMA,
            "attestationOfConformanceId": json.dumps(ext, separators=(",", ":"), ensure_ascii=False),
            "providerName": company_name,
            "providerId": f"urn:{bpnl}" if bpnl else company_id,
            "completedAt": iso(footprint.created_at),
        }
        pcf["attestationOfConformance"] = [entry]
    return pcf


def find_extension(pcf: dict[str, Any]) -> dict[str, Any] | None:
    """Our extension's data in a received PCF (validated against its model), or None when it carries none."""
    for entry in pcf.get("attestationOfConformance") or []:
        if isinstance(entry, dict) and entry.get("attestationStandard") == EXTENSION_SCHEMA:
            raw = entry.get("attestationOfConformanceId")
            if not isinstance(raw, str):
                raise ValueError("our attestationOfConformance entry has no attestationOfConformanceId text")
            data = loads(raw.encode())
            check_extension(data)
            return data
    return None


_DECIMAL = re.compile(DECIMAL_PATTERN)


def check_extension(data: Any) -> None:
    """ValueError unless ``data`` is our extension's data: the four stages as decimal strings, the rounding rule, and
    optionally the attestation (text), evidence (object) and certifications (list)."""
    if not isinstance(data, dict):
        raise ValueError("our attestation entry does not hold an object")
    unknown = set(data) - {"stages", "rounding", "attestation", "evidence", "certifications"}
    if unknown:
        raise ValueError(f"our attestation entry has unknown members: {sorted(unknown)}")
    stages = data.get("stages")
    if not isinstance(stages, dict) or set(stages) != {s.value for s in STAGES}:
        raise ValueError("our attestation entry must give the four stages")
    if not all(isinstance(v, str) and _DECIMAL.match(v) for v in stages.values()):
        raise ValueError("stage values must be decimal strings")
    if not isinstance(data.get("rounding"), str):
        raise ValueError("our attestation entry has no rounding rule")
    if data.get("attestation") is not None and not isinstance(data["attestation"], str):
        raise ValueError("attestation must be text")
    if data.get("evidence") is not None and not isinstance(data["evidence"], dict):
        raise ValueError("evidence must be an object")
    if not isinstance(data.get("certifications", []), list):
        raise ValueError("certifications must be a list")


# -- JSON -------------------------------------------------------------------------------------------------------------


def dumps(pcf: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON: the members in :data:`NUMERIC` as JSON numbers, written with the digits they hold."""
    out: list[str] = []
    _write(pcf, out, None)
    return "".join(out).encode()


def _write(value: Any, out: list[str], key: str | None) -> None:
    if isinstance(value, dict):
        out.append("{")
        first = True
        for k, v in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(k, ensure_ascii=False))
            out.append(":")
            _write(v, out, k)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, key)
        out.append("]")
    elif key in NUMERIC and not isinstance(value, bool) and isinstance(value, str | int | Decimal):
        text = str(value)
        if not _NUMBER.match(text):
            raise ValueError(f"{key} is not a decimal number: {text[:40]!r}")
        out.append(text)
    else:
        out.append(json.dumps(value, ensure_ascii=False, allow_nan=False))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate member in the JSON document")
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _float(text: str) -> str:
    if not _NUMBER.match(text):
        raise ValueError(f"number {text[:40]} is not a decimal")
    return format_decimal(Decimal(text))


def loads(raw: bytes) -> Any:
    """A received JSON document with every fractional number as an exact decimal string (integers stay ints)."""
    return json.loads(
        raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_constant, parse_float=_float
    )
