"""The footprint calculation: exact Decimal, per EU stage, with data quality weighting. Pure; no I/O."""

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
    "Contribution",
    "DataQualityRatings",
    "FootprintResult",
    "OwnLine",
    "UpstreamInput",
    "combine_stages",
    "compute_footprint",
    "detect_cycle",
]
