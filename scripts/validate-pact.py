#!/usr/bin/env python3
"""Validate PACT v3 ProductFootprints against the ProductFootprint schema of an official PACT OpenAPI file.

The OpenAPI files are never copied into this repository: pass their paths, e.g. a checkout of
wbcsd/data-exchange-protocol (``spec/v3/openapi.yaml``) and of wbcsd/pact-conformance-service
(``src/schemas/openapi_v3_0.yaml``). Validation is done by ``jsonschema`` (JSON Schema 2020-12, the dialect of
OpenAPI 3.1), with the formats date-time (RFC 3339), uuid, uri, urn and decimal checked.

Where the footprints come from (one of):

  --url BASE --client-id ID --client-secret SECRET [--cacert PEM]
        a running node: a token from BASE/auth/token, then every page of GET BASE/3/footprints and
        GET BASE/3/footprints/{id} of each footprint listed
  --demo-dir DIR
        the nodes of ``connector demo`` (its output folder, default demo-output): every footprint a node received
        from its supplier over PACT, as it was served (the ``pact`` column of each node's upstream_footprint table)
  --json FILE [FILE ...]
        files holding a ListFootprints or GetFootprint response, a footprint, or a list of footprints

Exit status: 0 when every footprint is valid against every schema given, 1 when one is not, 2 on a usage error or
when no footprint was found.

Example:
  python scripts/validate-pact.py /tmp/dep/spec/v3/openapi.yaml /tmp/suite/src/schemas/openapi_v3_0.yaml \\
      --demo-dir demo-output
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sqlite3
import ssl
import sys
import urllib.parse
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

try:
    import yaml
    from jsonschema import Draft202012Validator, FormatChecker
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012
except ImportError as exc:  # pragma: no cover - a usage error
    sys.exit(f"needs PyYAML and jsonschema (pip install -e '.[test]'): {exc}")

OPENAPI_URI = "urn:x-validate-pact:openapi"
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$", re.IGNORECASE)
_DECIMAL = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def format_checker() -> FormatChecker:
    """The formats the PACT schema uses, checked here without optional jsonschema extras (which would skip
    date-time and uri silently when missing)."""
    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _RFC3339.match(value):
            return False
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # a real date: a ValueError fails the check
        return True

    @checker.checks("uuid")
    def _uuid(value: object) -> bool:
        return not isinstance(value, str) or bool(_UUID.match(value))

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        return not isinstance(value, str) or bool(urllib.parse.urlsplit(value).scheme) and " " not in value

    @checker.checks("urn")
    def _urn(value: object) -> bool:
        return not isinstance(value, str) or bool(_URN.match(value))

    @checker.checks("decimal")
    def _decimal(value: object) -> bool:
        return not isinstance(value, str) or bool(_DECIMAL.match(value))

    return checker


def validator_for(openapi: Path) -> tuple[Draft202012Validator, str]:
    """A validator of ``components.schemas.ProductFootprint`` of ``openapi`` (its references resolved in the file),
    and the file's ``info.version``."""
    document = yaml.safe_load(openapi.read_text(encoding="utf-8"))
    if "ProductFootprint" not in (document.get("components") or {}).get("schemas", {}):
        raise SystemExit(f"{openapi}: no components.schemas.ProductFootprint")
    # the file's own "#/components/..." references resolve against the whole document
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(OPENAPI_URI, resource)
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": f"{OPENAPI_URI}#/components/schemas/ProductFootprint",
    }
    validator = Draft202012Validator(schema, registry=registry, format_checker=format_checker())
    return validator, str((document.get("info") or {}).get("version", "?"))


# -- sources --------------------------------------------------------------------------------------------------------
def _footprints_in(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict) and "data" in body:
        body = body["data"]
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list) and all(isinstance(x, dict) for x in body):
        return body
    raise SystemExit("not a footprint, a list of footprints or a ListFootprints/GetFootprint response")


def from_json(paths: list[Path]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in paths:
        for i, pf in enumerate(_footprints_in(json.loads(path.read_text(encoding="utf-8")))):
            out.append((f"{path}[{i}]", pf))
    return out


def from_demo(folder: Path) -> list[tuple[str, dict[str, Any]]]:
    """Every footprint the demo's nodes received over PACT, from each node's SQLite database."""
    databases = sorted(folder.rglob("*.sqlite"))
    if not databases:
        raise SystemExit(f"no node database (*.sqlite) under {folder}: run `connector demo` first")
    out = []
    for db in databases:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
            if not conn.execute("select 1 from sqlite_master where name = 'upstreamfootprint'").fetchone():
                continue  # not a node database
            rows = conn.execute("select footprint_id, pact from upstreamfootprint where pact is not null").fetchall()
        for footprint_id, pact in rows:
            out.append((f"{db.parent.name}: {footprint_id}", json.loads(pact)))
    return out


def _open(
    url: str, context: ssl.SSLContext | None, headers: dict[str, str], data: bytes | None = None
) -> tuple[Any, dict[str, str]]:
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 - a URL the developer gives
    with urllib.request.urlopen(request, context=context, timeout=60) as response:  # noqa: S310
        return json.loads(response.read()), dict(response.headers)


def from_node(base: str, client_id: str, secret: str, cacert: str | None) -> list[tuple[str, dict[str, Any]]]:
    """ListFootprints, every page, then GetFootprint of each footprint listed."""
    base = base.rstrip("/")
    context = ssl.create_default_context(cafile=cacert) if base.startswith("https") else None
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    token, _ = _open(
        f"{base}/auth/token",
        context,
        {"authorization": f"Basic {basic}", "content-type": "application/x-www-form-urlencoded"},
        b"grant_type=client_credentials",
    )
    auth = {"authorization": f"Bearer {token['access_token']}"}
    out: list[tuple[str, dict[str, Any]]] = []
    url: str | None = f"{base}/3/footprints?limit=50"
    while url:
        body, headers = _open(url, context, auth)
        out += [(f"ListFootprints {pf.get('id')}", pf) for pf in body["data"]]
        link = headers.get("Link") or headers.get("link") or ""
        match = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', link)
        url = match.group(1) if match else None
    for _, pf in list(out):
        body, _ = _open(f"{base}/3/footprints/{pf['id']}", context, auth)
        out.append((f"GetFootprint {pf['id']}", body["data"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("openapi", nargs="+", type=Path, help="an official PACT v3 OpenAPI file (YAML)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="base URL of a running node")
    source.add_argument("--demo-dir", type=Path, help="the output folder of `connector demo`")
    source.add_argument("--json", type=Path, nargs="+", help="JSON files of footprints")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--cacert", help="CA certificate (PEM) to verify the node's TLS certificate")
    parser.add_argument("--quiet", action="store_true", help="print only the invalid footprints and the summary")
    args = parser.parse_args(argv)

    if args.url:
        if not (args.client_id and args.client_secret):
            parser.error("--url needs --client-id and --client-secret")
        footprints = from_node(args.url, args.client_id, args.client_secret, args.cacert)
    elif args.demo_dir:
        footprints = from_demo(args.demo_dir)
    else:
        footprints = from_json(args.json)
    if not footprints:
        print("no footprint found", file=sys.stderr)
        return 2

    invalid = 0
    for path in args.openapi:
        validator, version = validator_for(path)
        bad = 0
        for name, pf in footprints:
            errors = sorted(validator.iter_errors(pf), key=lambda e: list(e.absolute_path))
            if errors:
                bad += 1
                print(f"INVALID {name} ({pf.get('productIds')}):")
                for error in errors:
                    where = "/".join(map(str, error.absolute_path)) or "(footprint)"
                    message = error.message.replace(repr(error.instance), "the value")  # not the whole object
                    print(f"    {where}: {message[:300]}")
                    for reason in list(
                        dict.fromkeys(e.message.replace(repr(e.instance), "the value") for e in error.context or [])
                    )[:4]:  # oneOf: why
                        print(f"        {reason[:200]}")
            elif not args.quiet:
                print(f"valid   {name}")
        print(f"{path} (version {version}): {len(footprints) - bad}/{len(footprints)} footprints valid")
        invalid += bad
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
