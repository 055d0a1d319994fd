"""JSON Schemas of the attestation payload, its hidden claims and the evidence package, from the pydantic models.

``python -m connector.attestation.schemas [dir]`` rewrites them (default ``schemas/``); a unit test checks that the
committed files are current.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .models import (
    AttestationClaims,
    AttestationPayload,
    EvidenceContent,
    HiddenClaims,
    InputClaim,
    SealedEvidence,
)

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
        [EvidenceContent],
        "Evidence package: JWE JSON general serialization (ECDH-ES+A256KW, A256GCM) sealed to verifier "
        "certificates; its plaintext is an EvidenceContent document (see $defs).",
    ),
}


def schema_of(top: type[BaseModel], extra: list[type[BaseModel]], description: str) -> dict[str, Any]:
    models = [top, *extra]
    _, defs = models_json_schema([(m, "serialization") for m in models], by_alias=True,
                                 ref_template="#/$defs/{model}")
    return {"$schema": DRAFT, "description": description, "$ref": f"#/$defs/{top.__name__}", **defs}


def render_schemas() -> dict[str, str]:
    """File name -> schema text, exactly as committed under ``schemas/``."""
    return {
        name: json.dumps(schema_of(top, extra, description), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, (top, extra, description) in SCHEMAS.items()
    }


def write_schemas(directory: Path | str) -> list[Path]:
    """Write the attestation and evidence schemas into ``directory``; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m connector.attestation.schemas [dir]
    import sys

    for p in write_schemas(sys.argv[1] if len(sys.argv) > 1 else "schemas"):
        print(p)
