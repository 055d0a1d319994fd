"""Entered inputs and attested coverage (issue 17): the checks of an opened attestation that rest on them.

``entered input`` (one per input entered without an attestation: who, when, which supplier is claimed, the kind of
source), ``document`` (the source document sealed in the evidence hashes to the input's committed digest), ``documents``
(no document in the evidence that no input names), ``coverage`` (the clear ``attestedCoverage`` and ``enteredInputs``
recomputed from the disclosed inputs and the upstream attestations' own claims) and, when the verifier demands it,
``attested`` (an entered input is a failure).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from ..aggregation import (
    CoverageInput,
    claimed_coverage,
    claimed_entered,
    coverage_of_inputs,
    format_percent,
    input_shares,
)
from ..attestation.evidence import EvidenceContent
from ..attestation.models import AttestationClaims, InputClaim
from ..decimals import format_decimal
from ..errors import ConnectorError, InvalidSignature
from ..stages import STAGES, Stage
from .messages import said
from .report import InputSummary, VerificationNode, input_summary
from .walk_context import WalkContext


def coverage_text(stages: dict[Stage, Decimal], total: Decimal) -> dict[str, str]:
    """Per-stage coverage and ``total`` as the report carries them: decimal strings with two places ("20.40"; decision
    0017 rounds coverage down to two, so a dropped zero would hide how far)."""
    return {**{s.value: format_percent(stages[s]) for s in STAGES}, "total": format_percent(total)}


def entered_summary(
    ctx: WalkContext, node: VerificationNode, index: int, inp: InputClaim, content: EvidenceContent
) -> InputSummary:
    """The report line of entered input ``index`` and its checks: ``entered input``, ``document`` and (when the
    verifier demands attested inputs) ``attested``."""
    where = {"index": index, "quantity": format_decimal(inp.quantity), "unit": inp.unit}
    who = {"kind": inp.source_kind, "supplier": inp.supplier, "by": inp.entered_by, "at": inp.entered_at}
    node.ok("entered input", said("verify.entered.input", **where, **who))
    check, size, media = _document_check(node, where, inp, content)
    if ctx.require_attested:
        node.fail("attested", said("verify.attested.entered-input", **where, **who))
    return input_summary(
        quantity=format_decimal(inp.quantity),
        unit=inp.unit,
        declared_unit=inp.declared_unit,
        company=inp.supplier,
        basis="entered",
        source_kind=inp.source_kind,
        entered_by=inp.entered_by,
        entered_at=inp.entered_at.isoformat() if inp.entered_at else None,
        supplier=inp.supplier,
        document_digest=inp.document_digest,
        document_media_type=media,
        document_size=size,
        document_check=check,
    )


def _document_check(
    node: VerificationNode, where: dict[str, object], inp: InputClaim, content: EvidenceContent
) -> tuple[str, int | None, str | None]:
    digest = inp.document_digest
    if digest is None:
        node.ok("document", said("verify.document.none", **where))
        return "no document", None, None
    sealed = content.documents.get(digest)
    if sealed is None:
        node.ok("document", said("verify.document.not-sealed", **where, digest=digest))
        return "not sealed", None, None
    try:
        data = sealed.data()
    except InvalidSignature as exc:
        node.fail("document", said("verify.document.unreadable", **where, reason=exc.reason))
        return "fail", None, sealed.media_type
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        node.fail("document", said("verify.document.mismatch", **where, actual=actual, digest=digest))
        return "fail", len(data), sealed.media_type
    node.ok("document", said("verify.document.ok", **where, media=sealed.media_type, size=len(data), digest=digest))
    return "pass", len(data), sealed.media_type


def check_documents(node: VerificationNode, inputs: list[InputClaim], content: EvidenceContent) -> None:
    """``documents``: every document sealed in the package is named by an entered input."""
    named = {i.document_digest for i in inputs if i.entered}
    for digest in content.documents:
        if digest not in named:
            node.fail("documents", said("verify.documents.unnamed", digest=digest))


def check_coverage(
    node: VerificationNode,
    claims: AttestationClaims,
    own: dict[Stage, Decimal],
    inputs: list[InputClaim],
    ctx: WalkContext,
) -> list[CoverageInput] | None:
    """``coverage``: the clear coverage and entered count recomputed; the inputs as the coverage saw them (None when
    it cannot be recomputed)."""
    try:
        coverage, entered, items = coverage_of_inputs(own, inputs, ctx.claims.get)
    except LookupError:  # an upstream attestation not bundled or unreadable: input binding/upstream values failed
        return None
    except ConnectorError as exc:
        node.fail("coverage", said("verify.coverage.cannot-recompute", reason=exc.detail))
        return None
    stated, stated_entered = claimed_coverage(claims), claimed_entered(claims)
    recomputed = coverage_text(coverage.stages, coverage.total)
    if claims.attested_coverage is None and (entered or not coverage.full):
        node.fail("coverage", said("verify.coverage.no-claim", recomputed=recomputed))
    elif stated.stages != coverage.stages or stated.total != coverage.total:
        claimed = coverage_text(stated.stages, stated.total)
        node.fail("coverage", said("verify.coverage.differs", claimed=claimed, recomputed=recomputed))
    elif stated_entered != entered:
        node.fail("coverage", said("verify.coverage.entered-differs", claimed=stated_entered, recomputed=entered))
    else:
        node.ok("coverage", said("verify.coverage.ok", total=format_decimal(coverage.total), entered=entered))
    return items


def add_shares(node: VerificationNode, own: dict[Stage, Decimal], items: list[CoverageInput]) -> None:
    """Each input line's share of the attestation's absolute mass."""
    for summary, share in zip(node.inputs or [], input_shares(own, items), strict=False):
        summary.__dict__["share_percent"] = format_decimal(share)


def require_attested_at_top(ctx: WalkContext, top: VerificationNode) -> None:
    """``attested`` on the top attestation when it claims entered inputs below and no opened package showed them."""
    if not ctx.require_attested or not top.entered_inputs:
        return
    if any(n.failed("attested") for n in top.walk()):
        return
    top.fail("attested", said("verify.attested.entered-below", count=top.entered_inputs))
