"""PACT v3 ProductFootprint rendering: a footprint as PACT shows it, with our extension (stages, attestation,
evidence, certifications)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ...attestation.evidence import Evidence
from ...decimals import DECIMAL_PATTERN, format_decimal
from ...periods import reference_period, validity_period
from ...stages import STAGES, Stage
from ...storage.pact_reads import RENDERED_PRODUCT_FIELDS, product_key
from ...units import product_mass

__all__ = [
    "RENDERED_PRODUCT_FIELDS",
    "CfpExtensionData",
    "find_extension",
    "geography",
    "product_key",
    "render_footprint",
]
from .events import iso

SPEC_VERSION = "3.0.0"
EXTENSION_SCHEMA = "https://battery-cfp-connector.dev/schemas/pact-cfp-extension.schema.json"
EXTENSION_DOCS = "https://battery-cfp-connector.dev/docs/api#pact-extension"


def render_footprint(
    *, footprint: Any, product: Any, company_id: str, company_name: str, extension: dict[str, Any] | None
) -> dict[str, Any]:
    """A PACT v3 ProductFootprint; our per-stage values, attestation and evidence go in ``extensions``."""
    ref_start, ref_end = reference_period(product, footprint)
    validity_start, validity_end = validity_period(product, footprint)
    total = Decimal(str(footprint.total))
    positive = sum(
        (Decimal(footprint.stages[s.value]) for s in STAGES if Decimal(footprint.stages[s.value]) > 0), Decimal(0)
    )
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": product.declared_unit,
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": format_decimal(product_mass(product)),
        "referencePeriodStart": iso(ref_start),
        "referencePeriodEnd": iso(ref_end),
        "pcfExcludingBiogenicUptake": format_decimal(total),
        "pcfIncludingBiogenicUptake": format_decimal(total),
        "fossilGhgEmissions": format_decimal(positive),
        "fossilCarbonContent": "0",
        "packagingEmissionsIncluded": False,
        "ccsTechnologicalCO2CaptureIncluded": False,
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067", "PEF"],
        "productOrSectorSpecificRules": [
            {
                "operator": "Other",
                "ruleNames": ["EU 2023/1542 Art. 7 CFB rules"],
                "otherOperatorName": "European Commission",
            }
        ],
        "exemptedEmissionsPercent": "0",
        "boundaryProcessesDescription": "Cradle to gate of this product, plus distribution and end-of-life stages "
        "as declared under Regulation (EU) 2023/1542 Annex II.",
    }
    where = geography(product)
    if where is not None:
        pcf[where[0]] = where[1]
    if footprint.primary_data_share is not None:
        pcf["primaryDataShare"] = format_decimal(footprint.primary_data_share)
    if footprint.dqr:
        pcf["dqi"] = {
            "technologicalDQR": footprint.dqr["technological"],
            "geographicalDQR": footprint.dqr["geographical"],
            "temporalDQR": footprint.dqr["temporal"],
        }
    pf: dict[str, Any] = {
        "id": footprint.id,
        "specVersion": SPEC_VERSION,
        "precedingPfIds": list(footprint.preceding_ids) or None,
        "created": iso(footprint.created_at),
        "status": footprint.status,
        "validityPeriodStart": iso(validity_start),
        "validityPeriodEnd": iso(validity_end),
        "companyName": company_name,
        "companyIds": [company_id],
        "productDescription": product.description or product.name,
        "productIds": list(product.product_ids),
        "productClassifications": list(dict.fromkeys(product.classifications)) or None,  # a set in PACT
        "productNameCompany": product.name,
        "comment": f"Version {footprint.version}; rounding {footprint.rounding}.",
        "pcf": pcf,
    }
    if extension is not None:
        pf["extensions"] = [
            {"specVersion": "2.0.0", "dataSchema": EXTENSION_SCHEMA, "documentation": EXTENSION_DOCS, "data": extension}
        ]
    return {k: v for k, v in pf.items() if v is not None}


def geography(product: Any) -> tuple[str, str] | None:
    """The one geography field a footprint carries, and its value: the plant's subdivision when known, else its
    country; None without a plant (PACT's global granularity).

    PACT v3 (CarbonFootprint's scope rules, a ``oneOf`` in its schema) allows exactly one of geographyRegionOrSubregion,
    geographyCountry and geographyCountrySubdivision, the most specific the data owner reports. The ``geography``
    filter matches this value only, so every footprint it returns carries the value asked for.
    """
    if product.plant_subdivision:
        return "geographyCountrySubdivision", product.plant_subdivision
    if product.plant_country:
        return "geographyCountry", product.plant_country
    return None


def find_extension(pf: dict[str, Any]) -> dict[str, Any] | None:
    for ext in pf.get("extensions") or []:
        if isinstance(ext, dict) and ext.get("dataSchema") == EXTENSION_SCHEMA and isinstance(ext.get("data"), dict):
            return ext["data"]
    return None


class CertificationEntry(BaseModel):
    """A certification credential travelling with a footprint; ``depth`` 0 certifies the footprint's own issuer."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(description="compact JWS, typ cfp-certification+jwt")
    depth: int = Field(ge=0, description="tiers above the footprint's issuer (0 = the issuer itself)")


class CfpExtensionData(BaseModel):
    """``data`` of our PACT DataModelExtension: what a PACT client that ignores extensions never needs."""

    model_config = ConfigDict(extra="forbid")

    stages: dict[Stage, Annotated[str, Field(pattern=DECIMAL_PATTERN)]] = Field(
        description="the four EU life-cycle stages, kg CO2e per declared unit, decimal strings"
    )
    rounding: str = Field(description="rounding rule applied once when the footprint was issued")
    attestation: str | None = Field(None, description="SD-JWT (application/vc+sd-jwt) issued to the requester")
    evidence: Evidence | None = Field(
        None,
        description="the attestation's evidence (decision 0004, v2): the id of its "
        "own package and every package of its tree, each a JWE sealed by its issuer "
        "to verifiers (this one to the verifiers the requester named)",
    )
    certifications: list[CertificationEntry] = Field(default_factory=list)
