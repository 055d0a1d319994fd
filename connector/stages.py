"""The four EU Battery Regulation life-cycle stages (Annex II point 4) and per-stage value sets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum


class Stage(StrEnum):
    RAW_MATERIAL_ACQUISITION = "raw_material_acquisition"
    MAIN_PRODUCTION = "main_production"
    DISTRIBUTION = "distribution"
    END_OF_LIFE = "end_of_life"


STAGES: tuple[Stage, ...] = tuple(Stage)
ZERO = Decimal(0)


def zero_stages() -> dict[Stage, Decimal]:
    return {s: ZERO for s in STAGES}


def stage_map(values: Mapping[str, Decimal] | Iterable[tuple[str, Decimal]]) -> dict[Stage, Decimal]:
    """Complete per-stage mapping from a partial one; unknown stage names raise ValueError."""
    out = zero_stages()
    items = values.items() if isinstance(values, Mapping) else values
    for name, value in items:
        out[Stage(name)] += value
    return out


def stage_total(values: Mapping[Stage, Decimal]) -> Decimal:
    return sum((values[s] for s in STAGES), ZERO)
