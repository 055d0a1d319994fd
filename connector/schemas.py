"""JSON Schemas of every wire format, generated from the pydantic models.

``python -m connector.schemas [dir]`` rewrites them (default ``schemas/``); a unit test checks the committed files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .attestation.evidence import Evidence, EvidenceContent
from .attestation.models import (
    AttestationClaims,
    AttestationPayload,
    HiddenClaims,
    InputClaim,
    SealedEvidence,
)
from .certification import CertificationPayload
from .declaration.exports import BatteryPassCarbonFootprint, CatenaxBatteryPassCarbonFootprint
from .declaration.models import Declaration
from .declaration.signing import EvidenceBundle
from .protocols.pact.rendering import CfpExtensionData
from .verification.report import VerificationReport

DRAFT = "https://json-schema.org/draft/2020-12/schema"

SCHEMAS: dict[str, tuple[type[BaseModel], list[type[BaseModel]], str]] = {
    "attestation-claims.schema.json": (
        AttestationPayload,
        [AttestationClaims, HiddenClaims, InputClaim],
        "CfpAttestation SD-JWT issuer payload (W3C VC 2.0 + JWT claims, typ vc+sd-jwt). $defs also hold the clear "
        "claims as a flat object (AttestationClaims) and the hidden claims the disclosures open (HiddenClaims: "
        "disclosure ownEmissions = StageValues, inputCount = integer, input:<i> = InputClaim).",
    ),
    "evidence-package.schema.json": (
        SealedEvidence,
        [EvidenceContent, Evidence],
        "Evidence package: JWE JSON general serialization (ECDH-ES+A256KW, A256GCM) sealed to verifier "
        "certificates; its plaintext is an EvidenceContent document (see $defs), which names each upstream "
        "attestation's package by its random id. An attestation's Evidence (see $defs) is the id of its own package "
        "and the map of every package of its tree, side by side (flat, decision 0004).",
    ),
    "pact-cfp-extension.schema.json": (
        CfpExtensionData,
        [],
        "data of the PACT v3 DataModelExtension (specVersion 2.0.0) a node adds to each ProductFootprint: stage "
        "values, the attestation for the requester, evidence sealed to the requester's verifiers, certifications.",
    ),
    "declaration.schema.json": (Declaration, [], "Art. 7(1) battery carbon footprint declaration (credentialSubject)"),
    "battery-pass-carbon-footprint.schema.json": (
        BatteryPassCarbonFootprint,
        [],
        "Battery Pass io.BatteryPass.CarbonFootprint 1.2.0 CarbonFootprintForBatteries, as exported",
    ),
    "catenax-battery-pass-carbon-footprint.schema.json": (
        CatenaxBatteryPassCarbonFootprint,
        [],
        "Catena-X io.catenax.battery.battery_pass 6.1.0 sustainability.carbonFootprint and conformity, as exported",
    ),
    "evidence-bundle.schema.json": (
        EvidenceBundle,
        [EvidenceContent],
        "Evidence bundle for the verifier (bundleVersion 2): the signed declaration (compact JWS, typ vc+jwt, "
        "credentialSubject = Declaration + packAttestationDigest), the pack attestation (SD-JWT) and the id of its "
        "evidence package, every evidence package of the tree by random id (JWE sealed to the verifier, plaintext "
        "EvidenceContent naming upstream packages by id), certification credentials (compact JWS, typ "
        "cfp-certification+jwt), PEM CRLs.",
    ),
    "certification.schema.json": (
        CertificationPayload,
        [],
        "Payload of a certification credential: compact JWS, typ cfp-certification+jwt, x5c of a verifier-role "
        "certificate; sub = attestation_digest of the certified attestation.",
    ),
    "verification-report.schema.json": (
        VerificationReport,
        [],
        "Report of connector verify / verify_bundle: the verdict, a tree of checked objects (declaration, "
        "attestations, certifications) with their checks, and every failure listed flat.",
    ),
}


def schema_of(top: type[BaseModel], extra: list[type[BaseModel]], description: str) -> dict[str, Any]:
    models = [top, *extra]
    _, defs = models_json_schema([(m, "serialization") for m in models], by_alias=True, ref_template="#/$defs/{model}")
    return {"$schema": DRAFT, "description": description, "$ref": f"#/$defs/{top.__name__}", **defs}


def render_schemas() -> dict[str, str]:
    """File name -> schema text, exactly as committed under ``schemas/``."""
    return {
        name: json.dumps(schema_of(top, extra, description), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, (top, extra, description) in SCHEMAS.items()
    }


def write_schemas(directory: Path | str) -> list[Path]:
    """Write every schema into ``directory``; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m connector.schemas [dir]
    import sys

    for p in write_schemas(sys.argv[1] if len(sys.argv) > 1 else "schemas"):
        print(p)
