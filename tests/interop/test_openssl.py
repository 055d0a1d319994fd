"""The certificate chains in the tokens (``x5c``) and the CRLs our CA tooling signs, checked by the ``openssl``
command line (skipped where it is not installed): ``openssl verify`` (RFC 5280 path validation, strict X.509,
with the CRLs of both CAs) and ``openssl crl`` (each CRL's signature)."""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from connector.identity import Revocation, build_crl
from connector.identity.keys import certificates_to_pem, crl_to_pem

from .conftest import ChainRun

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def _openssl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert OPENSSL is not None
    return subprocess.run([OPENSSL, *map(str, args)], capture_output=True, text=True, timeout=30, check=False)


def _leaves(run: ChainRun) -> dict[str, x509.Certificate]:
    """Each signer's leaf certificate from the ``x5c`` of its token, and the verifier's (evidence recipient)."""
    import jwt

    tokens = [a[:-1] for a in run.attestations()] + [run.bundle["declaration"]]
    leaves = {}
    for token in tokens:
        der = base64.b64decode(jwt.get_unverified_header(token)["x5c"][0])
        leaves[f"signer-{len(leaves)}"] = x509.load_der_x509_certificate(der)
    leaves["verifier"] = run.verifier.certificate
    return leaves


@pytest.fixture(scope="module")
def ca_files(run: ChainRun, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("openssl")
    now = datetime.now(UTC)
    files = {
        "root": folder / "root.pem",
        "inter": folder / "inter.pem",
        "crls": folder / "crls.pem",
        "inter-crl": folder / "inter-crl.pem",
        "root-crl": folder / "root-crl.pem",
    }
    files["root"].write_bytes(certificates_to_pem([run.pki.root.certificate]))
    files["inter"].write_bytes(certificates_to_pem([run.pki.inter.certificate]))
    files["inter-crl"].write_bytes(crl_to_pem(build_crl(run.pki.inter, [], at=now - timedelta(minutes=1))))
    files["root-crl"].write_bytes(crl_to_pem(build_crl(run.pki.root, [], at=now - timedelta(minutes=1))))
    files["crls"].write_bytes(files["inter-crl"].read_bytes() + files["root-crl"].read_bytes())
    return files


def test_openssl_verifies_every_chain_strictly_with_both_crls(
    run: ChainRun, ca_files: dict[str, Path], tmp_path: Path
) -> None:
    leaves = _leaves(run)
    assert len(leaves) == 9  # 7 suppliers, the automaker, the notified body
    for name, leaf in leaves.items():
        path = tmp_path / f"{name}.pem"
        path.write_bytes(certificates_to_pem([leaf]))
        done = _openssl(
            "verify",
            "-x509_strict",
            "-crl_check_all",
            "-CRLfile",
            ca_files["crls"],
            "-CAfile",
            ca_files["root"],
            "-untrusted",
            ca_files["inter"],
            path,
        )
        assert done.returncode == 0 and done.stdout.strip().endswith("OK"), (name, done.stdout, done.stderr)


@pytest.mark.parametrize(("crl", "issuer"), [("inter-crl", "inter"), ("root-crl", "root")])
def test_openssl_checks_the_signature_of_each_crl(ca_files: dict[str, Path], crl: str, issuer: str) -> None:
    done = _openssl("crl", "-in", ca_files[crl], "-CAfile", ca_files[issuer], "-noout")
    assert done.returncode == 0 and "verify OK" in done.stdout + done.stderr, done.stdout + done.stderr


def test_openssl_finds_a_revoked_certificate_in_our_crl(
    run: ChainRun, ca_files: dict[str, Path], tmp_path: Path
) -> None:
    """The check above can fail: the same chain, with the leaf listed in the issuing CA's CRL."""
    now = datetime.now(UTC)
    leaf = run.verifier.certificate
    revoked = build_crl(
        run.pki.inter, [Revocation(leaf.serial_number, now - timedelta(minutes=2))], at=now - timedelta(minutes=1)
    )
    crls = tmp_path / "crls.pem"
    crls.write_bytes(crl_to_pem(revoked) + ca_files["root-crl"].read_bytes())
    path = tmp_path / "leaf.pem"
    path.write_bytes(certificates_to_pem([leaf]))
    done = _openssl(
        "verify",
        "-x509_strict",
        "-crl_check_all",
        "-CRLfile",
        crls,
        "-CAfile",
        ca_files["root"],
        "-untrusted",
        ca_files["inter"],
        path,
    )
    assert done.returncode != 0 and "revoked" in done.stdout + done.stderr
