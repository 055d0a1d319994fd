"""What a serving process holds: one process per SQLite database (a second ``connector serve`` is refused), and a
worker slot whose lease holder id a process started after a crash takes over."""

from __future__ import annotations

import os

import pytest
from typer.testing import CliRunner

from connector import runtime
from connector.cli.main import app
from connector.config import Settings

ANDES = "urn:pact:andes-lithium.example:company:andes-lithium"


@pytest.fixture(autouse=True)
def released(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.upper().startswith("CONNECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield
    runtime.release_all()


def test_a_sqlite_database_is_held_by_one_process(tmp_path) -> None:
    settings = Settings(company_id=ANDES, company_name="A", data_dir=tmp_path)
    lock = runtime.hold_database(settings)
    assert lock == tmp_path / "connector.sqlite.lock" and oct(lock.stat().st_mode & 0o777) == "0o600"
    with pytest.raises(runtime.DatabaseInUse, match="already serving"):
        runtime.hold_database(settings)  # another open file of the lock: as another process would
    runtime.release_all()  # the first process ended (the kernel drops a killed process's locks too)
    assert runtime.hold_database(settings) == lock


def test_postgresql_takes_several_processes(tmp_path) -> None:
    settings = Settings(
        company_id=ANDES, company_name="A", data_dir=tmp_path, database_url="postgresql://u@db.example/connector"
    )
    assert runtime.hold_database(settings) is None and runtime.hold_database(settings) is None


def test_a_second_serve_on_one_sqlite_data_dir_is_refused_in_one_line(tmp_path, monkeypatch) -> None:
    import uvicorn

    data = tmp_path / "node"
    runner = CliRunner()
    made = runner.invoke(app, ["init", "--data-dir", str(data), "--company-id", ANDES, "--company-name", "A"])
    assert made.exit_code == 0, made.output
    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.append(kw))
    import inspect

    from connector.cli.main import load_settings, serve

    runtime.hold_database(load_settings(data))  # the first serve, still running
    dev = ["--insecure-dev"] if "insecure_dev" in inspect.signature(serve).parameters else []  # no identity here
    second = runner.invoke(app, ["serve", "--data-dir", str(data), *dev])
    assert second.exit_code != 0 and not served
    text = " ".join(second.output.split())  # the console may wrap a long line
    assert "another connector process is already serving" in text
    assert "Traceback" not in second.output


def test_a_restarted_process_takes_its_slot_and_holder_id_back(tmp_path) -> None:
    first = runtime.lease_holder(tmp_path)
    second = runtime.lease_holder(tmp_path)  # another process on the same data dir (PostgreSQL)
    node_id = (tmp_path / runtime.NODE_ID_FILE).read_text().strip()
    assert first == f"{node_id}/0" and second == f"{node_id}/1"
    runtime.release_all()  # both were killed
    assert runtime.lease_holder(tmp_path) == first  # the first to start again reclaims slot 0's leases
