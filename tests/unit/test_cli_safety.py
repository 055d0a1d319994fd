"""Safe set-up from the command line: a private data folder, init that never drops settings, serve that refuses an
unsafe node, TLS without CBC and with HSTS, one-line errors, the CLI compute publishing like the API's, --version and
``audit check`` (issue 15, items 14-18)."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import Session, select
from typer.testing import CliRunner

from connector import protocols
from connector.api.app import create_app
from connector.cli import main as cli_main
from connector.cli import serve as serve_module
from connector.cli.main import app, load_settings
from connector.config import Settings
from connector.identity.ca import issue_tls_certificate
from connector.identity.files import save_issued
from connector.services import audit
from connector.storage.db import make_engine
from connector.storage.tables import AuditEntry, CfpRequest, Grant, OutboxMessage, Partner, Product
from tests.conftest import FIXTURE_FILE
from tests.pki import make_pki, write_node_files

ANDES = "urn:pact:andes-lithium.example:company:andes-lithium"
LIOH = "urn:pact:andes-lithium.example:product:lioh-h2o-bg"
CAM_CO = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"
KEY_RE = re.compile(r"ck_[0-9a-f]{12}_[A-Za-z0-9_-]{20,}")
PUBLISHED_TO = "urn:pact:kansai-precursor.example:company:kansai-precursor"
WAITING = "urn:pact:oem.example:company:oem"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.upper().startswith("CONNECTOR_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def init(data: Path, company: str = ANDES, *extra: str):
    return run("init", "--data-dir", str(data), "--company-id", company, "--company-name", "Test Co", *extra)


def one_line_error(result, *words: str) -> str:
    """The command failed with exit 1 and one ``error:`` line naming ``words``, no traceback."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def modes(folder: Path) -> dict[str, int]:
    """Permission bits of the folder and everything under it, by path relative to it."""
    found = {".": stat.S_IMODE(folder.stat().st_mode)}
    for path in folder.rglob("*"):
        found[str(path.relative_to(folder))] = stat.S_IMODE(path.stat().st_mode)
    return found


def assert_private(folder: Path) -> None:
    for name, mode in modes(folder).items():
        expected = 0o700 if (folder / name).is_dir() else 0o600
        assert mode == expected, f"{name}: {oct(mode)}"


def signing_node(data: Path, *, tls: bool = False) -> dict[str, Any]:
    """A node.json with a signing identity (and TLS files), the files outside the data folder; workers off."""
    files_dir = data.parent / f"{data.name}-identity"
    files_dir.mkdir()
    pki = make_pki("Safety", at=datetime.now(UTC) - timedelta(days=1))
    issued = pki.company(ANDES, "supplier", name="Andes", at=datetime.now(UTC) - timedelta(hours=1))
    files = write_node_files(pki, issued, files_dir)
    config: dict[str, Any] = {
        "company_id": ANDES,
        "company_name": "Andes",
        "run_workers": False,
        "key_file": str(files["key_file"]),
        "cert_file": str(files["cert_file"]),
        "trust_anchor_files": [str(files["trust_anchor"])],
        "public_url": "https://127.0.0.1:8443",
    }
    if tls:
        tls_issued = issue_tls_certificate(
            pki.inter, ["localhost", "127.0.0.1"], at=datetime.now(UTC) - timedelta(hours=1)
        )
        paths = save_issued(files_dir, "tls", tls_issued)
        config.update(tls_cert_file=str(paths["chain"]), tls_key_file=str(paths["key"]))
    data.mkdir()
    (data / "node.json").write_text(json.dumps(config))
    return config


def in_process(asgi: Any, calls: Any, base_url: str = "http://node") -> Any:
    """Run ``calls(client)`` (async) against the app with its lifespan, as a served node would."""

    async def main() -> Any:
        async with (
            asgi.router.lifespan_context(asgi),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url=base_url) as client,
        ):
            return await calls(client)

    return asyncio.run(main())


class FakeUvicorn:
    """Stands in for ``uvicorn.run``: starts the app (lifespan), makes one write, and records the call."""

    def __init__(self, api_key: str | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.api_key = api_key
        self.health: dict[str, Any] = {}
        self.modes_while_running: dict[str, int] = {}
        self.frozen = 0

    def __call__(self, asgi: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        try:
            in_process(asgi, lambda client: self.start(asgi, client))
        finally:
            gc.unfreeze()  # what the served app froze: this test process goes on with other tests

    async def start(self, asgi: Any, client: httpx.AsyncClient) -> None:
        self.frozen = gc.get_freeze_count()  # a process serving one node freezes what start-up built
        self.health = (await client.get("/health")).json()
        if self.api_key:
            made = await client.post(
                "/api/v1/products",
                headers={"X-API-Key": self.api_key},
                json={
                    "productIds": ["urn:pact:andes-lithium.example:product:li2co3"],
                    "name": "Li2CO3",
                    "declaredUnit": "kilogram",
                },
            )
            assert made.status_code == 201, made.text
        data_dir = asgi.state.settings.data_dir
        assert (data_dir / "connector.sqlite-wal").exists()  # SQLite's own files are checked too
        self.modes_while_running = modes(data_dir)


# 14: the data folder is private ------------------------------------------------------------------------------------


def test_init_serve_and_a_write_leave_every_file_private(tmp_path, monkeypatch):
    data = tmp_path / "node"
    made = init(data)
    assert made.exit_code == 0, made.output
    assert_private(data)
    fake = FakeUvicorn(KEY_RE.findall(made.output)[0])
    monkeypatch.setattr(uvicorn, "run", fake)
    served = run("serve", "--data-dir", str(data), "--insecure-dev")
    assert served.exit_code == 0, served.output
    assert fake.calls[0]["proxy_headers"] is False  # X-Forwarded-For trusted from nobody by default, not loopback
    assert fake.frozen > 0  # start-up's objects moved out of the collector's sight (api/app._freeze_heap)
    assert {"connector.sqlite", "connector.sqlite-wal", "connector.sqlite-shm", "node.json"} <= set(
        fake.modes_while_running
    )
    wrong = {n: oct(m) for n, m in fake.modes_while_running.items() if m != (0o700 if (data / n).is_dir() else 0o600)}
    assert not wrong
    assert_private(data)


def test_a_folder_left_open_by_an_older_version_is_tightened(tmp_path):
    data = tmp_path / "node"
    assert init(data).exit_code == 0
    data.chmod(0o755)
    (data / "node.json").chmod(0o644)
    (data / "connector.sqlite").chmod(0o644)
    (data / "identity").mkdir(mode=0o755)
    (data / "identity" / "crl.pem").write_text("x")
    (data / "identity" / "crl.pem").chmod(0o644)
    assert run("audit", "check", "--data-dir", str(data)).exit_code == 0
    assert_private(data)


# 15: TLS without CBC, HSTS on HTTPS only ---------------------------------------------------------------------------


def test_tls_offers_no_cbc_suite(tmp_path):
    signing_node(tmp_path / "node", tls=True)
    settings = load_settings(tmp_path / "node")
    options = serve_module.tls_options(settings)
    config = uvicorn.Config(app=lambda *a: None, **options)
    config.load()
    assert config.ssl is not None
    suites = config.ssl.get_ciphers()
    tls12 = [c["name"] for c in suites if c["protocol"] == "TLSv1.2"]
    assert tls12 and not [c["name"] for c in suites if not c["aead"]]  # CBC suites are the non-AEAD ones
    assert all(name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name) for name in tls12), tls12
    assert {c["name"] for c in suites if c["protocol"] == "TLSv1.3"}  # TLS 1.3 unchanged


def test_hsts_on_https_responses_only(tmp_path):
    signing_node(tmp_path / "node")
    settings = load_settings(tmp_path / "node")
    node = create_app(settings)

    async def headers(client: httpx.AsyncClient) -> list[httpx.Headers]:
        return [(await client.get(path)).headers for path in ("/health", "/api/v1/products")]  # a 200 and a 401

    for got in in_process(node, headers, "https://node.example"):
        assert got["strict-transport-security"] == "max-age=31536000"
    for got in in_process(node, headers, "http://node.example"):
        assert "strict-transport-security" not in got


# 16: init never drops settings; serve refuses an unsafe node ------------------------------------------------------


def test_init_on_an_existing_node_keeps_its_settings(tmp_path):
    data = tmp_path / "node"
    config = signing_node(data)
    again = run("init", "--data-dir", str(data), "--company-id", ANDES)
    assert again.exit_code == 0, again.output
    assert json.loads((data / "node.json").read_text()) == config
    changed = run("init", "--data-dir", str(data), "--company-name", "Renamed")
    one_line_error(changed, "company_name", "--force")
    assert json.loads((data / "node.json").read_text()) == config
    forced = run("init", "--data-dir", str(data), "--company-name", "Renamed", "--force")
    assert forced.exit_code == 0, forced.output
    assert json.loads((data / "node.json").read_text()) == {**config, "company_name": "Renamed"}


def test_init_needs_a_company_id_and_name(tmp_path):
    one_line_error(run("init", "--data-dir", str(tmp_path / "a"), "--company-name", "X"), "--company-id")
    one_line_error(run("init", "--data-dir", str(tmp_path / "b"), "--company-id", ANDES), "--company-name")
    one_line_error(init(tmp_path / "c", "acme"), "company_id", "urn")
    assert not any((tmp_path / n / "node.json").exists() for n in "abc")


@pytest.mark.parametrize(
    "command",
    [
        ["serve"],
        ["import", str(FIXTURE_FILE)],
        ["footprint", "compute", LIOH],
        ["footprint", "show", LIOH],
        ["declare", str(FIXTURE_FILE)],
        ["audit", "check"],
    ],
)
def test_commands_refuse_a_folder_without_node_json(tmp_path, monkeypatch, command):
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served"))
    one_line_error(run(*command, "--data-dir", str(tmp_path / "typo")), "no node in", "connector init")
    assert not (tmp_path / "typo").exists()


def test_serve_refuses_a_node_without_identity_or_tls(tmp_path, monkeypatch):
    data = tmp_path / "node"
    assert init(data).exit_code == 0
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served"))
    one_line_error(run("serve", "--data-dir", str(data)), "no signing identity", "no TLS", "--insecure-dev")


def test_serve_insecure_dev_says_so(tmp_path, monkeypatch):
    data = tmp_path / "node"
    assert init(data).exit_code == 0
    fake = FakeUvicorn()
    monkeypatch.setattr(uvicorn, "run", fake)
    monkeypatch.setenv("CONNECTOR_INSECURE_DEV", "true")  # the environment cannot set it: only the flag
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served"))
    assert run("serve", "--data-dir", str(data)).exit_code == 1
    monkeypatch.setattr(uvicorn, "run", fake)
    served = run("serve", "--data-dir", str(data), "--insecure-dev")
    assert served.exit_code == 0, served.output
    assert "INSECURE DEVELOPMENT MODE" in served.stderr and "no signing identity" in served.stderr
    assert "insecure development mode" in fake.health["warning"]
    assert "ssl_certfile" not in fake.calls[0]


def test_serve_a_safe_node_with_tls_and_no_warning(tmp_path, monkeypatch):
    data = tmp_path / "node"
    signing_node(data, tls=True)
    fake = FakeUvicorn()
    monkeypatch.setattr(uvicorn, "run", fake)
    served = run("serve", "--data-dir", str(data))
    assert served.exit_code == 0, served.output
    assert "WARNING" not in served.output and "warning" not in fake.health
    assert fake.calls[0]["ssl_ciphers"] == serve_module.TLS12_CIPHERS and fake.calls[0]["ssl_certfile"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_refuses_tls_files_that_do_not_load(tmp_path, monkeypatch, workers):
    """A TLS key that is not the certificate's is one line before anything starts: uvicorn loads the files in each
    worker, before the app, and a worker dying of it is restarted forever (not uvicorn's start-up failure)."""
    data = tmp_path / "node"
    config = signing_node(data, tls=True)
    config.update(tls_key_file=config["key_file"], database_url="postgresql://nobody@127.0.0.1:1/none")
    (data / "node.json").write_text(json.dumps(config))  # the signing key: not the TLS certificate's
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served"))
    monkeypatch.setattr(cli_main, "serve_workers", lambda *a, **k: pytest.fail("served"))
    one_line_error(run("serve", "--data-dir", str(data), "--workers", workers), "cannot load the TLS files")


# 17: the CLI's compute is the API's -------------------------------------------------------------------------------


def _node_with_customers(data: Path) -> tuple[str, str]:
    """A signing node holding LIOH, one customer with a grant (to be told of a new version) and one with a grant and
    a request waiting (to be answered); returns (API key, product id)."""
    signing_node(data)
    made = run("init", "--data-dir", str(data))
    assert made.exit_code == 0, made.output
    assert run("import", str(FIXTURE_FILE), "--data-dir", str(data), "--company", ANDES).exit_code == 0
    engine = make_engine(str(load_settings(data).database_url))
    with Session(engine) as session:
        product = session.exec(select(Product)).one()
        for company in (PUBLISHED_TO, WAITING):
            session.add(
                Partner(company_id=company, name=company, node_url=f"https://{company[9:20]}.example", is_customer=True)
            )
            session.add(Grant(product_id=product.id, company_id=company))
        session.add(
            CfpRequest(
                direction="incoming",
                event_id="evt-waiting",
                company_id=WAITING,
                product_ids=[LIOH],
                product_id=product.id,
                callback_url="https://oem.example",
            )
        )
        session.commit()
        product_id = product.id
    engine.dispose()
    return KEY_RE.findall(made.output)[0], product_id


def _sent(data: Path) -> tuple[list[tuple[str, str, str]], str]:
    """The outbox messages written (company, target, event type) and the waiting request's state."""
    engine = make_engine(str(load_settings(data).database_url))
    with Session(engine) as session:
        sent = sorted(
            (m.company_id, m.target_url, protocols.adapter(m.protocol).wire_message(m, "https://node.test")["type"])
            for m in session.exec(select(OutboxMessage))
        )
        state = session.exec(select(CfpRequest)).one().state
    engine.dispose()
    return sent, state


def test_cli_compute_notifies_and_answers_as_the_api_does(tmp_path):
    by_api, by_cli = tmp_path / "api", tmp_path / "cli"
    key, product_id = _node_with_customers(by_api)

    async def compute(client: httpx.AsyncClient) -> int:
        return (await client.post(f"/api/v1/products/{product_id}/footprints", headers={"X-API-Key": key})).status_code

    assert in_process(create_app(load_settings(by_api)), compute) == 201
    _node_with_customers(by_cli)
    computed = run("footprint", "compute", LIOH, "--data-dir", str(by_cli))
    assert computed.exit_code == 0, computed.output

    api_sent, api_state = _sent(by_api)
    cli_sent, cli_state = _sent(by_cli)
    assert api_state == cli_state == "fulfilled"
    assert {t for _, _, t in api_sent} >= {
        "org.wbcsd.pact.ProductFootprint.PublishedEvent.3",
        "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3",
    }
    assert cli_sent == api_sent


# 18: one-line errors, --version, audit check ----------------------------------------------------------------------


def _import_file(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "import.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def _cam_with(line: dict[str, Any]) -> dict[str, Any]:
    """One company with one product whose one BOM line is ``line``, and LIOH (kilogram) in the file as well."""
    fixture = json.loads(FIXTURE_FILE.read_text())
    andes = next(c for c in fixture["companies"] if c["companyId"] == ANDES)
    product = {
        "productId": "urn:pact:hokuriku-cathode.example:product:cam",
        "name": "CAM",
        "declaredUnit": "kilogram",
        "bom": [{"supplierCompanyId": ANDES, "supplierProductId": LIOH, "quantity": "1", "unit": "kg"}, line],
    }
    return {"companies": [andes, {"companyId": CAM_CO, "name": "Cam", "products": [product]}]}


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ('{"companies": [', ["not valid JSON", "line 1"]),
        ("[1, 2]", ['"companies" list']),
        ({"companies": [{"companyId": CAM_CO, "products": [{"name": "no id"}]}]}, ["product 1", "productId"]),
        (
            _cam_with({"supplierCompanyId": ANDES, "supplierProductId": LIOH, "quantity": "1", "unit": "kgs"}),
            ["BOM line 2", "unit", "kgs"],
        ),
        (
            _cam_with({"supplierCompanyId": ANDES, "supplierProductId": LIOH, "quantity": "1", "unit": "kWh"}),
            ["BOM line 2", "kilowatt hour", "kilogram", LIOH],
        ),
    ],
)
def test_bad_import_files_get_one_line(tmp_path, document, words):
    data = tmp_path / "node"
    assert init(data, CAM_CO).exit_code == 0
    one_line_error(run("import", str(_import_file(tmp_path, document)), "--data-dir", str(data)), *words)
    shown = run("footprint", "show", "urn:pact:hokuriku-cathode.example:product:cam", "--data-dir", str(data))
    assert "not found" in shown.stderr  # nothing of the file was stored


def test_incompatible_unit_at_compute_names_the_line(tmp_path):
    """A line added before the supplier's footprint was held is still refused at compute, naming its input."""
    data = tmp_path / "node"
    assert init(data, CAM_CO).exit_code == 0
    document = _cam_with({"supplierCompanyId": ANDES, "supplierProductId": LIOH, "quantity": "1", "unit": "kg"})
    document["companies"] = document["companies"][1:]  # the supplier's product unknown at import
    document["companies"][0]["products"][0]["bom"][0]["unit"] = "piece"
    assert run("import", str(_import_file(tmp_path, document)), "--data-dir", str(data)).exit_code == 0
    engine = make_engine(str(load_settings(data).database_url))
    from connector.api.schemas import UpstreamFootprintCreate
    from connector.services import footprints
    from connector.services.context import NodeContext

    with Session(engine) as session:
        footprints.record_upstream(
            NodeContext(session, load_settings(data)),
            UpstreamFootprintCreate.model_validate(
                {
                    "supplierCompanyId": ANDES,
                    "productId": LIOH,
                    "declaredUnit": "kilogram",
                    "stages": {"raw_material_acquisition": "1"},
                }
            ),
        )
        session.commit()
    engine.dispose()
    one_line_error(
        run("footprint", "compute", "urn:pact:hokuriku-cathode.example:product:cam", "--data-dir", str(data)),
        "BOM line for",
        LIOH,
        "piece",
    )


def test_version():
    from importlib.metadata import version

    shown = run("--version")
    assert shown.exit_code == 0 and shown.output.strip() == f"connector {version('battery-cfp-connector')}"


def test_audit_check(tmp_path):
    data = tmp_path / "node"
    assert init(data).exit_code == 0
    engine = make_engine(str(load_settings(data).database_url))
    with Session(engine) as session:
        for n in range(3):
            audit.append(session, ANDES, "test.entry", f"s{n}")
        session.commit()
    valid = run("audit", "check", "--data-dir", str(data))
    assert valid.exit_code == 0 and "valid" in valid.output, valid.output
    with Session(engine) as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
        entries[1].subject = "tampered"
        session.add(entries[1])
        session.commit()
        second = entries[1].seq
    engine.dispose()
    one_line_error(run("audit", "check", "--data-dir", str(data)), f"entry {second}", "content changed")


def test_an_app_made_for_tests_freezes_nothing(tmp_path) -> None:
    """Freezing is for a process serving one node: a test process making many apps would keep their cycles."""
    settings = Settings(company_id=ANDES, company_name="A", data_dir=tmp_path, run_workers=False)
    before = gc.get_freeze_count()
    in_process(create_app(settings), lambda client: client.get("/health"))
    assert gc.get_freeze_count() == before
