"""Attested coverage: the share of a footprint that rests on signed values, per stage and overall (issue 17).

A footprint is ``own + sum(q_i x u_i)`` per stage. The issuer signs its own emissions, so they count as attested; an
input counts as attested in the proportion its upstream attestation says it is (its clear ``attestedCoverage``), and
an input entered by hand (no attestation) counts as not attested at all. Per stage ``s``::

    mass(s)     = |own_s| + sum_i |q_i x u_i,s|
    attested(s) = |own_s| + sum_i |q_i x u_i,s| x c_i,s / 100      c_i,s = 0 for an entered input
    coverage(s) = 100 x attested(s) / mass(s)                      100 when mass(s) = 0
    coverage    = 100 x sum_s attested(s) / sum_s mass(s)          100 when the whole mass is 0

Absolute values, because end-of-life credits are negative: a credit resting on an entered value is as unproven as an
emission. ``q_i`` is in the upstream's declared unit. Every figure is rounded **down** to :data:`COVERAGE_PLACES`
decimal places, so a claim never overstates, and the rounded-down upstream figure is what the next tier uses (the
verifier recomputes from exactly that). Consequences (property-tested): the not-attested mass never shrinks on its way
downstream, a node whose only material is 80 % attested and which adds no emissions of its own is itself at most
80 % attested, and own emissions can only raise the share by what the issuer itself signs. See decision 0017.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext

from ..attestation.models import ClaimValues, CoverageClaim, InputClaim, StageValues
from ..decimals import COVERAGE_PLACES, EXACT
from ..stages import STAGES, ZERO, Stage
from ..units import convert

FULL = Decimal(100)
_QUANTUM = Decimal(1).scaleb(-COVERAGE_PLACES)


def round_down(percent: Decimal) -> Decimal:
    """``percent`` truncated to :data:`COVERAGE_PLACES` decimal places (toward zero: never overstates)."""
    with localcontext(EXACT):
        return percent.quantize(_QUANTUM, rounding=ROUND_DOWN)


@dataclass(frozen=True)
class CoverageInput:
    """One input as the coverage sees it: its quantity in the upstream declared unit, the upstream per-stage values
    and, for an attested input, the upstream's per-stage coverage in percent (None: entered, 0 %)."""

    quantity: Decimal
    values: Mapping[Stage, Decimal]
    coverage: Mapping[Stage, Decimal] | None

    @property
    def attested(self) -> bool:
        return self.coverage is not None

    def mass(self, stage: Stage) -> Decimal:
        return abs(EXACT.multiply(self.quantity, self.values.get(stage, ZERO)))


@dataclass(frozen=True)
class Coverage:
    """Per-stage and overall attested coverage, in percent, rounded down to :data:`COVERAGE_PLACES` places."""

    stages: dict[Stage, Decimal]
    total: Decimal

    @property
    def full(self) -> bool:
        return self.total == FULL and all(v == FULL for v in self.stages.values())

    @classmethod
    def complete(cls) -> Coverage:
        """100 % everywhere: what an attestation without a coverage claim (made before entered inputs) means."""
        return cls({s: FULL for s in STAGES}, FULL)


def _share(part: Decimal, whole: Decimal) -> Decimal:
    if whole == ZERO:
        return FULL
    with localcontext(EXACT):
        return round_down(part * FULL / whole)


def compute_coverage(own: Mapping[Stage, Decimal], inputs: Sequence[CoverageInput]) -> Coverage:
    """The attested coverage of ``own + sum(inputs)`` (see the module docstring for the definition).

    >>> from decimal import Decimal as D
    >>> up = {Stage.MAIN_PRODUCTION: D("10")}
    >>> c = compute_coverage({Stage.MAIN_PRODUCTION: D("5")},
    ...     [CoverageInput(D("1"), up, None), CoverageInput(D("2"), up, {Stage.MAIN_PRODUCTION: D("50")})])
    >>> str(c.stages[Stage.MAIN_PRODUCTION]), str(c.total), str(c.stages[Stage.DISTRIBUTION])
    ('36.00', '36.00', '100')
    """
    attested: dict[Stage, Decimal] = {}
    mass: dict[Stage, Decimal] = {}
    with localcontext(EXACT):
        for s in STAGES:
            own_mass = abs(own.get(s, ZERO))
            weighted, m = ZERO, own_mass  # weighted: sum of mass x percent, divided by 100 once
            for item in inputs:
                w = item.mass(s)
                m += w
                if item.coverage is not None:
                    weighted += w * item.coverage.get(s, FULL)
            attested[s], mass[s] = own_mass + weighted / FULL, m
        total_a, total_m = sum(attested.values(), ZERO), sum(mass.values(), ZERO)
    return Coverage({s: _share(attested[s], mass[s]) for s in STAGES}, _share(total_a, total_m))


def input_shares(own: Mapping[Stage, Decimal], inputs: Sequence[CoverageInput]) -> list[Decimal]:
    """The share (percent, rounded down) of the footprint's absolute mass, all stages, that each input carries (0 for
    every input when the whole mass is 0). Linear in the inputs: a pack may have thousands."""
    with localcontext(EXACT):
        parts = [sum((item.mass(s) for s in STAGES), ZERO) for item in inputs]
        whole = sum((abs(own.get(s, ZERO)) for s in STAGES), ZERO) + sum(parts, ZERO)
    if whole == ZERO:
        return [ZERO for _ in parts]
    return [_share(part, whole) for part in parts]


def input_share(own: Mapping[Stage, Decimal], inputs: Sequence[CoverageInput], index: int) -> Decimal:
    """The share of input ``index`` (see :func:`input_shares`)."""
    return input_shares(own, inputs)[index]


def entered_count(own_entered: int, upstream_counts: Sequence[int]) -> int:
    """Entered inputs in the whole tree below a footprint: its own plus what each attested input's claim says."""
    return own_entered + sum(upstream_counts)


# --- the claims of an attestation ------------------------------------------------------------------------------------


def claimed_coverage(claims: ClaimValues) -> Coverage:
    """The coverage an attestation's clear claims state; 100 % when it has no ``attestedCoverage`` (made before
    entered inputs existed, so it could not rest on any)."""
    if claims.attested_coverage is None:
        return Coverage.complete()
    return Coverage(claims.attested_coverage.stages.as_dict(), claims.attested_coverage.total)


def claimed_entered(claims: ClaimValues) -> int:
    """The number of entered inputs an attestation's clear claims state below it (0 when absent)."""
    return claims.entered_inputs or 0


def coverage_claim(coverage: Coverage) -> CoverageClaim:
    """``coverage`` as the clear ``attestedCoverage`` claim."""
    stages: dict[Stage | str, Decimal | str] = {s: v for s, v in coverage.stages.items()}
    return CoverageClaim(stages=StageValues.from_mapping(stages), total=coverage.total)


def coverage_of_inputs(
    own: Mapping[Stage, Decimal], inputs: Sequence[InputClaim], upstream: Callable[[str], ClaimValues | None]
) -> tuple[Coverage, int, list[CoverageInput]]:
    """The coverage and entered count of a footprint from its hidden claims: ``upstream(digest)`` gives the clear
    claims of an attested input's attestation (None: unknown, UnitError/ValidationFailed are the caller's).

    Returns (coverage, entered inputs in the tree below, each input as :func:`compute_coverage` saw it). Raises
    LookupError naming the digest when an attested input's claims are unknown."""
    items: list[CoverageInput] = []
    counts: list[int] = []
    own_entered = 0
    for inp in inputs:
        quantity = convert(inp.quantity, inp.unit, inp.declared_unit)
        values = inp.upstream.as_dict()
        if inp.entered:
            own_entered += 1
            items.append(CoverageInput(quantity, values, None))
            continue
        assert inp.attestation_digest is not None
        claims = upstream(inp.attestation_digest)
        if claims is None:
            raise LookupError(inp.attestation_digest)
        items.append(CoverageInput(quantity, values, claimed_coverage(claims).stages))
        counts.append(claimed_entered(claims))
    return compute_coverage(own, items), entered_count(own_entered, counts), items
