"""Human-readable, print-friendly HTML of a declaration and of its declaration of conformity.

Self-contained pages: inline CSS and an inline SVG chart, no scripts, no external assets. Templates ship in the
package (``templates/``) and are rendered with autoescaping on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from ..decimals import EXACT, format_decimal, format_percent
from ..stages import stage_total
from .doc import DeclarationOfConformity
from .models import ART7_ITEMS, STAGE_TITLES, Certification, Declaration

# Chart geometry, in SVG user units.
_LABEL_W = Decimal(250)
_PLOT_W = Decimal(400)
_VALUE_W = Decimal(110)
_BAR_H = Decimal(26)
_GAP = Decimal(14)
_TOP = Decimal(12)


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    x: Decimal
    width: Decimal
    y: Decimal
    css: str


@dataclass(frozen=True)
class Chart:
    width: Decimal
    height: Decimal
    zero_x: Decimal
    label_x: Decimal
    value_x: Decimal
    bar_height: Decimal
    bars: tuple[Bar, ...]


def stage_chart(declaration: Declaration) -> Chart:
    """Horizontal bars for each stage and the total, on one axis through zero, so a credit points left."""
    rows = [(s.title, s.value, f"b-{s.stage.value}") for s in declaration.stages]
    rows.append(("Total", declaration.carbon_footprint.value, "b-total"))
    low = min([Decimal(0), *(v for _, v, _ in rows)])
    high = max([Decimal(0), *(v for _, v, _ in rows)])
    span = high - low or Decimal(1)

    def x(v: Decimal) -> Decimal:
        return _coord(_LABEL_W + EXACT.divide(EXACT.multiply(v - low, _PLOT_W), span))

    bars = []
    for i, (label, value, css) in enumerate(rows):
        total = css == "b-total"
        left, right = x(min(value, Decimal(0))), x(max(value, Decimal(0)))
        bars.append(
            Bar(
                label=label,
                value=format_decimal(value),
                x=left,
                width=max(right - left, Decimal("0.5")),
                y=_TOP + i * (_BAR_H + _GAP) + (_GAP if total else 0),
                css=css if total or value >= 0 else "neg",
            )
        )
    height = _TOP * 2 + len(rows) * (_BAR_H + _GAP) + _GAP
    return Chart(
        width=_LABEL_W + _PLOT_W + _VALUE_W,
        height=height,
        zero_x=x(Decimal(0)),
        label_x=_LABEL_W - 12,
        value_x=_LABEL_W + _PLOT_W + 8,
        bar_height=_BAR_H,
        bars=tuple(bars),
    )


def _share_px(percent: Decimal) -> int:
    # A share bar of at most 60 px; shares outside 0-100 % (a credit, or suppliers above the total) are clipped.
    return int(min(max(percent, Decimal(0)), Decimal(100)) * 6 // 10)


def _coord(v: Decimal) -> Decimal:
    return v.quantize(Decimal("0.1"))


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("connector.declaration", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["dec"] = format_decimal
    env.filters["pct"] = format_percent  # coverage: two places kept ("20.40"), as the verification report shows it
    env.filters["share_px"] = _share_px
    return env


@dataclass(frozen=True)
class BundleCheck:
    """A notified body's verification of the declaration's evidence bundle, made after the declaration was signed:
    shown beside the declaration, never folded into its signed verification status."""

    verifier: str
    verifier_id: str | None
    date: dt.date
    valid: bool
    summary: str
    """The verifier's verdict, e.g. ``valid, 87.5 % attested (1 entered input)``."""
    reference: str | None = None


def render_declaration_html(declaration: Declaration, check: BundleCheck | None = None) -> str:
    """The declaration as a standalone HTML page: Art. 7 items, stage chart, suppliers, attested coverage,
    verification. Every figure and status is the declaration's own (the signed document); ``check``, a verification of
    its bundle, is shown in a section of its own."""
    contributed = sum((c.kg_co2e for c in declaration.supplier_contributions), Decimal(0))
    absolute = declaration.absolute_carbon_footprint.value
    tiers: dict[int, list[Certification]] = {}
    for cert in sorted(declaration.certifications, key=lambda c: (c.tier, c.company_name)):
        tiers.setdefault(cert.tier, []).append(cert)
    return (
        _env()
        .get_template("declaration.html.j2")
        .render(
            d=declaration,
            items=[(letter, title) for letter, title, _ in ART7_ITEMS],
            chart=stage_chart(declaration),
            stage_sum=stage_total({s.stage: s.value for s in declaration.stages}),
            remainder=absolute - contributed,
            tiers=sorted(tiers.items()),
            cov=declaration.attested_coverage,
            stage_titles=STAGE_TITLES,
            check=check,
        )
    )


def render_conformity_html(doc: DeclarationOfConformity) -> str:
    """The Annex IX declaration of conformity as a standalone HTML page."""
    return _env().get_template("conformity.html.j2").render(doc=doc)
