"""Server-rendered SVG charts: geometry computed here in decimals, drawn by ``templates/_charts.html.j2``.

Bars on one axis through zero (an end-of-life credit points left), a stacked coverage bar, every bar labelled with
its value in text as well, so the chart is never the only way to read the figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

WIDTH = Decimal(720)
LABEL_W = Decimal(310)
VALUE_W = Decimal(120)
BAR_H = Decimal(22)
GAP = Decimal(10)
TOP = Decimal(8)


def _c(value: Decimal) -> str:
    """An SVG coordinate: two decimal places are finer than a pixel."""
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class Bar:
    label: str
    value: str  # already formatted for the reader's locale
    x: str
    y: str
    width: str
    css: str
    text_y: str


@dataclass(frozen=True)
class BarChart:
    title: str
    width: str
    height: str
    zero_x: str
    value_x: str
    bar_h: str
    bars: tuple[Bar, ...]


def bars(title: str, rows: Sequence[tuple[str, Decimal, str, str]]) -> BarChart:
    """Horizontal bars: ``rows`` of (label, value, formatted value, css class)."""
    plot = WIDTH - LABEL_W - VALUE_W
    low = min([Decimal(0), *(v for _, v, _, _ in rows)])
    high = max([Decimal(0), *(v for _, v, _, _ in rows)])
    span = (high - low) or Decimal(1)

    def x(v: Decimal) -> Decimal:
        return LABEL_W + (v - low) * plot / span

    out = []
    for i, (label, value, shown, css) in enumerate(rows):
        y = TOP + i * (BAR_H + GAP)
        left, right = sorted((x(Decimal(0)), x(value)))
        out.append(
            Bar(label, shown, _c(left), _c(y), _c(max(right - left, Decimal("0.5"))), css, _c(y + BAR_H * 3 / 4))
        )
    height = TOP * 2 + len(rows) * (BAR_H + GAP)
    return BarChart(title, _c(WIDTH), _c(height), _c(x(Decimal(0))), _c(WIDTH - VALUE_W + 8), _c(BAR_H), tuple(out))


@dataclass(frozen=True)
class Segment:
    label: str
    count: int
    x: str
    width: str
    css: str


@dataclass(frozen=True)
class StackChart:
    title: str
    width: str
    height: str
    segments: tuple[Segment, ...]
    total: int


def stack(title: str, parts: Sequence[tuple[str, int, str]]) -> StackChart:
    """One bar split by count: ``parts`` of (label, count, css class); an empty whole draws an empty frame."""
    total = sum(count for _, count, _ in parts)
    segments = []
    left = Decimal(0)
    for label, count, css in parts:
        width = WIDTH * count / total if total else Decimal(0)
        segments.append(Segment(label, count, _c(left), _c(width), css))
        left += width
    return StackChart(title, _c(WIDTH), _c(BAR_H * 2), tuple(segments), total)
