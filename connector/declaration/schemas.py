"""JSON Schemas of the declaration and its passport exports, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .exports import BatteryPassCarbonFootprint, CatenaxBatteryPassCarbonFootprint
from .models import Declaration

SCHEMAS: dict[str, tuple[type[BaseModel], str]] = {
    "declaration.schema.json": (Declaration, "Art. 7(1) battery carbon footprint declaration (credentialSubject)"),
    "battery-pass-carbon-footprint.schema.json": (
        BatteryPassCarbonFootprint,
        "Battery Pass io.BatteryPass.CarbonFootprint 1.2.0 CarbonFootprintForBatteries, as exported",
    ),
    "catenax-battery-pass-carbon-footprint.schema.json": (
        CatenaxBatteryPassCarbonFootprint,
        "Catena-X io.catenax.battery.battery_pass 6.1.0 sustainability.carbonFootprint and conformity, as exported",
    ),
}


def schema_of(model: type[BaseModel], description: str) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "description": description, **schema}


def render_schemas() -> dict[str, str]:
    """File name -> schema text, exactly as committed under ``schemas/``."""
    return {
        name: json.dumps(schema_of(model, description), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, (model, description) in SCHEMAS.items()
    }


def write_schemas(directory: Path) -> list[Path]:
    """Write the declaration schemas into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m connector.declaration.schemas [dir]
    import sys

    for p in write_schemas(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(p)
