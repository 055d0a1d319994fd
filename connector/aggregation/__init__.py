"""The footprint calculation: exact Decimal, per EU stage, with data quality weighting. Pure; no I/O."""

from ..decimals import COVERAGE_PLACES, format_percent
from .coverage import (
    Coverage,
    CoverageInput,
    claimed_coverage,
    claimed_entered,
    compute_coverage,
    coverage_claim,
    coverage_of_inputs,
    entered_count,
    input_share,
    input_shares,
    round_down,
)
from .engine import (
    Contribution,
    DataQualityRatings,
    FootprintResult,
    OwnLine,
    UpstreamInput,
    combine_stages,
    compute_footprint,
    detect_cycle,
)

__all__ = [
    "COVERAGE_PLACES",
    "Coverage",
    "CoverageInput",
    "claimed_coverage",
    "claimed_entered",
    "compute_coverage",
    "coverage_claim",
    "coverage_of_inputs",
    "entered_count",
    "format_percent",
    "input_share",
    "input_shares",
    "round_down",
    "Contribution",
    "DataQualityRatings",
    "FootprintResult",
    "OwnLine",
    "UpstreamInput",
    "combine_stages",
    "compute_footprint",
    "detect_cycle",
]
