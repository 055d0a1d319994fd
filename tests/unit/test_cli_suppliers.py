"""``connector import-footprint``, ``record-upstream`` and ``supplier-data``: a cathode maker whose two suppliers run
no node (issue 17)."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from sqlmodel import Session, select

from connector.cli.main import load_settings
from connector.storage.db import make_engine
from connector.storage.tables import UpstreamFootprint
from tests.conftest import FIXTURE_FILE

from .test_cli import ANDES, CAM, CAM_CO, LIOH, clean_env, init, run, runner  # noqa: F401

PCAM_CO = "urn:pact:kansai-precursor.example:company:kansai-precursor"
PCAM = "urn:pact:kansai-precursor.example:product:pcam-nmc811"


def _pact_file(unit: str = "kilogram") -> dict:
    """A PACT v3 footprint as another producer's software exports it (no stage extension)."""
    return {
        "id": "5f0e7a3c-2b1d-4c8e-9a76-1d3b5e7f9a20",
        "specVersion": "3.0.0",
        "companyIds": [ANDES],
        "productIds": [LIOH],
        "pcf": {"declaredUnitOfMeasurement": unit, "declaredUnitAmount": "1", "pcfExcludingBiogenicUptake": "15.2"},
    }


def test_two_suppliers_without_a_node(runner, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("COLUMNS", "250")  # the table on one line per row
    data = tmp_path / "cam"
    assert init(runner, data, CAM_CO).exit_code == 0
    assert run(runner, "import", str(FIXTURE_FILE), "--data-dir", str(data)).exit_code == 0

    shown = run(runner, "supplier-data", CAM, "--data-dir", str(data))
    assert shown.exit_code == 0, shown.output
    assert shown.output.count("missing") >= 2 and "2 supplier line(s), 2 missing" in shown.output

    wrong = tmp_path / "liter.json"
    wrong.write_text(json.dumps(_pact_file("liter")))
    failed = run(runner, "import-footprint", str(wrong), "--data-dir", str(data))
    assert failed.exit_code == 1
    assert "declaredUnitOfMeasurement" in failed.output and "liter" in failed.output and LIOH in failed.output

    good = tmp_path / "andes.json"
    good.write_text(json.dumps(_pact_file()))
    done = run(runner, "import-footprint", str(good), "--data-dir", str(data))
    assert done.exit_code == 0, done.output
    assert "pact-file" in done.output and "per gram" in done.output

    value = tmp_path / "pcam.json"
    value.write_text(
        json.dumps(
            {
                "supplierCompanyId": PCAM_CO,
                "productId": PCAM,
                "declaredUnit": "kilogram",
                "stages": {"raw_material_acquisition": "19.821", "main_production": "1.52"},
            }
        )
    )
    pdf = tmp_path / "kansai-2025.pdf"
    pdf.write_bytes(b"%PDF-1.4 the supplier's declaration")
    typed = run(runner, "record-upstream", str(value), "--document", str(pdf), "--data-dir", str(data))
    assert typed.exit_code == 0, typed.output
    assert "document sha256" in typed.output

    shown = run(runner, "supplier-data", "--data-dir", str(data))
    assert "2 supplier line(s), 0 missing" in shown.output
    assert "pact-file by cli:" in shown.output and "document by cli:" in shown.output

    settings = load_settings(data)
    with Session(make_engine(str(settings.database_url))) as session:
        rows = {u.product_id: u for u in session.exec(select(UpstreamFootprint))}
    assert rows[LIOH].document == good.read_bytes() and rows[LIOH].declared_unit == "gram"
    assert rows[PCAM].document == pdf.read_bytes() and rows[PCAM].document_media_type == "application/pdf"
    assert rows[PCAM].source_kind == "document" and rows[PCAM].entered_by.startswith("cli:")

    computed = run(runner, "footprint", "show", CAM, "--data-dir", str(data), "--json")
    assert json.loads(computed.output) == []
    computed = run(runner, "footprint", "compute", CAM, "--data-dir", str(data))
    assert computed.exit_code == 0, computed.output
    shown = json.loads(run(runner, "footprint", "show", CAM, "--data-dir", str(data), "--json").output)
    expected = Decimal("3.05") + Decimal("0.95") * (Decimal("19.821") + Decimal("1.52")) + 440 * Decimal("0.0152")
    assert Decimal(shown[0]["total"]) == expected


def test_a_file_that_is_not_json_or_of_no_known_format(runner, tmp_path):  # noqa: F811
    data = tmp_path / "cam"
    assert init(runner, data, CAM_CO).exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    out = run(runner, "import-footprint", str(bad), "--data-dir", str(data))
    assert out.exit_code == 1 and "not valid JSON" in out.output
    bad.write_text('{"hello": 1}')
    out = run(runner, "import-footprint", str(bad), "--data-dir", str(data))
    assert out.exit_code == 1 and "neither a PACT" in out.output
    out = run(runner, "import-footprint", str(tmp_path / "absent.json"), "--data-dir", str(data))
    assert out.exit_code == 1 and "cannot read" in out.output


def test_record_upstream_reads_the_api_body_and_checks_the_document(runner, tmp_path):  # noqa: F811
    """The CLI takes the body of POST /upstream-footprints (sourceKind, documentSha256) and refuses a document that
    is not the one the file names."""
    data = tmp_path / "cam"
    assert init(runner, data, CAM_CO).exit_code == 0
    assert run(runner, "import", str(FIXTURE_FILE), "--data-dir", str(data)).exit_code == 0
    pdf = tmp_path / "declaration.pdf"
    pdf.write_bytes(b"%PDF-1.4 a battery pass export")
    body = {
        "supplierCompanyId": PCAM_CO,
        "productId": PCAM,
        "declaredUnit": "kilogram",
        "stages": {"raw_material_acquisition": "19.821", "main_production": "1.52"},
        "sourceKind": "battery-pass-file",
        "documentSha256": "0" * 64,
    }
    value = tmp_path / "pcam.json"
    value.write_text(json.dumps(body))
    refused = run(runner, "record-upstream", str(value), "--document", str(pdf), "--data-dir", str(data))
    assert refused.exit_code == 1 and "documentSha256" in refused.output

    value.write_text(json.dumps({**body, "sourceKind": "spreadsheet"}))
    refused = run(runner, "record-upstream", str(value), "--data-dir", str(data))
    assert refused.exit_code == 1 and "sourceKind" in refused.output

    value.write_text(json.dumps({k: v for k, v in body.items() if k != "documentSha256"}))
    done = run(runner, "record-upstream", str(value), "--document", str(pdf), "--data-dir", str(data))
    assert done.exit_code == 0, done.output
    settings = load_settings(data)
    with Session(make_engine(str(settings.database_url))) as session:
        row = session.exec(select(UpstreamFootprint)).one()
    assert row.source_kind == "battery-pass-file" and row.document == pdf.read_bytes()
    assert row.document_sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert row.document_media_type == "application/pdf" and row.basis == "entered"


def test_record_upstream_takes_the_documents_media_type_from_the_file(runner, tmp_path):  # noqa: F811
    """A value file naming the mediaType of the document given with --document was refused ("mediaType describes a
    document: give document too"): the file was checked before the document joined it."""
    data = tmp_path / "cam"
    assert init(runner, data, CAM_CO).exit_code == 0
    assert run(runner, "import", str(FIXTURE_FILE), "--data-dir", str(data)).exit_code == 0
    scan = tmp_path / "kansai-statement.bin"  # a name no media type can be guessed from
    scan.write_bytes(b"%PDF-1.4 the supplier's statement, scanned")
    body = {
        "supplierCompanyId": PCAM_CO,
        "productId": PCAM,
        "declaredUnit": "kilogram",
        "stages": {"raw_material_acquisition": "19.821", "main_production": "1.52"},
        "mediaType": "application/pdf",
    }
    value = tmp_path / "pcam.json"
    value.write_text(json.dumps(body))
    done = run(runner, "record-upstream", str(value), "--document", str(scan), "--data-dir", str(data))
    assert done.exit_code == 0, done.output
    settings = load_settings(data)
    with Session(make_engine(str(settings.database_url))) as session:
        row = session.exec(select(UpstreamFootprint)).one()
    assert row.document == scan.read_bytes() and row.document_media_type == "application/pdf"
    assert row.document_sha256 == hashlib.sha256(scan.read_bytes()).hexdigest()
    # without --document the mediaType alone is still refused
    refused = run(runner, "record-upstream", str(value), "--data-dir", str(data))
    assert refused.exit_code == 1 and "mediaType describes a document" in refused.output
