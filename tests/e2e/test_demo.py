"""The demo dataspace as real uvicorn processes over HTTPS: the README's first command, and a supplier crash."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from connector.demo.dataspace import DemoDataspace
from tests.conftest import FIXTURE_FILE

pytestmark = pytest.mark.e2e

LITHIUM = "urn:pact:andes-lithium.example:company:andes-lithium"
CATHODE = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"


def _leftover(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if marker in line and "connector" in line and "serve" in line]


def test_connector_demo_ends_valid_with_the_fixture_values_and_leaves_nothing_running(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    # no --fixture: the chain shipped in the package, as a user's clone or pip install has it
    proc = subprocess.run(
        [sys.executable, "-m", "connector", "demo", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid" in proc.stdout and "INVALID" not in proc.stdout
    report = (out / "results" / "verification-report.json").read_text()
    assert '"valid": true' in report

    declared = json.loads((out / "results" / "declaration.json").read_text())
    expected = json.loads(FIXTURE_FILE.read_text())["expected"]["declaration"]
    assert Decimal(declared["carbonFootprint"]["value"]) == Decimal(expected["total"])
    assert {s["stage"]: Decimal(s["value"]) for s in declared["stages"]} == {
        k: Decimal(v) for k, v in expected.items() if k in {s["stage"] for s in declared["stages"]}
    }
    assert _leftover(str(out)) == []

    # the bundle verifies offline too, with the verifier's key, through the CLI; it carries both CAs' CRLs, current at
    # every signing time, so the strict revocation check passes as well
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "connector",
            "verify",
            str(out / "results" / "bundle.json"),
            "--trust",
            str(out / "ca" / "root.pem"),
            "--key",
            str(out / "nodes" / "notified-body-0042" / "identity" / "company.key"),
            "--cert",
            str(out / "nodes" / "notified-body-0042" / "identity" / "company.chain.pem"),
            "--require-crl",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert verify.stdout.strip().splitlines()[-1] == "valid, fully attested"

    # the automaker's node, stopped, declares again from its database through the CLI
    declare = subprocess.run(
        [
            sys.executable,
            "-m",
            "connector",
            "declare",
            str(FIXTURE_FILE),
            "--data-dir",
            str(out / "nodes" / "nippon-motors"),
            "--out",
            str(tmp_path / "cli"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert declare.returncode == 0, declare.stdout + declare.stderr
    assert "0.164679" in declare.stdout
    assert json.loads((tmp_path / "cli" / "bundle.json").read_text())["bundleVersion"] == "2"
    assert "the automaker merges" in " ".join(declare.stdout.split())  # no passport: the fragment, and what to merge

    # with the automaker's passport the Catena-X file is the whole aspect; a passport lacking a required member is
    # refused before anything is declared
    passport = json.loads(FIXTURE_FILE.with_name("nmc811-catenax-passport.json").read_text())
    whole = _declare_cli(out, tmp_path / "whole", FIXTURE_FILE.with_name("nmc811-catenax-passport.json"))
    assert whole.returncode == 0, whole.stdout + whole.stderr
    written = json.loads((tmp_path / "whole" / "catenax-battery-pass.json").read_text())
    assert set(passport) <= set(written) and written["sustainability"]["carbonFootprint"]
    del passport["metadata"]
    (tmp_path / "lacking.json").write_text(json.dumps(passport))
    lacking = _declare_cli(out, tmp_path / "lacking", tmp_path / "lacking.json")
    assert lacking.returncode != 0 and "/metadata" in " ".join((lacking.stdout + lacking.stderr).split())
    assert "Traceback" not in lacking.stdout + lacking.stderr
    assert not (tmp_path / "lacking").exists()


def _declare_cli(demo: Path, out: Path, passport: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "connector",
            "declare",
            str(FIXTURE_FILE),
            "--data-dir",
            str(demo / "nodes" / "nippon-motors"),
            "--out",
            str(out),
            "--catenax-passport",
            str(passport),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_connector_demo_runs_a_chain_without_an_expected_section(tmp_path: Path) -> None:
    document = json.loads(FIXTURE_FILE.read_text())
    want = document.pop("expected")["declaration"]
    chain = tmp_path / "my-chain.json"
    chain.write_text(json.dumps(document))
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "connector", "demo", "--fixture", str(chain), "--out", str(out), "--timeout", "90"],
        capture_output=True,
        text=True,
        timeout=240,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "no expected section" in proc.stdout and "fixture expects" not in proc.stdout
    assert want["total"] in proc.stdout  # the declared values are printed all the same
    assert "valid" in proc.stdout and "INVALID" not in proc.stdout


def test_a_supplier_killed_during_the_demo_answers_after_restart(tmp_path: Path) -> None:
    space = DemoDataspace(FIXTURE_FILE, tmp_path / "demo")
    space.prepare()
    try:
        space.start_all()
        asyncio.run(space.wait_healthy())
        space.kill(LITHIUM)
        asyncio.run(space.request_pack())

        async def failed_delivery() -> None:
            async with space.client(CATHODE) as cathode:
                for _ in range(600):
                    items = (await cathode.get("/outbox")).json()["items"]
                    if any(m["lastError"] and m["state"] == "pending" for m in items):
                        return
                    await asyncio.sleep(0.1)
            raise AssertionError("the cathode maker never failed to reach the stopped refiner")

        asyncio.run(failed_delivery())
        space.start(LITHIUM)
        asyncio.run(space.wait_healthy([LITHIUM]))
        asyncio.run(space.wait_for_pack(timeout=120))
        result = asyncio.run(space.declare_and_verify())
        assert result["report"]["valid"] is True, result["report"]["failures"]
        assert result["declaration"]["carbonFootprint"]["value"] == "0.164679"
    finally:
        space.stop_all()
    assert _leftover(str(tmp_path)) == []


def test_plain_http_is_refused_by_a_node_serving_tls(tmp_path: Path) -> None:
    space = DemoDataspace(FIXTURE_FILE, tmp_path / "demo")
    space.prepare()
    try:
        space.start(LITHIUM)
        asyncio.run(space.wait_healthy([LITHIUM]))
        node = space.nodes[LITHIUM]
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{node.port}/health", timeout=5)
    finally:
        space.stop_all()


def _run_demo_variant(tmp_path: Path, option: str) -> tuple[Path, str]:
    """``connector demo <option>`` in a subprocess; asserts it ended valid with the fixture's values and returns
    its output folder and stdout."""
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "connector", "demo", option, "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "valid" in proc.stdout and "INVALID" not in proc.stdout
    assert "Values equal the fixture: yes" in proc.stdout
    return out, proc.stdout


def test_connector_demo_over_catena_x_for_one_pair_ends_valid_and_exact(tmp_path: Path) -> None:
    import sqlite3

    out, _ = _run_demo_variant(tmp_path, "--catenax")
    with sqlite3.connect(out / "nodes" / "nippon-motors" / "connector.sqlite") as db:
        partner = db.execute(
            "SELECT protocol, bpnl FROM partner WHERE company_id = ?",
            ("urn:pact:kyushu-pack.example:company:kyushu-pack",),
        ).fetchone()
        asked = db.execute("SELECT protocol, state FROM cfprequest WHERE direction = 'outgoing'").fetchall()
    assert partner[0] == "catenax" and partner[1].startswith("BPNL")
    assert ("catenax", "fulfilled") in asked
    assert _leftover(str(out)) == []


def test_connector_demo_over_ouranos_for_one_pair_ends_valid_and_exact(tmp_path: Path) -> None:
    import sqlite3

    out, stdout = _run_demo_variant(tmp_path, "--ouranos")
    said = " ".join(stdout.split())
    assert "Ouranos hop: Kyushu Battery Systems Corp. asked Setouchi Cell Manufacturing K.K. over Ouranos DTS" in said
    assert "linked its cell to the trade" in said
    cell_co = "urn:pact:setouchi-cell.example:company:setouchi-cell"
    pack_co = "urn:pact:kyushu-pack.example:company:kyushu-pack"
    with sqlite3.connect(out / "nodes" / "kyushu-pack" / "connector.sqlite") as db:
        asked = db.execute(
            "SELECT protocol, state FROM cfprequest WHERE direction = 'outgoing' AND company_id = ?", (cell_co,)
        ).fetchall()
        trades = db.execute("SELECT count(*) FROM ouranoslink WHERE kind = 'trade'").fetchone()[0]
        basis = db.execute("SELECT basis FROM upstreamfootprint WHERE supplier_company_id = ?", (cell_co,)).fetchall()
    assert asked == [("ouranos", "fulfilled")] and trades == 1 and basis == [("attested",)]
    with sqlite3.connect(out / "nodes" / "setouchi-cell" / "connector.sqlite") as db:
        linked = db.execute(
            "SELECT state, product_id, verifier_certs FROM cfprequest WHERE direction = 'incoming' AND company_id = ?",
            (pack_co,),
        ).fetchall()
    assert len(linked) == 1 and linked[0][0] == "fulfilled" and linked[0][1]
    assert "BEGIN CERTIFICATE" in linked[0][2]  # sealed to the notified body named when linking
    assert _leftover(str(out)) == []
