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
    where = f"input {index} ({format_decimal(inp.quantity)} {inp.unit})"
    who = f"{inp.source_kind}, supplier {inp.supplier}, entered by {inp.entered_by} at {inp.entered_at}"
    node.ok("entered input", f"{where} is an entered value, not attested: {who}")
    check, size, media = _document_check(node, where, inp, content)
    if ctx.require_attested:
        node.fail("attested", f"{where} is an entered value ({who}); attested inputs are required")
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
    node: VerificationNode, where: str, inp: InputClaim, content: EvidenceContent
) -> tuple[str, int | None, str | None]:
    digest = inp.document_digest
    if digest is None:
        node.ok("document", f"{where}: no source document was recorded")
        return "no document", None, None
    sealed = content.documents.get(digest)
    if sealed is None:
        node.ok("document", f"{where}: only the digest {digest} of its source document is known (not sealed)")
        return "not sealed", None, None
    try:
        data = sealed.data()
    except InvalidSignature as exc:
        node.fail("document", f"{where}: {exc.reason}")
        return "fail", None, sealed.media_type
    actual = hashlib.sha256(data).hexdigest()
    if actual != digest:
        node.fail("document", f"{where}: the sealed source document hashes to {actual}, not its digest {digest}")
        return "fail", len(data), sealed.media_type
    node.ok("document", f"{where}: source document ({sealed.media_type}, {len(data)} bytes) matches {digest}")
    return "pass", len(data), sealed.media_type


def check_documents(node: VerificationNode, inputs: list[InputClaim], content: EvidenceContent) -> None:
    """``documents``: every document sealed in the package is named by an entered input."""
    named = {i.document_digest for i in inputs if i.entered}
    for digest in content.documents:
        if digest not in named:
            node.fail("documents", f"the evidence holds a document {digest} that no entered input names")


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
        node.fail("coverage", f"cannot recompute: {exc.detail}")
        return None
    stated, stated_entered = claimed_coverage(claims), claimed_entered(claims)
    recomputed = coverage_text(coverage.stages, coverage.total)
    if claims.attested_coverage is None and (entered or not coverage.full):
        node.fail("coverage", f"no attestedCoverage claim, but it rests on entered values: {recomputed}")
    elif stated.stages != coverage.stages or stated.total != coverage.total:
        node.fail(
            "coverage",
            f"attestedCoverage claims {coverage_text(stated.stages, stated.total)}, recomputed {recomputed}",
        )
    elif stated_entered != entered:
        node.fail("coverage", f"enteredInputs claims {stated_entered}, recomputed {entered}")
    else:
        node.ok("coverage", f"{format_decimal(coverage.total)} % attested, {entered} entered input(s) in the tree")
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
    top.fail(
        "attested",
        f"{top.entered_inputs} entered input(s) in the tree below (its enteredInputs claim); attested inputs are "
        "required",
    )
