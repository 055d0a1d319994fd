"""``connector demo --without-node`` as a user runs it (real node processes over HTTPS): two suppliers at different
tiers run no node, their customers enter their values from the shipped files, and the run ends in a declaration whose
attested coverage is exact (computed here from the chain by decision 0017's definition), verified valid with both
entered inputs listed, and refused when attested values are required, by the CLI and by the verifier node's API.
One demo run serves every check (it is the slow part)."""

from __future__ import annotations

import json
import re
import signal
import ssl
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from tests.chain_coverage import STAGES, declared_coverage, expected_for
from tests.conftest import FIXTURE_FILE

pytestmark = pytest.mark.e2e

NICKEL = "urn:pact:sulawesi-nickel.example:company:sulawesi-nickel"
GRAPHITE = "urn:pact:inner-graphite.example:company:inner-graphite"
PRECURSOR = "urn:pact:kansai-precursor.example:company:kansai-precursor"
CELL = "urn:pact:setouchi-cell.example:company:setouchi-cell"
VERIFIER = "urn:pact:nb.example:company:notified-body-0042"
PACK = "urn:pact:kyushu-pack.example:product:pack-75kwh"
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin"}


def _wait_for(log: Path, proc: subprocess.Popen[bytes], text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = log.read_text(errors="replace")
        if text in shown:
            return shown
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited ({proc.returncode}) before {text!r}:\n{shown}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} within {timeout:g} s:\n{log.read_text(errors='replace')}")


def _verify(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "connector", "verify", str(out / "results" / "bundle.json")]
    args += ["--trust", str(out / "ca" / "root.pem")]
    args += ["--key", str(out / "nodes" / "notified-body-0042" / "identity" / "company.key"), *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=ENV)


def _leftover(marker: str) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines() if marker in line and "connector" in line and "serve" in line]


def test_the_demo_without_two_nodes_ends_exactly_covered_and_refused_on_demand(tmp_path: Path) -> None:
    chain = json.loads(FIXTURE_FILE.read_text())
    out, log = tmp_path / "demo", tmp_path / "demo.log"
    command = [sys.executable, "-m", "connector", "demo", "--out", str(out), "--keep"]
    command += ["--without-node", "sulawesi-nickel,inner-graphite"]
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, cwd=tmp_path, stdout=sink, stderr=subprocess.STDOUT, env=ENV)
    try:
        shown = _wait_for(log, proc, "Nodes keep running", timeout=240)
        # the verifier node's API refuses the same bundle when attested values are required
        keys = json.loads((out / "nodes" / "api-keys.json").read_text())
        assert NICKEL not in keys and GRAPHITE not in keys  # no node ran for them
        bundle = json.loads((out / "results" / "bundle.json").read_text())
        tls = ssl.create_default_context(cafile=str(out / "ca" / "root.pem"))
        nb = keys[VERIFIER]
        with httpx.Client(base_url=f"{nb['url']}/api/v1", headers={"X-API-Key": nb["apiKey"]}, verify=tls) as api:
            strict = api.post("/verify", params={"requireAttested": "true"}, json=bundle)
            lenient = api.post("/verify", json=bundle)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert "Traceback" not in shown

    # the coverage, computed from the chain alone, with the entered values the shipped files state
    nickel = {s: Decimal("7.45") if s == "raw_material_acquisition" else Decimal(0) for s in STAGES}
    graphite = {s: Decimal(0) for s in STAGES} | {
        "raw_material_acquisition": Decimal(4),
        "main_production": Decimal("5.1"),
    }
    want = expected_for(chain, PACK, {NICKEL: nickel, GRAPHITE: graphite})
    declaration = json.loads((out / "results" / "declaration.json").read_text())
    assert declared_coverage(declaration) == (want.coverage, want.total)
    assert declaration["attestedCoverage"]["enteredDeeperTiers"] == want.entered == 2

    # the printed summary: the same figures, the entered suppliers named, the verdict with the coverage
    printed = {
        label: Decimal(value)
        for label, value in re.findall(
            r"│ (raw material acquisition|main production|distribution|end of life|total)"
            r"\s+│\s+([\d.]+) %",
            shown,
        )
    }
    assert printed == {s.replace("_", " "): want.coverage[s] for s in STAGES} | {"total": want.total}
    assert "Sulawesi Nickel Chemicals PT" in shown and "Inner Graphite Anode Materials Ltd." in shown
    assert "sulawesi-nickel.pact.json" in shown and "inner-graphite.document.txt" in shown
    assert f"valid, {declaration['attestedCoverage']['total']} % attested (2 entered inputs)" in shown
    assert "Values equal the fixture: yes" in shown  # the entered values are the ones the suppliers' nodes had

    # the verifier's report lists both entered inputs, at the companies that entered them
    report = json.loads((out / "results" / "verification-report.json").read_text())
    assert report["valid"] is True and report["enteredInputs"] == 2
    assert lenient.status_code == 200 and lenient.json()["valid"] is True
    assert strict.status_code == 200, strict.text
    assert strict.json()["valid"] is False
    assert {(f["company"], f["check"]) for f in strict.json()["failures"]} == {
        (PRECURSOR, "attested"),
        (CELL, "attested"),
    }

    # offline, by the CLI: valid with the coverage; refused (exit 1) with --require-attested
    verified = _verify(out)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    lines = verified.stdout.strip().splitlines()
    assert lines[-1] == f"valid, {report['attestedCoverage']['total']} % attested (2 entered inputs)"
    assert sum(1 for line in lines if "entered input" in line and "from urn:" in line) == 2
    refused = _verify(out, "--require-attested")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stdout.strip().splitlines()[-1] == "INVALID: 2 failure(s)"
    assert _leftover(str(out)) == []
