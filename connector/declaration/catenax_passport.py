"""The whole Catena-X ``io.catenax.battery.battery_pass`` 6.1.0 aspect, for checking a merged passport (decision 0010).

The automaker owns the passport; the declaration owns its carbon footprint and DoC id. ``merge_passport`` puts the
declaration's members into the automaker's passport and ``passport_problems`` says, as JSON pointers, what the
official model would refuse in the result, so the connector never writes a passport that does not validate.

The models are split by the aspect's members: :mod:`.catenax_passport_parts` (identification to materials),
:mod:`.catenax_passport_performance` and, here, the rest and the whole aspect. They are written from what the
published JSON Schema requires (members, required ones, enumerations, patterns, minimums); they check and are never
dumped: the passport is written as the automaker gave it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, ValidationError

from .catenax_passport_parts import (
    BPNL_PATTERN,
    DATE_PATTERN,
    UUID_PATTERN,
    Characteristics,
    Doc,
    Identification,
    Materials,
    Operation,
    PartType,
    PassportModel,
    Sustainability,
)
from .catenax_passport_performance import Performance

# --- conformity, safety, sources, metadata, commercial, handling ---------------------------------------------


class Conformity(PassportModel):
    declarationOfConformityId: str | None = None
    declarationOfConformity: list[Doc]
    resultOfTestReport: list[Doc]
    thirdPartyAssurance: list[Doc]
    dueDiligencePolicy: list[Doc]


class ExtinguishAgent(PassportModel):
    document: list[Doc] | None = None
    media: str
    fireClass: str


class Safety(PassportModel):
    usableExtinguishAgent: list[ExtinguishAgent]
    safetyMeasures: list[Doc]
    meaningOfLabels: list[Doc]
    safeDischarging: list[Doc] | None = None
    dismantling: list[Doc]
    removalFromAppliance: list[Doc] | None = None


class Source(PassportModel):
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


class Metadata(PassportModel):
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


class Commercial(PassportModel):
    placedOnMarket: str | None = Field(None, pattern=DATE_PATTERN)
    purpose: list[str]


class Producer(PassportModel):
    id: str = Field(pattern=BPNL_PATTERN)


class SparePart(PassportModel):
    producer: list[Producer]
    sparePart: list[PartType]


class Handling(PassportModel):
    content: SparePart
    applicable: bool


class CatenaxBatteryPass(PassportModel):
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
