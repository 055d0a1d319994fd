"""The committed JSON Schemas under schemas/ are exactly what the models generate."""

from __future__ import annotations

import json
from pathlib import Path

from connector.schemas import SCHEMAS, render_schemas, write_schemas
from tests.unit.test_declaration_outputs import BATTERY_PASS_REQUIRED

ROOT = Path(__file__).resolve().parents[2]


def _def(schema: dict, name: str) -> dict:
    return schema["$defs"][name]


def test_committed_schemas_are_current() -> None:
    for name, text in render_schemas().items():
        path = ROOT / "schemas" / name
        assert path.exists(), f"{name} missing: run python -m connector.schemas"
        assert path.read_text(encoding="utf-8") == text, f"{name} is stale: run python -m connector.schemas"


def test_no_stray_schema_files() -> None:
    assert sorted(p.name for p in (ROOT / "schemas").glob("*.json")) == sorted(SCHEMAS)


def test_written_schemas_describe_the_wire_formats(tmp_path: Path) -> None:
    written = {p.name: json.loads(p.read_text()) for p in write_schemas(tmp_path)}
    assert set(written) == set(SCHEMAS)
    declaration = _def(written["declaration.schema.json"], "Declaration")
    assert {
        "manufacturer",
        "batteryModel",
        "manufacturingPlant",
        "carbonFootprint",
        "stages",
        "declarationOfConformityId",
        "studyUrl",
    } <= set(declaration["required"])
    battery_pass = _def(written["battery-pass-carbon-footprint.schema.json"], "BatteryPassCarbonFootprint")
    assert set(battery_pass["required"]) == set(BATTERY_PASS_REQUIRED)
    extension = _def(written["pact-cfp-extension.schema.json"], "CfpExtensionData")
    assert {"stages", "rounding", "attestation", "evidence", "certifications"} <= set(extension["properties"])
    payload = _def(written["attestation-claims.schema.json"], "AttestationPayload")
    assert "credentialSubject" in payload["properties"]
