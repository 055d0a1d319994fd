"""What a serving process holds: one process per SQLite database (a second ``connector serve`` is refused), and a
worker slot whose lease holder id a process started after a crash takes over."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from connector import runtime
from connector.cli.main import app
from connector.config import Settings
from connector.storage import db

from .cli_node import init_node

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

    data = init_node(tmp_path, monkeypatch)
    runner = CliRunner()
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


@pytest.mark.parametrize("given", [["--workers", "2"], []])
def test_several_workers_on_sqlite_are_refused_before_anything_starts(tmp_path, monkeypatch, given) -> None:
    import uvicorn

    data = init_node(tmp_path, monkeypatch)
    runner = CliRunner()
    served: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: served.append(kw))
    if not given:
        monkeypatch.setenv("CONNECTOR_SERVE_WORKERS", "2")  # the setting, as the option
    refused = runner.invoke(app, ["serve", "--data-dir", str(data), "--insecure-dev", *given])
    assert refused.exit_code != 0 and not served
    text = " ".join(refused.output.split())
    assert "--workers 2 needs PostgreSQL" in text and "Traceback" not in refused.output
    assert not (data / "connector.sqlite.lock").exists()  # refused before it claimed anything


class FakeSupervisor:
    """uvicorn's ``Multiprocess`` as ``serve_workers`` uses it: made with the config and the socket, run, then its
    worker processes' exit statuses read."""

    made: list[FakeSupervisor] = []
    exit_statuses: tuple[int, ...] = (-15, -15)  # stopped by the SIGTERM the parent passed on

    def __init__(self, config: object, sockets: list[object]) -> None:
        self.config, self.sockets, self.processes = config, sockets, []
        FakeSupervisor.made.append(self)

    def run(self) -> None:
        self.processes = [SimpleNamespace(pid=100 + i, exitcode=c) for i, c in enumerate(self.exit_statuses)]


@pytest.fixture
def workers_node(tmp_path, monkeypatch):
    """A PostgreSQL node's data dir whose ``serve --workers`` runs :class:`FakeSupervisor`, migrating nothing."""
    import uvicorn
    import uvicorn.supervisors

    from connector.cli import serve as serve_module

    data = tmp_path / "node"
    data.mkdir()
    config = {"company_id": ANDES, "company_name": "A", "database_url": "postgresql://u@db.example/connector"}
    (data / "node.json").write_text(json.dumps(config))
    for name in (serve_module.WORKER_DATA_DIR, serve_module.WORKER_INSECURE_DEV, "CONNECTOR_TOKEN_SECRET"):
        monkeypatch.setenv(name, "")  # what serve sets for its workers is undone after the test
        monkeypatch.delenv(name)
    FakeSupervisor.made = []
    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeSupervisor)
    monkeypatch.setattr(uvicorn.Config, "bind_socket", lambda self: "the socket")
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: pytest.fail("uvicorn.run hides a start-up failure"))
    migrated: list[str] = []
    monkeypatch.setattr(db, "create_schema", lambda engine: migrated.append(engine.dialect.name))
    return data, migrated


def test_several_workers_on_postgresql_run_from_the_data_dir(workers_node, monkeypatch) -> None:
    from connector.cli import serve as serve_module

    data, migrated = workers_node
    started = CliRunner().invoke(app, ["serve", "--data-dir", str(data), "--insecure-dev", "--workers", "3"])
    assert started.exit_code == 0, started.output
    ((supervisor),) = FakeSupervisor.made
    config = supervisor.config
    assert config.app == "connector.cli.serve:worker_app" and config.factory is True and config.workers == 3
    assert supervisor.sockets == ["the socket"]
    assert config.proxy_headers is False  # uvicorn's default trusts X-Forwarded-For from loopback (throttle bypass)
    assert config.timeout_worker_healthcheck == serve_module.WORKER_START_SECONDS
    assert os.environ[serve_module.WORKER_DATA_DIR] == str(data.resolve())
    assert os.environ[serve_module.WORKER_INSECURE_DEV] == "1"
    assert os.environ["CONNECTOR_TOKEN_SECRET"]  # one secret for all the workers: tokens and cookies hold on each
    assert migrated == ["postgresql"]  # once, in the parent, before the workers start


@pytest.mark.parametrize(("statuses", "failed"), [((3, -15), "process 100"), ((3, 3), "processes 100, 101")])
def test_workers_that_failed_to_start_fail_serve(workers_node, monkeypatch, statuses, failed) -> None:
    """uvicorn's supervisor ends after a worker's start-up failure as after a SIGTERM; serve tells them apart by
    the workers' exit statuses, so a service manager sees a failed node (tests/e2e/test_serve_workers.py: real
    workers)."""
    data, _ = workers_node
    monkeypatch.setattr(FakeSupervisor, "exit_statuses", statuses)
    ended = CliRunner().invoke(app, ["serve", "--data-dir", str(data), "--insecure-dev", "--workers", "2"])
    assert ended.exit_code == 3, ended.output
    said = " ".join(ended.stderr.split())
    assert f"error: worker {failed} failed to start" in said and "every worker was stopped" in said, said


def test_a_worker_that_cannot_start_stops_the_supervisor(monkeypatch) -> None:
    from uvicorn.config import STARTUP_FAILURE

    from connector.cli import serve as serve_module

    with pytest.raises(SystemExit) as stopped:  # no data dir handed over: a refusal, not a restart loop
        serve_module.worker_app()
    assert stopped.value.code == STARTUP_FAILURE


def test_one_worker_process_of_a_data_dir_polls() -> None:
    assert runtime.runs_pollers(None)  # an in-process node
    assert runtime.runs_pollers("3f2c/0") and not runtime.runs_pollers("3f2c/1")
    assert not runtime.runs_pollers("3f2c/10")


@pytest.mark.parametrize("secret", ["", "short", "x" * 31])
def test_an_empty_or_short_token_secret_is_refused(tmp_path, secret: str) -> None:
    """It is the HMAC key of PACT tokens and console cookies: "" used to fall back to a random key per process
    silently (tokens refused across workers), and a short one could be guessed."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="token_secret"):
        Settings(company_id=ANDES, company_name="A", data_dir=tmp_path, token_secret=secret)
    assert Settings(company_id=ANDES, company_name="A", data_dir=tmp_path, token_secret="x" * 32).token_secret
