"""The committed bundle, certification and report schemas are the ones the models generate."""

from __future__ import annotations

import json
from pathlib import Path

from connector.verification.schemas import render_schemas, write_schemas

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schemas_are_current() -> None:
    for name, text in render_schemas().items():
        path = ROOT / "schemas" / name
        assert path.read_text(encoding="utf-8") == text, f"{name} is stale: run python -m connector.verification.schemas"


def test_write_schemas(tmp_path) -> None:
    paths = write_schemas(tmp_path)
    assert sorted(p.name for p in paths) == ["certification.schema.json", "evidence-bundle.schema.json",
                                             "verification-report.schema.json"]
    bundle = json.loads((tmp_path / "evidence-bundle.schema.json").read_text())
    assert bundle["$ref"] == "#/$defs/EvidenceBundle"
    assert set(bundle["$defs"]["EvidenceBundle"]["properties"]) == {"bundleVersion", "declaration", "pack",
                                                                    "certifications", "crls"}
    assert "SealedEvidence" in bundle["$defs"] and "EvidenceContent" in bundle["$defs"]
    cert = json.loads((tmp_path / "certification.schema.json").read_text())
    assert {"iss", "sub", "certifiedCompany", "footprintId", "scope", "iat", "exp", "result"} <= set(
        cert["$defs"]["CertificationPayload"]["properties"])
    report = json.loads((tmp_path / "verification-report.schema.json").read_text())
    assert "VerificationNode" in report["$defs"] and "Failure" in report["$defs"]
