#!/usr/bin/env python3
"""Write docs/api-reference.md from the OpenAPI document of ``create_app`` (a throwaway SQLite node).

    python scripts/gen_api_reference.py            # rewrite docs/api-reference.md
    python scripts/gen_api_reference.py --check    # exit 1 when the committed file is out of date

tests/unit/test_api_reference.py fails when the committed file differs from what this script renders.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "docs" / "api-reference.md"
METHODS = ("get", "post", "put", "patch", "delete")

INTRO = """# API reference

Generated from the OpenAPI document of `create_app` by `scripts/gen_api_reference.py`; do not edit by hand
(`tests/unit/test_api_reference.py` fails when this file is out of date). A running node serves the same document at
`/openapi.json`, and interactive pages at `/docs` (Swagger UI, with "Try it out") and `/redoc` (ReDoc). The node serves
those pages' scripts and styles itself: they work without internet. The request examples below (from the example
chain, `examples/nmc811-chain.json`) are the ones the pages offer; each is tested against its request model.

Three doors, three kinds of credential:

| prefix | for | credential |
|---|---|---|
| `/api/v1` | the company's own staff and systems (operator API) | `X-API-Key: ck_...` with role viewer, editor or admin |
| `/3`, `/peer/v1` | partner nodes and PACT clients (peer API) | `Authorization: Bearer <token>` from `/auth/token` |
| `/auth/token`, `/.well-known/openid-configuration`, `/health` | anyone | `private_key_jwt` (dataspace certificate) or `client_secret_basic` for the token; none otherwise |

Errors are RFC 9457 problem details (`application/problem+json`). Request and response schemas are in the OpenAPI
document; the wire formats of attestations, evidence and declarations are in `schemas/`.
"""


def build_spec() -> dict[str, Any]:
    from connector.api.app import create_app
    from connector.config import Settings

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), company_name="Example Company", run_workers=False)
        app = create_app(settings)
        spec = app.openapi()
        app.state.engine.dispose()
    return spec


def schema_name(schema: dict[str, Any] | None) -> str:
    """A short name for a schema: the component name, ``array of X``, ``A | B``, or the JSON type."""
    if schema is None:
        return "-"
    if not schema:
        return "any"
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            names = [schema_name(s) for s in schema[key]]
            return " \\| ".join(n for n in names if n != "`null`") + (" or null" if "`null`" in names else "")
    kind = schema.get("type")
    if kind == "array":
        return f"array of {schema_name(schema.get('items'))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {schema_name(schema['additionalProperties'])}"
    if kind:
        suffix = f" ({schema['format']})" if "format" in schema else ""
        if "enum" in schema:
            suffix = " (" + ", ".join(f"`{v}`" for v in schema["enum"]) + ")"
        return f"`{kind}`{suffix}"
    return "any"


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_operation(path: str, method: str, op: dict[str, Any], schemes: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    if op.get("summary"):
        lines += [f"**{op['summary']}**", ""]
    if op.get("description"):
        lines += [op["description"].strip(), ""]
    for requirement in op.get("security") or []:
        for name in requirement:
            scheme = schemes.get(name, {})
            where = f"`{scheme['name']}` {scheme['in']}" if "name" in scheme else scheme.get("scheme", name)
            lines += [f"Authentication: {where} ({cell(scheme.get('description', name))})", ""]
    params = op.get("parameters") or []
    if params:
        lines += ["| parameter | in | required | type | description |", "|---|---|---|---|---|"]
        for p in params:
            lines.append(
                f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} | "
                f"{schema_name(p.get('schema'))} | {cell(p.get('description', '') or p.get('schema', {}).get('description', ''))} |"
            )
        lines.append("")
    body = op.get("requestBody")
    if body:
        for content_type, media in body.get("content", {}).items():
            required = " (required)" if body.get("required") else ""
            lines.append(f"Request body{required}: `{content_type}` {schema_name(media.get('schema'))}")
            for name, example in (media.get("examples") or {}).items():
                lines += ["", f"Example `{name}`: {cell(example.get('summary', ''))}"]
                if example.get("description"):
                    lines += ["", cell(example["description"])]
                lines += ["", "```json", json.dumps(example.get("value"), indent=2, ensure_ascii=False), "```"]
        lines.append("")
    responses = op.get("responses") or {}
    if responses:
        lines += ["| response | description | body |", "|---|---|---|"]
        for code, resp in responses.items():
            content = resp.get("content") or {}
            bodies = ", ".join(f"`{t}` {schema_name(m.get('schema'))}" for t, m in content.items()) or "-"
            lines.append(f"| {code} | {cell(resp.get('description', ''))} | {bodies} |")
        lines.append("")
    return lines


def render(spec: dict[str, Any]) -> str:
    schemes = spec.get("components", {}).get("securitySchemes", {})
    groups: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, ops in spec["paths"].items():
        for method in METHODS:
            if method in ops:
                tag = (ops[method].get("tags") or ["other"])[0]
                groups.setdefault(tag, []).append((path, method, ops[method]))
    lines = [INTRO, f"API version {spec['info']['version']}, OpenAPI {spec['openapi']}.", "", "## Contents", ""]
    for tag, ops in groups.items():
        lines.append(f"- **{tag}**: " + ", ".join(f"`{m.upper()} {p}`" for p, m, _ in ops))
    lines.append("")
    for tag, ops in groups.items():
        lines += [f"## {tag}", ""]
        for path, method, op in ops:
            lines += render_operation(path, method, op, schemes)
    return "\n".join(lines).rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args()
    text = render(build_spec())
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT} is out of date: run python scripts/gen_api_reference.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text)
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
