"""The exchange core stays protocol-neutral (docs/decisions/0016): nothing under connector/exchange imports a
protocol's package or names a PACT wire detail; it reaches protocols through the registry only."""

from __future__ import annotations

import ast
from pathlib import Path

import connector
from connector import protocols

CORE = Path(connector.__file__).parent / "exchange"


def _imports(path: Path) -> list[str]:
    """The absolute names of the modules ``path`` imports (relative imports resolved against connector.exchange)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = ["connector", "exchange"][: 2 - (node.level - 1)] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names.extend(f"{module}.{alias.name}" for alias in node.names)
    return names


def test_the_core_imports_no_protocol_package() -> None:
    found = {
        f"{path.name}: {name}"
        for path in CORE.glob("*.py")
        for name in _imports(path)
        if name.startswith("connector.protocols.") and name.split(".")[2] in protocols.KNOWN
    }
    assert found == set()


def test_the_core_names_no_pact_wire_detail() -> None:
    for path in CORE.glob("*.py"):
        text = path.read_text()
        for detail in ("org.wbcsd", "/3/", "requestEventId", "pfIds", "x-cfpconnector"):
            assert detail not in text, f"{path.name} names {detail}"


def test_every_known_protocol_has_an_adapter() -> None:
    for name in protocols.KNOWN:
        adapter = protocols.adapter(name)
        assert adapter.name == name and adapter.router.routes
