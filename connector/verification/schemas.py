"""JSON Schemas of the evidence bundle, the certification credential payload and the verification report.

``python -m connector.verification.schemas [dir]`` rewrites them (default ``schemas/``); a unit test checks that the
committed files are current.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from ..attestation.models import EvidenceContent
from ..attestation.schemas import schema_of
from ..certification.credential import CertificationPayload
from ..declaration.signing import EvidenceBundle
from .report import VerificationReport

SCHEMAS: dict[str, tuple[type[BaseModel], list[type[BaseModel]], str]] = {
    "evidence-bundle.schema.json": (
        EvidenceBundle,
        [EvidenceContent],
        "Evidence bundle for the verifier (bundleVersion 1): the signed declaration (compact JWS, typ vc+jwt, "
        "credentialSubject = Declaration + packAttestationDigest), the pack attestation (SD-JWT) and its evidence "
        "(JWE sealed to the verifier, plaintext EvidenceContent), certification credentials (compact JWS, typ "
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


def render_schemas() -> dict[str, str]:
    """File name -> schema text, exactly as committed under ``schemas/``."""
    return {
        name: json.dumps(schema_of(top, extra, description), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, (top, extra, description) in SCHEMAS.items()
    }


def write_schemas(directory: Path | str) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m connector.verification.schemas [dir]
    import sys

    for p in write_schemas(sys.argv[1] if len(sys.argv) > 1 else "schemas"):
        print(p)
