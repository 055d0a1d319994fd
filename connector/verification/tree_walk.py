"""The tree walk: from an attestation down through the packages its evidence names, checking the upstream links.

Per attestation (after :mod:`.attestation_check`): ``cycle`` (an attestation or a package id twice on one path),
``depth``, ``visits`` (the walk's budget), ``input binding`` (each input's ``attestationDigest`` is a bundled upstream
attestation), ``upstream values`` (the disclosed upstream stages and unit are that attestation's clear claims),
``upstream binding`` (nothing bundled unused); :mod:`.reachability` then checks that the walk reached every package.
Evidence is flat (decision 0004, bundle v2): the bundle maps random package ids to
packages, and each opened package names its upstream attestations' packages by id; the walk follows the ids.

Below the root of a large tree the subtrees are verified in forked worker processes (:class:`SubtreePool`) and
merged in walk order: the report is the same as the sequential walk's.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..attestation.attestation import CheckedPayload, attestation_digest
from ..attestation.evidence import EvidenceContent, UpstreamPackage
from ..attestation.models import AttestationClaims, HiddenClaims
from ..decimals import format_decimal
from ..errors import InvalidSignature
from .attestation_check import (
    check_arithmetic,
    check_attestation,
    digest_or_fail,
    open_attestation_evidence,
    open_hidden,
    peek,
    stage_text,
)
from .entered import add_shares, check_coverage, check_documents, entered_summary
from .messages import said
from .report import VerificationNode, input_summary, pack_node, unpack_node
from .walk_context import Binding, WalkContext

MAX_DEPTH = 32
"""Deeper evidence trees are refused: real battery chains have 5-8 tiers."""
VISITS_SLACK = 256
VISITS_PER_PACKAGE = 16
"""The walk visits at most this many attestations per bundled package (plus :data:`VISITS_SLACK`): flat evidence is a
graph, and a package reached from several parents (one supplier attestation used by two products of its customer that
both end in the pack) is verified once per path. Honest sharing stays far below this; without a bound, a few thousand
crafted packages naming the same packages again at every level would cost width^depth visits. With it, a bundle costs
at most this many times an honest bundle of as many packages."""

PARALLEL_MIN_ATTESTATIONS = 200
"""Below about this many packages in the bundle, it is verified in this process (see ``workers``)."""
CHUNKS_PER_WORKER = 16
"""Items are claimed in about this many chunks per process: small enough that a loaded core or a larger subtree
does not leave the other cores idle at the end, large enough that claiming costs nothing."""


@dataclass(frozen=True)
class Position:
    """Where an attestation is in the tree: the company using it (None: not checked) and its label for the report,
    the digests above it and their package ids."""

    used_by: str | None
    user: str
    path: tuple[str, ...] = ()
    ids: tuple[str | None, ...] = ()


def walk_attestation(
    ctx: WalkContext, sd_jwt: str, package_id: str | None, at: Position, digest: str | None = None
) -> VerificationNode:
    """Verify one attestation and (with the key) the subtree below its package ``package_id`` (an id in
    ``ctx.packages``, or None when it has no evidence); ``digest``: :func:`attestation_digest` of ``sd_jwt`` when the
    caller has it."""
    node = VerificationNode(kind="attestation")
    node.package = package_id
    if digest is None:
        digest = digest_or_fail(node, sd_jwt)
        if digest is None:
            return node
    node.digest = digest
    issuer_jwt = sd_jwt.split("~", 1)[0]
    if not _within_bounds(ctx, node, issuer_jwt, digest, package_id, at):
        return node
    checked, claims = check_attestation(ctx, node, sd_jwt, issuer_jwt, digest, used_by=at.used_by, user=at.user)
    content = open_attestation_evidence(ctx, node, package_id, issuer_jwt, digest)
    if content is not None:
        below = Position(
            node.company, node.company_name or node.company or "?", (*at.path, digest), (*at.ids, package_id)
        )
        _walk_upstream(ctx, node, sd_jwt, checked, claims, content, below)
    return node


def _within_bounds(
    ctx: WalkContext, node: VerificationNode, issuer_jwt: str, digest: str, package_id: str | None, at: Position
) -> bool:
    """``cycle``, ``depth`` and ``visits``: whether the walk goes on with this attestation (counted as a visit)."""
    if digest in at.path or (package_id is not None and package_id in at.ids):
        peek(node, issuer_jwt)
        if digest in at.path:
            node.fail("cycle", said("verify.cycle.attestation", digest=digest, user=at.user))
        else:
            node.fail("cycle", said("verify.cycle.package", package=package_id, user=at.user))
        return False
    if len(at.path) >= MAX_DEPTH:
        node.fail("depth", said("verify.depth.too-deep", tiers=MAX_DEPTH))
        return False
    ctx.visits += 1
    if ctx.visits > VISITS_PER_PACKAGE * len(ctx.packages) + VISITS_SLACK:
        peek(node, issuer_jwt)
        node.fail("visits", said("verify.visits.too-many", per=VISITS_PER_PACKAGE, packages=len(ctx.packages)))
        return False
    return True


def _bundled_upstream(content: EvidenceContent) -> tuple[dict[str, UpstreamPackage], list[str], list[str]]:
    """The upstream entries of an opened package by digest, their order, and what is wrong with the others."""
    upstream: dict[str, UpstreamPackage] = {}
    order: list[str] = []
    problems: list[str] = []
    for item in content.upstream:
        try:
            d = attestation_digest(item.attestation)
        except InvalidSignature:
            problems.append("an upstream entry is not an SD-JWT")
            continue
        if d in upstream:
            problems.append(f"upstream attestation {d} bundled twice")
            continue
        upstream[d] = item
        order.append(d)
    return upstream, order, problems


def _walk_upstream(
    ctx: WalkContext,
    node: VerificationNode,
    sd_jwt: str,
    checked: CheckedPayload | None,
    claims: AttestationClaims | None,
    content: EvidenceContent,
    below: Position,
) -> None:
    """The subtrees below an opened attestation, each bound to the input naming it, then the arithmetic."""
    upstream, order, problems = _bundled_upstream(content)
    # Below the root of a large tree the subtrees are verified in worker processes, started now so that they work
    # while this process checks the root's own disclosures (9,999 of them for a pack with 9,999 inputs)
    parallel = _parallel_here(ctx, below.path, order)
    pool = SubtreePool.start(ctx, [(d, upstream[d]) for d in order], below) if parallel else None
    try:
        hidden = open_hidden(node, checked, sd_jwt, content)
        for problem in problems:
            node.fail("upstream binding", problem)
    except BaseException:
        if pool is not None:
            pool.pool.shutdown(cancel_futures=True)
        raise
    visiting = _visiting_order(hidden, upstream, order)
    done = pool.finish() if pool is not None else None
    subtrees: Iterator[VerificationNode]
    if done is not None:
        subtrees = _merge(ctx, _in_walk_order(visiting, dict(zip(order, done, strict=True))))
    else:
        subtrees = (walk_attestation(ctx, upstream[d].attestation, upstream[d].package, below, d) for d in visiting)
    used: set[str] = set()
    if hidden is not None:
        assert claims is not None
        _bind_inputs(ctx, node, hidden, upstream, subtrees, used, content)
        check_arithmetic(node, claims, hidden)
        own = hidden.own_emissions.as_dict()
        items = check_coverage(node, claims, own, hidden.inputs, ctx)
        check_documents(node, hidden.inputs, content)
        if items is not None:
            add_shares(node, own, items)
    for d in order:
        if d in used:
            continue
        child = next(subtrees)
        node.children.append(child)
        if hidden is not None:
            node.fail(
                "upstream binding",
                said("verify.upstream-binding.unused", attestation=child.attestation_id, company=child.company),
            )


def _visiting_order(hidden: HiddenClaims | None, upstream: dict[str, UpstreamPackage], order: list[str]) -> list[str]:
    """The digests of the subtrees in the order the walk visits them: the inputs found, then the bundled ones no
    input uses."""
    if hidden is None:
        return list(order)
    visiting = [d for i in hidden.inputs if (d := i.attestation_digest) is not None and d in upstream]
    named = {i.attestation_digest for i in hidden.inputs}
    return visiting + [d for d in order if d not in named]


def _bind_inputs(
    ctx: WalkContext,
    node: VerificationNode,
    hidden: HiddenClaims,
    upstream: dict[str, UpstreamPackage],
    subtrees: Iterator[VerificationNode],
    used: set[str],
    content: EvidenceContent,
) -> None:
    """``input binding`` and ``upstream values`` of each disclosed input; its subtree becomes a child. An entered
    input has neither: its provenance and document are checked (:mod:`.entered`)."""
    node.own_emissions = {s.value: format_decimal(v) for s, v in hidden.own_emissions.as_dict().items()}
    node.inputs = []
    for i, inp in enumerate(hidden.inputs):
        if inp.attestation_digest is None:
            node.inputs.append(entered_summary(ctx, node, i, inp, content))
            continue
        summary = input_summary(  # validated values, built as report.unpack_node builds them
            attestation_digest=inp.attestation_digest,
            quantity=format_decimal(inp.quantity),
            unit=inp.unit,
            declared_unit=inp.declared_unit,
        )
        node.inputs.append(summary)
        if inp.attestation_digest not in upstream:
            named = said(
                "verify.input-binding.not-bundled",
                index=i,
                quantity=summary.quantity,
                unit=inp.unit,
                digest=inp.attestation_digest,
            )
            node.fail("input binding", named)
            continue
        used.add(inp.attestation_digest)
        child = next(subtrees)
        node.children.append(child)
        summary.__dict__["company"] = child.company
        bound = said("verify.input-binding.ok", index=i, attestation=child.attestation_id, company=child.company)
        node.ok("input binding", bound)
        up = ctx.claims.get(inp.attestation_digest)
        if up is None:
            node.fail("upstream values", said("verify.upstream-values.unreadable", index=i))
        elif up.stages != inp.upstream or up.declared_unit != inp.declared_unit:
            used_values, stated = stage_text(inp.upstream), stage_text(up.stages)
            differ = said(
                "verify.upstream-values.differ", index=i, used=used_values, unit=inp.declared_unit,
                company=child.company, stated=stated, stated_unit=up.declared_unit,
            )  # fmt: skip
            node.fail("upstream values", differ)
        else:
            node.ok("upstream values", said("verify.upstream-values.ok", index=i, company=child.company))


# --- subtrees in worker processes -----------------------------------------------------------------------------------

Visit = tuple[VerificationNode, AttestationClaims | None, list[Binding]]
"""A verified subtree: its node, its root's claims and the certifications it bound."""
Item = tuple[str, UpstreamPackage]
"""A subtree to verify: its attestation's digest (the parent computed it) and the upstream entry."""
_JOB: tuple[WalkContext, list[Item], Position, Any, int] | None = None
"""What the forked workers verify (inherited, not pickled: trust store, key and packages stay in memory), with the
shared counter from which every process claims the next chunk of items, and the chunk size."""


def _parallel_here(ctx: WalkContext, here: tuple[str, ...], items: list[str]) -> bool:
    """Whether the subtrees below ``here`` go to worker processes: below the root only (one split, no nested
    pools), with more than one worker and subtree, for a bundle of about :data:`PARALLEL_MIN_ATTESTATIONS` packages."""
    return len(here) == 1 and ctx.workers > 1 and len(items) > 1 and len(ctx.packages) >= PARALLEL_MIN_ATTESTATIONS


def _in_walk_order(visiting: list[str], done: dict[str, Visit]) -> list[Visit]:
    """The verified subtrees in the order the walk visits them (a subtree visited twice: a copy the second time)."""
    seen: set[str] = set()
    out = []
    for d in visiting:
        node, claims, bindings = done[d]
        out.append((node.model_copy(deep=True), claims, bindings) if d in seen else done[d])
        seen.add(d)
    return out


def _visit(ctx: WalkContext, item: Item, below: Position) -> Visit:
    """Verify one subtree as the sequential walk would: its node, its root's claims (all the parent reads of
    ``ctx.claims``) and the certifications it bound."""
    ctx.bindings = []
    digest, entry = item
    node = walk_attestation(ctx, entry.attestation, entry.package, below, digest)
    return node, (ctx.claims.get(node.digest) if node.digest else None), ctx.bindings


def _claimed(counter: Any, chunk: int, total: int) -> Iterator[int]:
    """The indexes of the items this process verifies: chunk after chunk, claimed from the shared counter."""
    while True:
        with counter.get_lock():
            start = counter.value
            counter.value = start + chunk
        if start >= total:
            return
        yield from range(start, min(start + chunk, total))


def _visit_claimed() -> bytes:
    """In a worker: verify the chunks it claims; the results packed compactly (plain tuples, one pickle) so that the
    parent rebuilds the nodes without pickle walking thousands of pydantic models one by one."""
    assert _JOB is not None
    ctx, items, below, counter, chunk = _JOB
    out = []
    for index in _claimed(counter, chunk, len(items)):
        node, claims, bindings = _visit(ctx, items[index], below)
        out.append((index, pack_node(node), claims, bindings))  # a claims model pickles ~6x faster than it re-validates
    return pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class SubtreePool:
    """Subtrees verified in this process and ``ctx.workers - 1`` forked ones, each claiming chunks of items from a
    shared counter until none is left (so a process that is slowed down, or got larger subtrees, simply takes fewer).
    :meth:`start` forks the workers; :meth:`finish` takes this process's part of the work and collects the rest."""

    ctx: WalkContext
    items: list[Item]
    below: Position
    counter: Any
    chunk: int
    pool: ProcessPoolExecutor
    futures: list[Future[bytes]]

    @classmethod
    def start(cls, ctx: WalkContext, items: list[Item], below: Position) -> SubtreePool | None:
        """None without the ``fork`` start method."""
        global _JOB
        try:
            context = multiprocessing.get_context("fork")
        except ValueError:
            return None
        chunk = max(1, len(items) // (ctx.workers * CHUNKS_PER_WORKER))
        counter = context.Value("q", 0)
        _JOB = (ctx, items, below, counter, chunk)
        try:
            pool = ProcessPoolExecutor(max_workers=ctx.workers - 1, mp_context=context)
            futures = [pool.submit(_visit_claimed) for _ in range(ctx.workers - 1)]
        finally:
            _JOB = None
        return cls(ctx, items, below, counter, chunk, pool, futures)

    def finish(self) -> list[Visit] | None:
        """Every item's visit, in item order; None when that cannot give the sequential result: a subtree hit the
        depth limit (its claims could then depend on sibling subtrees) or the visit budget (counted per process)."""
        ctx, items = self.ctx, self.items
        claims, bindings, bound, visits_before = ctx.claims, ctx.bindings, set(ctx.bound), ctx.visits
        cert_checks = [(cert_node, len(cert_node.checks)) for pairs in ctx.certs.values() for _, cert_node in pairs]
        results: list[Visit | None] = [None] * len(items)
        with self.pool:
            try:
                ctx.claims = dict(claims)
                for index in _claimed(self.counter, self.chunk, len(items)):
                    results[index] = _visit(ctx, items[index], self.below)
            finally:
                # the certifications this process bound are bound again by the merge, in walk order
                ctx.claims, ctx.bindings, ctx.bound = claims, bindings, bound
                ctx.visits = visits_before  # the sequential re-walk (when this returns None) counts from here
                for cert_node, count in cert_checks:
                    del cert_node.checks[count:]
            for future in self.futures:
                for index, packed, claim, bound_here in pickle.loads(future.result()):  # noqa: S301 - our own fork
                    results[index] = (unpack_node(packed), claim, bound_here)
        visits = [v for v in results if v is not None]
        if len(visits) != len(items) or any(
            n.failed("depth") or n.failed("visits") for v in visits for n in v[0].walk()
        ):
            return None
        return visits


def _merge(ctx: WalkContext, visits: Iterable[Visit]) -> Iterator[VerificationNode]:
    """The nodes of ``visits``, each with what its subtree recorded applied here as the walk would have (its root's
    claims, the certifications it bound)."""
    for node, claims, bindings in visits:
        if claims is not None and node.digest:
            ctx.claims[node.digest] = claims
        for digest, index, detail in bindings:
            check, cert_node = ctx.certs[digest][index]
            ctx.bound.add(check.payload.jti)
            cert_node.ok("binding", detail)
            ctx.bindings.append((digest, index, detail))
        yield node
