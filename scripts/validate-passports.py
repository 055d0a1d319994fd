#!/usr/bin/env python3
"""Validate passport exports against the official JSON Schemas of their aspect models, with ``jsonschema``.

    python scripts/validate-passports.py \\
        --whole    BP/io.BatteryPass.CarbonFootprint/1.2.0/gen/CarbonFootprintForBatteries-schema.json \\
                   demo-output/results/battery-pass.json \\
        --fragment CX/io.catenax.battery.battery_pass/6.1.0/gen/BatteryPass-schema.json \\
                   demo-output/results/catenax-battery-pass.json

The schemas are read where they are (a checkout of batterypass/BatteryPassDataModel and of
eclipse-tractusx/sldt-semantic-models); nothing is copied into this repository.

``--whole SCHEMA EXPORT``: EXPORT must be a complete aspect, valid against SCHEMA.

``--fragment SCHEMA EXPORT``: EXPORT carries some members of the aspect, at the model's own nesting, for the
aspect's owner to merge into the rest (decision 0010). It is validated against the same unchanged SCHEMA, and every
error counts except one kind: a ``required`` member missing from an object outside any list (the aspect root, or an
object on the way to a carried member). Those are printed as the sections left to merge. Inside a carried member
(anything in a list, any scalar) nothing is tolerated.

Both modes also refuse a member the model does not define (the official schemas do not say
``additionalProperties: false``; a consumer of the model would still not know the member), and check ``format``
where jsonschema can (``uri`` with a scheme, checked here when jsonschema's optional URI checker is absent).
Exit status: 0 when every export is valid, 1 otherwise, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import codecs
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from jsonschema.validators import validator_for


def read_json(path: Path) -> Any:
    """JSON in UTF-8 or, as some generated SAMM schemas are, UTF-16 with a byte-order mark."""
    raw = path.read_bytes()
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return json.loads(raw.decode("utf-16"))
    return json.loads(raw.decode("utf-8-sig"))


def _format_checker() -> FormatChecker:
    checker = FormatChecker()
    if "uri" not in checker.checkers:  # jsonschema checks uri only with rfc3987 installed

        @checker.checks("uri")
        def _uri(value: object) -> bool:
            if not isinstance(value, str):
                return True
            parts = urlsplit(value)
            return bool(parts.scheme) and not any(c.isspace() for c in value)

    return checker


def _resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow local ``$ref`` (``#/components/schemas/X``), the only kind the generated SAMM schemas use."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"non-local $ref {ref!r}")
        node = root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def unknown_members(root: dict[str, Any], schema: dict[str, Any], value: Any, path: str = "") -> Iterator[str]:
    """JSON pointers of members the model does not define, at any depth."""
    schema = _resolve(root, schema)
    if isinstance(value, dict) and "properties" in schema:
        for key, member in value.items():
            if key not in schema["properties"]:
                yield f"{path}/{key}"
            else:
                yield from unknown_members(root, schema["properties"][key], member, f"{path}/{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from unknown_members(root, schema["items"], item, f"{path}/{i}")


def _pointer(error: ValidationError) -> str:
    return "".join(f"/{p}" for p in error.absolute_path) or "/"


def _left_to_merge(error: ValidationError) -> bool:
    """A required member missing from an object outside any list: a section the aspect's owner merges."""
    return (
        error.validator == "required"
        and isinstance(error.instance, dict)
        and not any(isinstance(p, int) for p in error.absolute_path)
    )


@dataclass
class Result:
    export: Path
    errors: list[str] = field(default_factory=list)
    to_merge: list[str] = field(default_factory=list)


def validate(schema: dict[str, Any], export: Any, *, fragment: bool, name: Path = Path("-")) -> Result:
    """Validate one export; with ``fragment``, missing required members outside lists are listed, not errors."""
    cls = validator_for(schema, default=Draft4Validator)
    validator = cls(schema, format_checker=_format_checker())
    result = Result(name)
    for error in sorted(validator.iter_errors(export), key=lambda e: (_pointer(e), e.message)):
        if fragment and _left_to_merge(error):
            for member in error.validator_value:
                where = f"{_pointer(error).rstrip('/')}/{member}"
                if member not in error.instance and where not in result.to_merge:
                    result.to_merge.append(where)
        else:
            result.errors.append(f"{_pointer(error)}: {error.message}")
    result.errors += [f"{p}: not a member of the model" for p in unknown_members(schema, schema, export)]
    if fragment and isinstance(export, dict) and not export:
        result.errors.append("/: an empty fragment carries nothing")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--whole",
        nargs=2,
        action="append",
        default=[],
        metavar=("SCHEMA", "EXPORT"),
        help="EXPORT is a whole aspect valid against SCHEMA",
    )
    parser.add_argument(
        "--fragment",
        nargs=2,
        action="append",
        default=[],
        metavar=("SCHEMA", "EXPORT"),
        help="EXPORT carries some members of SCHEMA's aspect, for its owner to merge",
    )
    args = parser.parse_args(argv)
    checks = [(Path(s), Path(e), False) for s, e in args.whole] + [(Path(s), Path(e), True) for s, e in args.fragment]
    if not checks:
        parser.error("give at least one --whole or --fragment SCHEMA EXPORT")
    ok = True
    for schema_path, export_path, fragment in checks:
        try:
            schema, export = read_json(schema_path), read_json(export_path)
        except (OSError, ValueError) as e:
            print(f"{export_path}: cannot read: {e}", file=sys.stderr)
            return 2
        result = validate(schema, export, fragment=fragment, name=export_path)
        aspect = schema.get("x-samm-aspect-model-urn", schema_path.name)
        kind = "fragment of" if fragment else "aspect"
        if result.errors:
            ok = False
            print(f"INVALID {export_path} ({kind} {aspect}): {len(result.errors)} error(s)")
            for line in result.errors:
                print(f"  {line}")
        else:
            print(f"valid   {export_path} ({kind} {aspect})")
        if result.to_merge:
            print(f"  left to merge by the aspect's owner ({len(result.to_merge)}): {', '.join(result.to_merge)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
