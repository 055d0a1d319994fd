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
from .evidence import NotARecipient, RecipientRefused, open_evidence, recipients_of, reseal_evidence, seal_evidence
from .jws import VerifiedJws, sign_jws_json, verify_jws
from .models import (
    AttestationClaims,
    AttestationPayload,
    DataQuality,
    EvidenceContent,
    HiddenClaims,
    InputClaim,
    Methodology,
    ReferencePeriod,
    SealedEvidence,
    StageValues,
    UpstreamEvidence,
)

__all__ = [
    "AttestationClaims",
    "AttestationPayload",
    "DataQuality",
    "EvidenceContent",
    "HiddenClaims",
    "InputClaim",
    "IssuedAttestation",
    "Methodology",
    "NotARecipient",
    "RecipientRefused",
    "ReferencePeriod",
    "SealedEvidence",
    "StageValues",
    "UpstreamEvidence",
    "VerifiedAttestation",
    "VerifiedJws",
    "attestation_digest",
    "issue_attestation",
    "open_evidence",
    "recipients_of",
    "reseal_evidence",
    "seal_evidence",
    "sign_jws_json",
    "verify_attestation",
    "verify_jws",
]
