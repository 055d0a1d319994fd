"""``connector ca`` through typer's CliRunner, on a throwaway folder."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
import typer
from typer.testing import CliRunner

from connector.cli.ca import ca_app
from connector.errors import TrustError
from connector.identity import Role, TrustStore, company_id_of, role_of
from connector.identity.files import read_certificates, read_crl
from tests.pki import SUPPLIER_ID, T0, VERIFIER_ID

app = typer.Typer()
app.add_typer(ca_app, name="ca")
runner = CliRunner(env={"COLUMNS": "300"})  # no wrapping: messages are asserted whole
AT = T0.isoformat()


def run(*args: str, ok: bool = True):
    result = runner.invoke(app, ["ca", *args])
    if ok:
        assert result.exit_code == 0, result.output
    else:
        assert result.exit_code != 0, result.output
    return result


@pytest.fixture
def ca_dir(tmp_path):
    folder = tmp_path / "ca"
    run("init", "--dir", str(folder), "--at", AT)
    return folder


def test_init_writes_ca(ca_dir) -> None:
    for name in ("root.pem", "root.key", "intermediate.pem", "intermediate.key", "crl.pem", "root-crl.pem"):
        assert (ca_dir / name).is_file()
    assert stat.S_IMODE((ca_dir / "root.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((ca_dir / "intermediate.key").stat().st_mode) == 0o600
    assert (ca_dir / ".gitignore").read_text().splitlines()[-1] == "*"
    assert "already holds a CA" in run("init", "--dir", str(ca_dir), ok=False).output
    run("init", "--dir", str(ca_dir), "--force", "--at", AT)


def test_issue_company_and_validate(ca_dir, tmp_path) -> None:
    out = tmp_path / "out"
    run(
        "issue",
        "--dir",
        str(ca_dir),
        "--company-id",
        SUPPLIER_ID,
        "--name",
        "Andes Lithium",
        "--role",
        "supplier",
        "--out",
        str(out),
        "--at",
        AT,
    )
    chain = read_certificates(out / "andes-lithium.chain.pem")
    assert company_id_of(chain[0]) == SUPPLIER_ID and role_of(chain[0]) is Role.SUPPLIER
    assert stat.S_IMODE((out / "andes-lithium.key").stat().st_mode) == 0o600
    trust = TrustStore(read_certificates(ca_dir / "root.pem"), [read_crl(ca_dir / "crl.pem")])
    assert trust.validate(chain, at=T0, role="supplier").company_id == SUPPLIER_ID
    assert "valid:" in run("check", str(out / "andes-lithium.chain.pem"), "--dir", str(ca_dir), "--at", AT).output


def test_issue_tls(ca_dir) -> None:
    run("issue", "--dir", str(ca_dir), "--tls-host", "localhost", "--tls-host", "127.0.0.1", "--at", AT)
    assert (ca_dir / "issued" / "tls-localhost.pem").is_file()


def test_issue_needs_company_fields(ca_dir) -> None:
    assert "--company-id" in run("issue", "--dir", str(ca_dir), "--name", "X", ok=False).output
    run("issue", "--dir", str(ca_dir), "--company-id", SUPPLIER_ID, "--name", "X", "--role", "boss", ok=False)
    assert (
        "URN"
        in run("issue", "--dir", str(ca_dir), "--company-id", "andes", "--name", "X", "--role", "oem", ok=False).output
    )


def test_issue_without_init(tmp_path) -> None:
    result = run(
        "issue", "--dir", str(tmp_path / "none"), "--company-id", SUPPLIER_ID, "--name", "X", "--role", "oem", ok=False
    )
    assert "ca init" in result.output


def test_revoke_by_cert_and_serial(ca_dir) -> None:
    run("issue", "--dir", str(ca_dir), "--company-id", SUPPLIER_ID, "--name", "A", "--role", "supplier", "--at", AT)
    run("issue", "--dir", str(ca_dir), "--company-id", VERIFIER_ID, "--name", "NB", "--role", "verifier", "--at", AT)
    supplier = read_certificates(ca_dir / "issued" / "andes-lithium.chain.pem")
    verifier = read_certificates(ca_dir / "issued" / "notified-body-0042.chain.pem")
    revoked_at = (T0 + timedelta(days=1)).isoformat()
    run("revoke", "--dir", str(ca_dir), "--cert", str(ca_dir / "issued" / "andes-lithium.pem"), "--at", revoked_at)
    run("revoke", "--dir", str(ca_dir), "--serial", f"{verifier[0].serial_number:x}", "--at", revoked_at)
    assert (
        "already revoked"
        in run("revoke", "--dir", str(ca_dir), "--serial", f"{verifier[0].serial_number:x}", ok=False).output
    )
    crl = read_crl(ca_dir / "crl.pem")
    assert {r.serial_number for r in crl} == {supplier[0].serial_number, verifier[0].serial_number}
    trust = TrustStore(read_certificates(ca_dir / "root.pem"), [crl])
    trust.validate(supplier, at=T0)  # before the revocation
    with pytest.raises(TrustError):
        trust.validate(supplier, at=T0 + timedelta(days=2))


def test_revoke_needs_exactly_one_target(ca_dir) -> None:
    run("revoke", "--dir", str(ca_dir), ok=False)
    run("revoke", "--dir", str(ca_dir), "--serial", "zz", ok=False)


def test_crl_to_out(ca_dir, tmp_path) -> None:
    out = tmp_path / "published" / "crl.pem"
    run("crl", "--dir", str(ca_dir), "--out", str(out), "--at", AT)
    crl = read_crl(out)
    assert crl.last_update_utc == T0
    assert crl.is_signature_valid(read_certificates(ca_dir / "intermediate.pem")[0].public_key())
    # the root's CRL is published beside it (the deployment guide's "also writes root-crl.pem"): it used to stay in
    # the CA folder only, and a node given the published folder's two files found one missing
    root_crl = read_crl(out.parent / "root-crl.pem")
    assert root_crl.is_signature_valid(read_certificates(ca_dir / "root.pem")[0].public_key())
    assert (out.parent / "root-crl.pem").read_bytes() == (ca_dir / "root-crl.pem").read_bytes()
