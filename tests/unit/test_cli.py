"""The ``connector`` command on a temporary data folder."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from connector.cli.main import app, load_settings
from connector.services import api_keys
from connector.storage import repositories as repo
from connector.storage.db import make_engine
from tests.conftest import FIXTURE_FILE

ANDES = "urn:pact:andes-lithium.example:company:andes-lithium"
LIOH = "urn:pact:andes-lithium.example:product:lioh-h2o-bg"
GRAPHITE_CO = "urn:pact:inner-graphite.example:company:inner-graphite"
GRAPHITE = "urn:pact:inner-graphite.example:product:synthetic-graphite"
CAM_CO = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"
CAM = "urn:pact:hokuriku-cathode.example:product:cam-nmc811"
KEY_RE = re.compile(r"ck_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    import os

    for name in list(os.environ):
        if name.upper().startswith("CONNECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # anything written outside the data dir would land here, not in the repo


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def init(runner, data: Path, company: str = ANDES):
    return run(runner, "init", "--data-dir", str(data), "--company-id", company, "--company-name", "Test Co")


def test_init_prints_the_admin_key_once(runner, tmp_path):
    data = tmp_path / "node"
    first = init(runner, data)
    assert first.exit_code == 0, first.output
    found = KEY_RE.findall(first.output)
    assert len(found) == 1
    assert (data / "connector.sqlite").exists()
    assert json.loads((data / "node.json").read_text())["company_id"] == ANDES

    engine = make_engine(f"sqlite:///{data / 'connector.sqlite'}")
    with Session(engine) as session:
        key = api_keys.authenticate(session, found[0])
        assert key.role == "admin"

    second = init(runner, data)
    assert second.exit_code == 0, second.output
    assert not KEY_RE.search(second.output)
    assert "already" in second.output
    with Session(engine) as session:
        assert repo.count_admin_keys(session) == 1
    engine.dispose()


def test_data_dir_holds_the_database(runner, tmp_path):
    data = tmp_path / "elsewhere"
    assert init(runner, data).exit_code == 0
    settings = load_settings(data)
    assert settings.database_url == f"sqlite:///{(data / 'connector.sqlite').as_posix()}"
    assert settings.company_id == ANDES
    assert not (tmp_path / ".connector").exists()


def test_explicit_options_beat_the_environment(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("CONNECTOR_COMPANY_ID", "urn:pact:env.example:company:env")
    assert load_settings(tmp_path).company_id == "urn:pact:env.example:company:env"
    assert load_settings(tmp_path, company_id=ANDES).company_id == ANDES


def test_import_and_compute_a_leaf(runner, tmp_path):
    data = tmp_path / "andes"
    assert init(runner, data).exit_code == 0
    imported = run(runner, "import", str(FIXTURE_FILE), "--data-dir", str(data), "--company", ANDES)
    assert imported.exit_code == 0, imported.output
    assert "Imported 1 product" in imported.output

    again = run(runner, "import", str(FIXTURE_FILE), "--data-dir", str(data), "--company", ANDES)
    assert "skipped 1" in again.output

    computed = run(runner, "footprint", "compute", LIOH, "--data-dir", str(data))
    assert computed.exit_code == 0, computed.output
    assert "15.2" in computed.output and "new version" in computed.output
    unchanged = run(runner, "footprint", "compute", LIOH, "--data-dir", str(data))
    assert unchanged.exit_code == 0 and "unchanged" in unchanged.output

    shown = run(runner, "footprint", "show", LIOH, "--data-dir", str(data), "--json")
    assert shown.exit_code == 0, shown.output
    versions = json.loads(shown.output)
    assert len(versions) == 1 and versions[0]["version"] == 1
    assert Decimal(versions[0]["stages"]["raw_material_acquisition"]) == Decimal("15.2")
    assert versions[0]["productIds"] == [LIOH]

    table = run(runner, "footprint", "show", LIOH, "--data-dir", str(data))
    assert table.exit_code == 0 and "15.2" in table.output


def test_import_defaults_to_the_node_company(runner, tmp_path):
    data = tmp_path / "graphite"
    assert init(runner, data, GRAPHITE_CO).exit_code == 0
    imported = run(runner, "import", str(FIXTURE_FILE), "--data-dir", str(data))
    assert imported.exit_code == 0, imported.output
    computed = run(runner, "footprint", "show", GRAPHITE, "--data-dir", str(data), "--json")
    assert json.loads(computed.output) == []
    computed = run(runner, "footprint", "compute", GRAPHITE, "--data-dir", str(data))
    assert computed.exit_code == 0, computed.output
    shown = json.loads(run(runner, "footprint", "show", GRAPHITE, "--data-dir", str(data), "--json").output)
    assert Decimal(shown[0]["total"]) == Decimal("9.1")


def test_errors_exit_non_zero_with_a_message(runner, tmp_path):
    data = tmp_path / "cam"
    assert init(runner, data, CAM_CO).exit_code == 0
    unknown = run(
        runner,
        "import",
        str(FIXTURE_FILE),
        "--data-dir",
        str(data),
        "--company",
        "urn:pact:nobody.example:company:nobody",
    )
    assert unknown.exit_code == 1 and "not in the file" in unknown.output
    assert run(runner, "import", str(FIXTURE_FILE), "--data-dir", str(data)).exit_code == 0
    missing = run(runner, "footprint", "compute", CAM, "--data-dir", str(data))
    assert missing.exit_code == 1
    assert "no upstream footprint" in missing.output
    nothing = run(runner, "footprint", "show", "urn:pact:nobody.example:product:x", "--data-dir", str(data))
    assert nothing.exit_code == 1 and "not found" in nothing.output
    absent = run(runner, "import", str(tmp_path / "nope.json"), "--data-dir", str(data))
    assert absent.exit_code != 0


def test_init_records_the_environment_not_the_defaults(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CONNECTOR_COMPANY_ID", "urn:pact:env.example:company:env")
    monkeypatch.setenv("CONNECTOR_COMPANY_NAME", "Env Co")
    monkeypatch.setenv("CONNECTOR_PUBLIC_URL", "https://env.example:8443")
    result = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["init", "--data-dir", str(tmp_path / "n")])
    assert result.exit_code == 0, result.output
    recorded = json.loads((tmp_path / "n" / "node.json").read_text())
    assert recorded["company_id"] == "urn:pact:env.example:company:env"
    assert recorded["public_url"] == "https://env.example:8443"
    assert "database_url" not in recorded
