"""Per-tier certification: a verifier certifies one attestation (bound to its digest) after checking its evidence.

Pure: keys, tokens and an explicit time in; compact JWS and check results out.
"""

from __future__ import annotations

from ..attestation.certification_credential import (
    CERTIFICATION_TYP,
    DEFAULT_CERTIFICATION_VALIDITY,
    CertificationCheck,
    CertificationPayload,
    certification_payload,
    decode_certification,
    peek_certification,
    sign_certification,
    to_pact_verification,
    verify_certification,
)
from .certify import DEFAULT_SCOPE, CertificationRefused, certify

__all__ = [
    "CERTIFICATION_TYP",
    "DEFAULT_CERTIFICATION_VALIDITY",
    "DEFAULT_SCOPE",
    "CertificationCheck",
    "CertificationPayload",
    "CertificationRefused",
    "certification_payload",
    "certify",
    "decode_certification",
    "peek_certification",
    "sign_certification",
    "to_pact_verification",
    "verify_certification",
]
