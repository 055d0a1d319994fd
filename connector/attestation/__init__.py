"""Attestations: wire models, SD-JWT issue/verify, evidence sealing, the generic JWS helper.

Pure functions over models, keys and an explicit time; no I/O.
"""

from __future__ import annotations

from .attestation import (
    IssuedAttestation,
    VerifiedAttestation,
    attestation_digest,
    issue_attestation,
    verify_attestation,
)
from .evidence import (
    Evidence,
    EvidenceContent,
    EvidenceDocument,
    MalformedEvidence,
    NotARecipient,
    RecipientRefused,
    UpstreamPackage,
    new_package_id,
    open_evidence,
    recipients_of,
    reseal_evidence,
    seal_evidence,
    seal_evidence_tree,
)
from .jws import VerifiedJws, sign_jws_json, verify_jws
from .models import (
    AttestationClaims,
    AttestationPayload,
    CoverageClaim,
    DataQuality,
    HiddenClaims,
    InputClaim,
    Methodology,
    ReferencePeriod,
    SealedEvidence,
    StageValues,
)

__all__ = [
    "AttestationClaims",
    "AttestationPayload",
    "CoverageClaim",
    "DataQuality",
    "Evidence",
    "EvidenceContent",
    "EvidenceDocument",
    "HiddenClaims",
    "InputClaim",
    "IssuedAttestation",
    "MalformedEvidence",
    "Methodology",
    "NotARecipient",
    "RecipientRefused",
    "ReferencePeriod",
    "SealedEvidence",
    "StageValues",
    "UpstreamPackage",
    "VerifiedAttestation",
    "VerifiedJws",
    "attestation_digest",
    "issue_attestation",
    "new_package_id",
    "open_evidence",
    "recipients_of",
    "reseal_evidence",
    "seal_evidence",
    "seal_evidence_tree",
    "sign_jws_json",
    "verify_attestation",
    "verify_jws",
]
