#!/usr/bin/env python3
"""Validate io.catenax.pcf payloads against the official JSON Schema of the aspect model, with ``jsonschema``.

    python scripts/validate-catenax-pcf.py SCHEMA_PATH [PAYLOAD.json ...]

SCHEMA_PATH: ``io.catenax.pcf/9.0.0/gen/Pcf-schema.json`` from a checkout of eclipse-tractusx/sldt-semantic-models
(read where it is; nothing is copied into this repository). Without payloads, the script renders a sample footprint
the way the node's PCF API sends it (connector.protocols.catenax) and validates that.

Like scripts/validate-passports.py, a member the model does not define is refused (the schema does not say
``additionalProperties: false``; a consumer of the model would still not know the member), and ``format`` is checked.
Exit status: 0 when every payload is valid, 1 otherwise, 2 on unreadable input.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _passports() -> Any:
    spec = importlib.util.spec_from_file_location("validate_passports", HERE / "validate-passports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["validate_passports"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def sample_payload() -> bytes:
    """A footprint rendered as the PCF API sends it, with an attestation entry (sample data, no database)."""
    from datetime import UTC, datetime
    from decimal import Decimal
    from types import SimpleNamespace

    from connector.protocols.catenax import pcf_model

    fp = SimpleNamespace(
        id="5b2a8c4e-2f1d-4c4b-9a53-0e7f3b1d9c11",
        version=3,
        status="Active",
        stages={
            "raw_material_acquisition": "61.123456789012",
            "main_production": "12.5",
            "distribution": "0.75",
            "end_of_life": "-1.25",
        },
        rounding="decimal-places:12;half-even",
        primary_data_share=Decimal("42.5"),
        dqr={"technological": "1.5", "geographical": "2", "temporal": "1"},
        created_at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        validity_start=None,
        validity_end=None,
    )
    product = SimpleNamespace(
        declared_unit="kilowatt hour",
        name="Battery pack 75 kWh",
        description="NMC811 pack",
        product_ids=["urn:pact:kyushu-pack.example:product:pack-75kwh"],
        classifications=["urn:eclass:27-04-03-01"],
        mass_per_declared_unit=Decimal("6.4"),
        plant_name="Kitakyushu",
        plant_country="JP",
        plant_subdivision="JP-40",
        reference_period_start=datetime(2025, 1, 1, tzinfo=UTC),
        reference_period_end=datetime(2026, 1, 1, tzinfo=UTC),
    )
    ext = {
        "stages": fp.stages,
        "rounding": fp.rounding,
        "attestation": "eyJhbGciOiJFUzI1NiJ9.e30.sig~",
        "evidence": {"id": "pkg-1", "packages": []},
        "certifications": [],
    }
    doc = pcf_model.to_pcf(
        fp,
        product,
        ext,
        company_name="Kyushu Pack",
        company_id="urn:pact:kyushu-pack.example:company:kyushu-pack",
        bpnl="BPNL0000000PACK1",
        plant_bpns="BPNS0000000PACK1",
    )
    return pcf_model.dumps(doc)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 2 if not args else 0
    passports = _passports()
    try:
        schema = passports.read_json(Path(args[0]))
        payloads = [(Path(p).name, passports.read_json(Path(p))) for p in args[1:]] or [
            ("sample", json.loads(sample_payload()))
        ]
    except (OSError, ValueError) as exc:
        print(f"cannot read: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for name, payload in payloads:
        result = passports.validate(schema, payload, fragment=False, name=Path(name))
        errors = list(getattr(result, "errors", []))
        if errors:
            failed += 1
            print(f"{name}: INVALID")
            for error in errors:
                print(f"  {error}")
        else:
            print(f"{name}: valid against {schema.get('x-samm-aspect-model-urn', args[0])}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
