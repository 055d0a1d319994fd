"""The state of one verification walk: trust, time, the verifier's key, the bundle's packages and what was seen.

Every check module takes a :class:`WalkContext`; it is built once per ``verify_*`` call by :func:`new_context`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509

from ..attestation.certification_credential import CertificationCheck
from ..attestation.evidence import EvidenceContent, open_evidence
from ..attestation.models import AttestationClaims, SealedEvidence
from ..errors import InvalidSignature
from ..identity.ca import company_id_of
from ..identity.keys import PrivateKey
from ..identity.trust import TrustStore
from .messages import Said
from .report import VerificationNode

VerifierCert = x509.Certificate | Sequence[x509.Certificate]
"""The verifier's certificate, or its chain (the leaf is used)."""

Binding = tuple[str, int, Said]
"""(digest, index in ``WalkContext.certs[digest]``, detail) of a certification bound to an attestation."""

CertificationEntry = tuple[CertificationCheck, VerificationNode]
"""A certification that verified on its own, and its node in the report."""


@dataclass
class WalkContext:
    trust: TrustStore
    path_trust: TrustStore
    at: datetime
    key: PrivateKey | None = None
    cert: x509.Certificate | None = None
    verifier_id: str | None = None
    packages: Mapping[str, SealedEvidence | dict[str, Any]] = field(default_factory=dict)
    """The bundle's evidence packages by id (flat)."""
    certs: dict[str, list[CertificationEntry]] = field(default_factory=dict)
    bound: set[str] = field(default_factory=set)
    claims: dict[str, AttestationClaims] = field(default_factory=dict)
    workers: int = 1
    require_attested: bool = False
    """Entered inputs (issue 17) are failures (``connector verify --require-attested``)."""
    visits: int = 0
    """Attestations visited so far (see :data:`~connector.verification.tree_walk.VISITS_PER_PACKAGE`)."""
    bindings: list[Binding] = field(default_factory=list)
    """Each certification bound, in walk order (parallel merge)."""
    opened: dict[str, EvidenceContent | InvalidSignature] = field(default_factory=dict)
    """Each package opened once per walk (by id), or why it could not be: the map does not change during a walk, and
    a package named from many places (shared suppliers, or a crafted bundle naming one big package again and again)
    must not be decrypted and parsed once per mention."""

    def open_package(self, package_id: str, package: SealedEvidence | dict[str, Any]) -> EvidenceContent:
        """:func:`open_evidence` of a bundled package, remembered (the outcome, content or error) by id."""
        known = self.opened.get(package_id)
        if known is None:
            assert self.key is not None and self.cert is not None
            try:
                known = open_evidence(package, self.key, self.cert)
            except InvalidSignature as exc:  # NotARecipient included
                known = exc
            self.opened[package_id] = known
        if isinstance(known, InvalidSignature):
            raise known
        return known


def leaf_of(cert: VerifierCert | None) -> x509.Certificate | None:
    if cert is None or isinstance(cert, x509.Certificate):
        return cert
    return cert[0] if cert else None


def new_context(
    trust: TrustStore,
    at: datetime,
    verifier_key: PrivateKey | None,
    verifier_cert: VerifierCert | None,
    crls: Iterable[x509.CertificateRevocationList],
) -> WalkContext:
    if at.tzinfo is None:
        raise InvalidSignature("verification time must be timezone-aware")
    full = trust.with_crls(crls)
    path_trust = full.without_crls()  # revocation is checked (and reported) separately; shares the path cache
    leaf = leaf_of(verifier_cert)
    if (verifier_key is None) != (leaf is None):
        raise ValueError("give both the verifier key and its certificate, or neither")
    return WalkContext(
        trust=full,
        path_trust=path_trust,
        at=at,
        key=verifier_key,
        cert=leaf,
        verifier_id=company_id_of(leaf) if leaf is not None else None,
    )


def worker_count(workers: int | None) -> int:
    """``None``: every core, when forking is safe (no other thread in this process: a server verifies in one)."""
    if workers is None:
        return (os.cpu_count() or 1) if threading.active_count() == 1 else 1
    if workers < 1:
        raise ValueError("workers must be at least 1")
    return workers
