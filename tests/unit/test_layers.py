"""The layering rules of CONTRIBUTING.md, checked on the import graph so they cannot rot silently.

Every ``import`` and ``from ... import`` in ``connector/`` is read from the syntax tree (function-level imports
included: a rule hidden in a function is still a rule broken) and resolved to a ``connector.*`` module.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "connector"

DOMAIN = ("identity", "attestation", "aggregation", "declaration", "verification", "certification")
"""Pure domain packages: signatures, sums, documents; no database, no web, no wire protocol."""

BELOW_DOMAIN = ("errors", "decimals", "units", "stages", "strict_json", "prevalidated", "gc_pause", "schemas")
"""Leaf modules every layer may use."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def graph() -> dict[str, set[str]]:
    """connector module -> the connector modules it imports (any depth of the tree, relative imports resolved)."""
    out: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = _module_name(path)
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names if a.name.startswith("connector"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join([*base, node.module] if node.module else base)
                else:
                    module = node.module or ""
                if module.startswith("connector"):
                    targets.add(module)
                    targets.update(f"{module}.{a.name}" for a in node.names)  # `from . import x` names a module
        out[name] = targets
    modules = set(out)
    return {m: {t for t in ts if t in modules and t != m} for m, ts in out.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _breaking(rule: str, allowed: object) -> list[str]:
    broken = []
    for module, targets in graph().items():
        for target in targets:
            if not allowed(module, target):  # type: ignore[operator]
                broken.append(f"{module} -> {target} ({rule})")
    return sorted(broken)


def test_the_graph_is_read() -> None:
    g = graph()
    assert "connector.api.app" in g and "connector.verification" in g
    assert any(t.startswith("connector.services") for t in g["connector.api.app"] | set().union(*g.values()))


def test_domain_packages_import_no_outer_layer() -> None:
    outer = {"storage", "services", "exchange", "protocols", "api", "cli", "demo"}

    def allowed(module: str, target: str) -> bool:
        return _layer(module) not in DOMAIN or _layer(target) not in outer

    assert _breaking("a domain package imports an outer layer", allowed) == []


def test_the_domain_packages_import_one_way() -> None:
    """identity -> attestation -> aggregation, declaration -> verification -> certification: each imports only those
    to its left (certification is "verify, then sign"; verification never imports it back)."""
    rank = {"identity": 0, "attestation": 1, "aggregation": 2, "declaration": 2, "verification": 3, "certification": 4}

    def allowed(module: str, target: str) -> bool:
        a, b = _layer(module), _layer(target)
        return a == b or a not in rank or b not in rank or rank[b] < rank[a]

    assert _breaking("a domain package imports one to its right", allowed) == []


def test_services_and_the_exchange_core_do_not_import_the_web_layer() -> None:
    def allowed(module: str, target: str) -> bool:
        return _layer(module) not in {"services", "exchange", "storage"} or _layer(target) not in {
            "api",
            "cli",
            "console",
        }

    assert _breaking("services, exchange and storage never import api, cli or console", allowed) == []


def test_nothing_below_the_web_layer_knows_a_wire_protocol() -> None:
    """``connector.protocols`` itself (the adapter interface, the registry of names, PeerError) is neutral; a
    protocol's own folder (``connector.protocols.pact``...) is imported only by protocols/, the app's wiring in api/,
    the CLI, the demo and the wire-format schema generator (connector.schemas)."""

    def allowed(module: str, target: str) -> bool:
        one_protocol = target.startswith("connector.protocols.")
        return not one_protocol or _layer(module) in {"protocols", "api", "cli", "demo", "schemas"}

    assert _breaking("only protocols/, the app's wiring and the CLI import a protocol", allowed) == []


def test_one_protocol_does_not_import_another() -> None:
    def allowed(module: str, target: str) -> bool:
        if _layer(module) != "protocols" or _layer(target) != "protocols":
            return True
        own, other = module.split(".")[2:3], target.split(".")[2:3]
        return not own or not other or own == other

    assert _breaking("protocols/X imports protocols/Y", allowed) == []


def test_sql_is_written_only_in_storage() -> None:
    """select/insert/update/delete/text statements are built in connector/storage only."""
    builders = {"select", "insert", "update", "delete", "text", "func"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        if _layer(module) in {"storage"} or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in {"sqlalchemy", "sqlmodel"}:
                names = {a.name for a in node.names} & builders
                if names:
                    found.append(f"{module}: from {node.module} import {', '.join(sorted(names))}")
    assert found == []


def test_no_module_is_over_400_lines() -> None:
    long = [
        f"{p.relative_to(PACKAGE.parent)}: {n}"
        for p in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in p.parts and (n := len(p.read_text().splitlines())) > 400
    ]
    assert long == []
