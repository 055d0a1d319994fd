"""Each benchmark runs once at its smallest size: the bench code keeps working. No timing is asserted."""

from __future__ import annotations

import shutil

import pytest

bench = pytest.importorskip("bench.common")


def test_attestation_smoke() -> None:
    from bench import attestation

    rows = attestation._case(attestation.dataspace(), 1, 5, 1)
    assert [r.case.split(" (")[0] for r in rows] == ["issue", "verify", "verify as the customer, no disclosures"]
    assert all(r.measured > 0 and r.ratio for r in rows)


def test_verification_smoke() -> None:
    from bench import verification
    from bench.synth import dataspace, deep_bundle

    ds = dataspace()
    bundle, n = deep_bundle(ds, 8, depth=3)
    verification._verifier(bundle.to_json(), ds)()  # raises unless the synthetic bundle verifies
    assert n == 9 and len(ds.issued) == n


def test_calculation_smoke() -> None:
    from bench import calculation
    from connector.aggregation.engine import OwnLine, compute_footprint
    from connector.stages import Stage

    result = compute_footprint([OwnLine(Stage.MAIN_PRODUCTION, calculation.Decimal(1))], calculation.bom(50))
    assert result.total > 0


def test_propagation_smoke() -> None:
    from bench import propagation

    rows = propagation.run(cases=[(2, 1)])
    assert rows[0].measured > 0 and rows[0].extra["attestations"] == 2


@pytest.mark.e2e
def test_pact_api_smoke() -> None:
    from bench import api_case, pact_api

    try:
        rows = pact_api.run(n=2, seconds=0.3, backends=("sqlite",), reference=shutil.which("node") is not None)
    except api_case.Skip as exc:  # uvicorn could not start here
        pytest.skip(str(exc))
    measured = [r for r in rows if r.extra.get("errors") is not None]
    assert measured and all(r.measured > 0 and r.extra["errors"] == 0 for r in measured)


@pytest.mark.e2e
def test_ouranos_api_smoke() -> None:
    from bench import api_case, ouranos_api

    try:
        rows = ouranos_api.run(n=2, seconds=0.3, backends=("sqlite",))
    except api_case.Skip as exc:  # uvicorn could not start here
        pytest.skip(str(exc))
    assert rows and all(r.measured > 0 and r.extra["errors"] == 0 for r in rows)


def test_fault_harness_copies_every_line_per_cycle_and_kills_only_middle_nodes() -> None:
    import json

    from bench import faults
    from connector.demo.chain import pack_maker_of
    from connector.demo.chains import DEFAULT_CHAIN

    original = json.loads(DEFAULT_CHAIN.read_text())
    doc = faults.copied_chain(original, 3)
    by_id = {p["productId"]: p for c in doc["companies"] for p in c["products"]}
    for company, was in zip(doc["companies"], original["companies"], strict=True):
        if company["companyId"] != doc["declaration"]["issuerCompanyId"]:
            assert len(company["products"]) == 3 * len(was["products"])
    for product in by_id.values():  # every supplier line points at a product of the same copy
        k = product["productId"].rsplit("-r", 1)[1]
        for line in product["bom"]:
            if "supplierProductId" in line:
                assert line["supplierProductId"].endswith(f"-r{k}") and line["supplierProductId"] in by_id
    assert "expected" not in doc and pack_maker_of(doc) == pack_maker_of(original)
    middle = faults.middle_nodes(doc)
    assert pack_maker_of(doc) in middle and doc["declaration"]["issuerCompanyId"] not in middle
    leaves = [
        c["companyId"]
        for c in original["companies"]
        if c["products"] and all(not any("supplierCompanyId" in ln for ln in p["bom"]) for p in c["products"])
    ]
    assert leaves and not set(leaves) & set(middle)


def test_the_benchmarks_import_without_the_test_extras() -> None:
    """``python -m bench`` needs no pytest (it once imported tests.conftest, which does)."""
    import subprocess
    import sys
    from pathlib import Path

    modules = [
        "bench.__main__",
        "bench.api_case",
        "bench.attestation",
        "bench.calculation",
        "bench.faults",
        "bench.pact_api",
        "bench.propagation",
        "bench.verification",
        "bench.synth",
    ]
    code = (
        "import sys; sys.modules['pytest'] = None\n"  # any import of pytest now fails
        f"import importlib\nfor name in {modules!r}:\n    importlib.import_module(name)\n"
    )
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # imports inside functions too (the one that needed pytest was in a function)
    import ast

    for path in sorted((root / "bench").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] != "pytest" and name != "tests.conftest", f"{path.name} imports {name}"


@pytest.mark.e2e
def test_catenax_api_smoke() -> None:
    from bench import api_case, catenax_api

    try:
        rows = catenax_api.run(n=2, seconds=0.3, backends=("sqlite",))
    except api_case.Skip as exc:  # uvicorn could not start here
        pytest.skip(str(exc))
    assert rows[0].measured > 0 and rows[0].extra["errors"] == 0


def test_console_smoke() -> None:
    from bench import console

    rows = console.run(quick=True, products=5, requests=20)
    assert [r.case.split(",")[0] for r in rows] == ["dashboard", "products list", "product page", "requests (incoming)"]
    assert all(r.measured > 0 for r in rows)
