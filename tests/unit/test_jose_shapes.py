"""The JOSE objects we write have exactly the members the RFCs name (issue 14): an evidence package (RFC 7516
section 7.2.1) omits its absent optional members, never writes them as null, however it is nested."""

from __future__ import annotations

import json

from connector.attestation import (
    Evidence,
    EvidenceContent,
    SealedEvidence,
    issue_attestation,
    open_evidence,
    seal_evidence_tree,
)
from connector.declaration.signing import BundlePack, EvidenceBundle
from connector.protocols.pact.rendering import CfpExtensionData
from tests.pki import SUPPLIER_ID, T0, VERIFIER_ID, make_claims, make_hidden, make_pki

MEMBERS = {"protected", "recipients", "iv", "ciphertext", "tag"}


def test_optional_jwe_members_are_omitted_wherever_a_package_is_written() -> None:
    pki = make_pki()
    trust, supplier, nb = pki.trust(), pki.company(SUPPLIER_ID, "supplier"), pki.company(VERIFIER_ID, "verifier")
    issued = issue_attestation(make_claims(), make_hidden(), supplier.key, supplier.chain, at=T0)
    content = EvidenceContent(attestation=issued.sd_jwt, disclosures=issued.disclosures)
    evidence = Evidence.model_validate(seal_evidence_tree(issued.sd_jwt, issued.disclosures, [], [nb.chain], trust, T0))
    bundle = EvidenceBundle(
        declaration="x",
        pack=BundlePack(attestation=issued.sd_jwt, package=evidence.package),
        packages=evidence.packages,
    )
    extension = CfpExtensionData(stages={}, rounding="decimal-places:12;half-even", evidence=evidence)
    written = {
        "evidence": evidence.to_json_dict()["packages"],
        "bundle": json.loads(bundle.to_json())["packages"],
        "pact extension": extension.model_dump(mode="json")["evidence"]["packages"],
    }
    for where, packages in written.items():
        (package,) = packages.values()
        assert set(package) == MEMBERS, where

    # packages sealed before issue 14 carry "unprotected": null and "aad": null: still read, written without them
    old = {**package, "unprotected": None, "aad": None}
    assert open_evidence(old, nb.key, nb.certificate) == content
    assert set(SealedEvidence.model_validate(old).model_dump(mode="json")) == MEMBERS
