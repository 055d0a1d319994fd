"""The committed JSON Schemas under schemas/ are the ones the models generate."""

from __future__ import annotations

import json
from pathlib import Path

from connector.attestation.schemas import render_schemas, write_schemas

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schemas_are_current() -> None:
    for name, text in render_schemas().items():
        path = ROOT / "schemas" / name
        assert path.read_text(encoding="utf-8") == text, f"{name} is stale: run python -m connector.attestation.schemas"


def test_write_schemas(tmp_path) -> None:
    paths = write_schemas(tmp_path)
    assert sorted(p.name for p in paths) == ["attestation-claims.schema.json", "evidence-package.schema.json"]
    claims = json.loads((tmp_path / "attestation-claims.schema.json").read_text())
    assert claims["$ref"] == "#/$defs/AttestationPayload"
    subject = claims["$defs"]["CredentialSubject"]
    assert "_sd" in subject["properties"] and subject["additionalProperties"] is False
    stage = claims["$defs"]["StageValues"]["properties"]["end_of_life"]
    assert stage["type"] == "string" and "pattern" in stage
    evidence = json.loads((tmp_path / "evidence-package.schema.json").read_text())
    assert evidence["$ref"] == "#/$defs/SealedEvidence" and "EvidenceContent" in evidence["$defs"]
