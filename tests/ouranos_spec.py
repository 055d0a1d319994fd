"""The official DTS OpenAPI (ouranos-ecosystem-idi/data-transaction-system, docs/openapi.yaml), read from the path in
``CONNECTOR_DTS_OPENAPI`` (never copied into this repository), and its response schemas as JSON Schema.

jsonschema (a test dependency already) checks each response body: the spec's OpenAPI 3.0 ``nullable`` is turned
into a ``null`` type and its ``$ref`` are inlined, so no OpenAPI-specific validator is needed.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

ENV = "CONNECTOR_DTS_OPENAPI"


@cache
def spec() -> dict[str, Any] | None:
    path = os.environ.get(ENV)
    if not path:
        return None
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def require_spec() -> dict[str, Any]:
    found = spec()
    if found is None:
        pytest.skip(
            f"{ENV} is not set: give the path of docs/openapi.yaml of ouranos-ecosystem-idi/data-transaction-system"
        )
    return found


def _json_schema(node: Any, components: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_json_schema(n, components) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _json_schema(components[name], components)
    out = {k: _json_schema(v, components) for k, v in node.items() if k not in ("nullable", "example", "examples")}
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        if "allOf" in out:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def operation_key(method: str, path: str, query: dict[str, str]) -> str:
    """The spec's path key (its keys embed the query, e.g. ``/api/v1/datatransport?dataTarget=cfp&traceIds={uuid}``)
    for a call."""
    paths = spec()["paths"]  # type: ignore[index]
    if not path.startswith("/api/v1/"):
        return path
    target = query.get("dataTarget", "")
    candidates = [
        key
        for key, ops in paths.items()
        if key.startswith(f"{path}?dataTarget={target}")
        and method.lower() in ops
        and key.split("?", 1)[1].split("&")[0] == f"dataTarget={target}"
    ]
    named = [k for k in candidates if all(p.split("=")[0] in query for p in k.split("?", 1)[1].split("&")[1:])]
    pool = named or candidates
    return min(pool, key=len) if not named else max(named, key=len)


def check_response(method: str, path: str, query: dict[str, str], status: int, body: Any) -> None:
    """The response matches the official schema of its operation and status (a status the spec does not list for
    the operation fails)."""
    doc = require_spec()
    key = operation_key(method, path, query)
    op = doc["paths"][key][method.lower()]
    assert str(status) in op["responses"], f"{method} {key}: status {status} is not in the spec"
    content = op["responses"][str(status)].get("content")
    if not content:
        return
    schema = _json_schema(content["application/json"]["schema"], doc["components"]["schemas"])
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(body)
