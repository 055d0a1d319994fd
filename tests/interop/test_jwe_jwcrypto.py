"""Every evidence package of the chain decrypted by jwcrypto (which the connector never uses) with the verifier's
key, to exactly what our own code opens; the JWE JSON members exactly as RFC 7516 section 7.2.1 has them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from connector.attestation.evidence import EVIDENCE_TYP
from connector.declaration.signing import EvidenceBundle
from connector.identity import TrustStore, certificate_thumbprint
from connector.verification import verify_bundle

from .conftest import ChainRun

MEMBERS = {"protected", "recipients", "iv", "ciphertext", "tag"}
"""The members we write: ``unprotected`` and ``aad`` are absent (not null), as RFC 7516 section 7.2.1 says."""


def _no_null(value: Any, where: str) -> None:
    assert value is not None, f"null at {where}"
    if isinstance(value, dict):
        for k, v in value.items():
            _no_null(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_null(v, f"{where}[{i}]")


def _packages_of(run: ChainRun) -> dict[str, dict[str, dict[str, Any]]]:
    """The packages as the bundle carries them and as the PACT footprint carries them (same ids)."""
    (extension,) = [e for e in run.pact_footprint["extensions"] if "evidence" in e.get("data", {})]
    return {"bundle": run.bundle["packages"], "pact": extension["data"]["evidence"]["packages"]}


def test_every_package_is_a_general_jwe_json_with_no_null_member(run: ChainRun) -> None:
    for carrier, packages in _packages_of(run).items():
        assert len(packages) == 7
        for pid, package in packages.items():
            assert set(package) == MEMBERS, (carrier, pid, sorted(package))
            _no_null(package, f"{carrier}.{pid}")
            (recipient,) = package["recipients"]
            assert set(recipient) == {"header", "encrypted_key"}
            assert set(recipient["header"]) == {"alg", "kid", "x5t#S256", "epk"}
            assert recipient["header"]["alg"] == "ECDH-ES+A256KW"
            assert recipient["header"]["x5t#S256"] == certificate_thumbprint(run.verifier.certificate)
            assert recipient["header"]["kid"] == run.chain["verifier"]["companyId"]
            assert set(recipient["header"]["epk"]) == {"kty", "crv", "x", "y"}


def test_jwcrypto_decrypts_every_package_to_what_our_code_opens(run: ChainRun) -> None:
    ours = run.opened()
    theirs = run.opened_by_jwcrypto()
    assert theirs.keys() == ours.keys() and len(theirs) == 7
    for pid, opened in theirs.items():
        assert json.loads(opened["plaintext"]) == ours[pid].to_json_dict()
        (header,) = opened["header"]  # one per recipient, each merged with the protected header
        assert header["enc"] == "A256GCM" and header["alg"] == "ECDH-ES+A256KW"
        assert header["typ"] == EVIDENCE_TYP and header["cty"] == "json"
    # the PACT extension carries the same packages, byte for byte the same JSON
    pact = _packages_of(run)["pact"]
    assert {pid: run.bundle["packages"][pid] for pid in pact} == pact


def _with_nulls(bundle: dict[str, Any]) -> dict[str, Any]:
    old = copy.deepcopy(bundle)
    for package in old["packages"].values():
        package["unprotected"] = None
        package["aad"] = None
    return old


def test_a_bundle_written_before_the_fix_with_null_members_still_verifies(run: ChainRun) -> None:
    """Packages sealed before issue 14 carry ``"unprotected": null, "aad": null``: still read, never written."""
    old = _with_nulls(run.bundle)
    bundle = EvidenceBundle.from_json(json.dumps(old))
    trust = TrustStore([run.pki.root.certificate], intermediates=[run.pki.inter.certificate])
    report = verify_bundle(
        bundle, trust, verifier_key=run.verifier.key, verifier_cert=run.verifier.certificate, at=datetime.now(UTC)
    )
    assert report.valid is True, report.failures
    assert report.evidence_opened is True
    rewritten = json.loads(bundle.to_json())
    assert rewritten["packages"] == run.bundle["packages"], "re-written without the nulls, otherwise unchanged"


@pytest.mark.parametrize("member", ["protected", "ciphertext", "tag"])
def test_jwcrypto_refuses_a_changed_package(run: ChainRun, member: str) -> None:
    """The decryption above can fail: one character of an authenticated member changed."""
    from jwcrypto import jwe

    bundle = copy.deepcopy(run.bundle)
    package = next(iter(bundle["packages"].values()))
    value = package[member]
    package[member] = value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]
    changed = ChainRun(**{**run.__dict__, "bundle": bundle})
    with pytest.raises((jwe.InvalidJWEData, ValueError)):
        changed.opened_by_jwcrypto()
