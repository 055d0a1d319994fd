"""5. Calculation of one product with a 10,000-line bill of materials (pure engine, exact decimals).

``compute_footprint`` does the per-stage sums, the contributions, the weighted primary-data share and data quality
and the rounding. The floor is the bare arithmetic it cannot avoid: for each line, convert the quantity and add
quantity x value for the four stages (``combine_stages`` over pre-converted inputs).
"""

from __future__ import annotations

from decimal import Decimal

from connector.aggregation.engine import DataQualityRatings, OwnLine, UpstreamInput, combine_stages, compute_footprint
from connector.decimals import RoundingRule
from connector.stages import STAGES, Stage

from .common import Row, print_table, timed

NAME = "calculation"


def bom(lines: int) -> list[UpstreamInput]:
    dqr = DataQualityRatings(Decimal(2), Decimal(3), Decimal("1.5"))
    out = []
    for i in range(lines):
        values = {
            Stage.RAW_MATERIAL_ACQUISITION: Decimal(f"{1 + i % 13}.{i % 997:03d}"),
            Stage.MAIN_PRODUCTION: Decimal(f"0.{(i * 31) % 1000:03d}"),
            Stage.DISTRIBUTION: Decimal("0.012"),
            Stage.END_OF_LIFE: Decimal("-0.003"),
        }
        out.append(
            UpstreamInput(
                quantity=Decimal(f"{1 + i % 500}"),
                unit="gram" if i % 2 else "kilogram",
                upstream_unit="kilogram",
                values=values,
                primary_data_share=Decimal("75"),
                dqr=dqr,
                label=f"line {i}",
            )
        )
    return out


def run(quick: bool = False) -> list[Row]:
    rows = []
    own = [OwnLine(Stage.MAIN_PRODUCTION, Decimal("12.5"))]
    for lines in [1000, 10000] if quick else [100, 1000, 10000, 50000]:
        inputs = bom(lines)
        seconds, _ = timed(lambda inputs=inputs: compute_footprint(own, inputs), repeat=5 if lines <= 10000 else 3)
        pre = [(i.converted_quantity, i.values) for i in inputs]
        floor, _ = timed(lambda pre=pre: combine_stages({s: Decimal(0) for s in STAGES}, pre, RoundingRule()), repeat=5)
        rows.append(
            Row(
                NAME,
                f"compute_footprint, {lines:,} BOM lines",
                seconds,
                "s",
                floor,
                "bare sum of quantity x value",
                floor / seconds,
                extra={"lines": lines, "per_line_us": seconds / lines * 1e6},
            )
        )
    return rows


def show(rows: list[Row]) -> None:
    print_table("5. Calculation: one product, large bill of materials", rows)
