# ruff: noqa: F811  (pytest fixtures imported from test_bundle)
"""``connector verify`` / ``connector certify`` through typer's CliRunner, on files in a temporary folder."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import typer
from typer.testing import CliRunner

from connector.certification import verify_certification
from connector.cli.verify import certify_command, sibling_certificate, verify_app, verify_command
from connector.identity.ca import build_crl
from connector.identity.files import save_issued, write_certificates, write_crl
from tests.pki import T0
from tests.unit.test_bundle import (  # noqa: F401  (fixtures)
    AT,
    CAM,
    HOKURIKU,
    PACK,
    fixture_chain,
    parties,
    with_pack_evidence,
    world,
)

app = typer.Typer()
app.command("verify")(verify_command)
app.command("certify")(certify_command)
runner = CliRunner(env={"COLUMNS": "300"})  # no wrapping: messages are asserted whole
WHEN = AT.isoformat()


@pytest.fixture
def files(tmp_path, world):
    write_certificates(tmp_path / "root.pem", [world.parties.pki.root.certificate])
    save_issued(tmp_path / "nb", "nb", world.parties.nb)
    save_issued(tmp_path / "nb2", "nb2", world.parties.nb2)
    (tmp_path / "bundle.json").write_text(world.bundle.to_json())
    return tmp_path


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_verify_valid_with_key(files) -> None:
    result = invoke(
        "verify",
        files / "bundle.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb" / "nb.key",
        "--json",
        files / "out" / "report.json",
        "--at",
        WHEN,
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "valid, fully attested"
    assert "Hokuriku Cathode" in result.output and "evidence: opened" in result.output
    report = json.loads((files / "out" / "report.json").read_text())
    assert report["valid"] is True and report["verifier"] == "urn:pact:nb.example:company:notified-body-0042"


def test_verify_without_key_says_not_opened(files) -> None:
    result = invoke("verify", files / "bundle.json", "--trust", files / "root.pem", "--at", WHEN)
    assert result.exit_code == 0, result.output
    assert "evidence not opened" in result.output and result.output.strip().endswith("valid, fully attested")


def test_verify_invalid_exits_non_zero(files, world) -> None:
    (files / "bad.json").write_text(with_pack_evidence(world, None).to_json())
    result = invoke(
        "verify",
        files / "bad.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb" / "nb.key",
        "--cert",
        files / "nb" / "nb.pem",
        "--json",
        files / "bad-report.json",
        "--at",
        WHEN,
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == "INVALID: 1 failure(s)"
    assert "evidence missing" in result.output and "Kyushu" in result.output
    assert json.loads((files / "bad-report.json").read_text())["failures"][0]["check"] == "evidence"


def test_verify_with_other_verifier_and_crl_option(files, world) -> None:
    crl = world.parties.pki.crl()
    write_crl(files / "crl.pem", crl)
    result = invoke(
        "verify",
        files / "bundle.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb2" / "nb2.key",
        "--crl",
        files / "crl.pem",
        "--at",
        WHEN,
    )
    assert result.exit_code == 1
    assert "sealed for another verifier" in result.output


def test_verify_require_crl_wants_crls_current_at_the_signing_time(files, world) -> None:
    pki = world.parties.pki
    base = (
        "verify",
        files / "bundle.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb" / "nb.key",
        "--at",
        WHEN,
        "--require-crl",
    )
    result = invoke(*base)  # the bundle carries no CRL and none is given
    assert result.exit_code == 1 and "no CRL for issuer" in result.output
    # the CRLs of both CAs, issued before the signing time T0 and valid 7 days from then: current at T0
    write_crl(files / "inter.pem", pki.crl(at=T0 - timedelta(days=2)))
    write_crl(files / "root-crl.pem", build_crl(pki.root, [], at=T0 - timedelta(days=2)))
    result = invoke(*base, "--crl", files / "inter.pem", "--crl", files / "root-crl.pem")
    assert result.exit_code == 0, result.output
    # the same CAs' CRLs of a month before: their nextUpdate passed before anything was signed
    write_crl(files / "inter.pem", pki.crl(at=T0 - timedelta(days=30)))
    write_crl(files / "root-crl.pem", build_crl(pki.root, [], at=T0 - timedelta(days=30)))
    result = invoke(*base, "--crl", files / "inter.pem", "--crl", files / "root-crl.pem")
    assert result.exit_code == 1 and "current at" in result.output
    # without --require-crl stale CRLs mean "no revocation known", as before
    result = invoke(*base[:-1], "--crl", files / "inter.pem", "--crl", files / "root-crl.pem")
    assert result.exit_code == 0, result.output


def test_verify_usage_errors(files) -> None:
    result = invoke("verify", files / "bundle.json", "--trust", files / "root.pem", "--cert", files / "nb" / "nb.pem")
    assert result.exit_code == 2 and "--cert needs --key" in result.output
    (files / "lonely.key").write_bytes((files / "nb" / "nb.key").read_bytes())
    result = invoke("verify", files / "bundle.json", "--trust", files / "root.pem", "--key", files / "lonely.key")
    assert result.exit_code == 2 and "no certificate" in result.output
    result = invoke("verify", files / "bundle.json", "--trust", files / "root.pem", "--at", "yesterday")
    assert result.exit_code != 0


def test_sibling_certificate(files) -> None:
    assert sibling_certificate(files / "nb" / "nb.key") == files / "nb" / "nb.chain.pem"


def test_certify_command(files, world) -> None:
    cam = world.tiers[CAM]
    (files / "cam.sdjwt").write_text(cam.issued.sd_jwt + "\n")
    (files / "cam.evidence.json").write_text(json.dumps(cam.evidence))
    result = invoke(
        "certify",
        files / "cam.sdjwt",
        files / "cam.evidence.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb" / "nb.key",
        "--scope",
        "CAM CFP",
        "--out",
        files / "cam.cert.jwt",
        "--at",
        T0.isoformat(),
    )
    assert result.exit_code == 0, result.output
    assert "product level" in result.output and HOKURIKU in result.output
    token = (files / "cam.cert.jwt").read_text().strip()
    check = verify_certification(token, cam.issued.sd_jwt, world.trust, AT)
    assert check.payload.scope == "CAM CFP"
    # to stdout without --out
    result = invoke(
        "certify",
        files / "cam.sdjwt",
        files / "cam.evidence.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb" / "nb.key",
        "--at",
        T0.isoformat(),
    )
    assert result.exit_code == 0 and result.output.count(".") == 2


def test_certify_refuses_and_usage_errors(files, world) -> None:
    pack = world.tiers[PACK]
    cam = world.tiers[CAM]
    (files / "cam.sdjwt").write_text(cam.issued.sd_jwt)
    (files / "pack.evidence.json").write_text(json.dumps(pack.evidence))
    result = invoke(
        "certify",
        files / "cam.sdjwt",
        files / "pack.evidence.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb" / "nb.key",
        "--at",
        T0.isoformat(),
    )
    assert result.exit_code == 2 and "another attestation" in result.output


def test_verify_app_has_both_commands() -> None:
    result = runner.invoke(verify_app, ["--help"])
    assert "verify" in result.output and "certify" in result.output


def test_certify_refuses_tampered_subtree(files, world) -> None:
    from connector.attestation.sdjwt import make_disclosure, parse_disclosure
    from tests.unit.test_bundle import edit_evidence

    def tamper(content):
        out = [
            make_disclosure(d.name, d.value).text if d.name == "ownEmissions" else t
            for t, d in ((t, parse_disclosure(t)) for t in content.disclosures)
        ]
        return content.model_copy(update={"disclosures": out})

    cam = world.tiers[CAM]
    (files / "cam.sdjwt").write_text(cam.issued.sd_jwt)
    (files / "cam.evidence.json").write_text(json.dumps(edit_evidence(world, cam.evidence, [], tamper)))
    result = invoke(
        "certify",
        files / "cam.sdjwt",
        files / "cam.evidence.json",
        "--trust",
        files / "root.pem",
        "--key",
        files / "nb" / "nb.key",
        "--out",
        files / "x.jwt",
        "--at",
        T0.isoformat(),
    )
    assert result.exit_code == 1 and "not certified" in result.output and "disclosures" in result.output
    assert not (files / "x.jwt").exists()
