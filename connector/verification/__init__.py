"""Verification: ``verify_bundle(bundle, trust, at=…)`` checks a declaration's whole evidence tree offline and
returns a :class:`VerificationReport` (a tree of checks; ``report.valid`` is the verdict). Pure: no I/O.
"""

from __future__ import annotations

from .messages import MESSAGES, Said, english, said
from .render import render_html, render_tree
from .report import (
    CertificationResult,
    Check,
    EvidenceStatus,
    Failure,
    InputSummary,
    VerificationNode,
    VerificationReport,
)
from .tree_walk import MAX_DEPTH
from .verifier import verify_attestation_tree, verify_bundle

__all__ = [
    "MAX_DEPTH",
    "MESSAGES",
    "CertificationResult",
    "Check",
    "EvidenceStatus",
    "Failure",
    "InputSummary",
    "VerificationNode",
    "Said",
    "VerificationReport",
    "english",
    "render_html",
    "render_tree",
    "said",
    "verify_attestation_tree",
    "verify_bundle",
]
