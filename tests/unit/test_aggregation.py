"""The footprint calculation: exact sums per stage, weighted primary share and DQR, cycles."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connector.aggregation import (
    DataQualityRatings,
    OwnLine,
    UpstreamInput,
    combine_stages,
    compute_footprint,
    detect_cycle,
)
from connector.aggregation.engine import require_acyclic
from connector.decimals import RoundingRule
from connector.errors import CycleError, UnitError, ValidationFailed
from connector.stages import STAGES, Stage

RAW, MAIN, DIST, EOL = Stage.RAW_MATERIAL_ACQUISITION, Stage.MAIN_PRODUCTION, Stage.DISTRIBUTION, Stage.END_OF_LIFE


def dq(t: str, g: str, tm: str) -> DataQualityRatings:
    return DataQualityRatings(D(t), D(g), D(tm))


def test_own_plus_converted_inputs():
    result = compute_footprint(
        [OwnLine(MAIN, D("1.5")), OwnLine(RAW, D("0.31"), D("8.1"))],
        [
            UpstreamInput(D("440"), "gram", "kilogram", {RAW: D("15.2")}),
            UpstreamInput(D("0.95"), "kilogram", "kilogram", {RAW: D("19.821"), MAIN: D("1.52")}),
        ],
    )
    assert result.stages[RAW] == D("0.31") * D("8.1") + D("0.44") * D("15.2") + D("0.95") * D("19.821")
    assert result.stages[MAIN] == D("1.5") + D("0.95") * D("1.52")
    assert result.stages[DIST] == 0 and result.stages[EOL] == 0
    assert result.total == sum(result.stages.values())
    assert result.own == {RAW: D("2.511"), MAIN: D("1.5"), DIST: 0, EOL: 0}
    assert [c.label for c in result.contributions][-2:] == ["input", "input"]
    assert result.contributions[2].stages[RAW] == D("6.688")


def test_negative_end_of_life_credit():
    result = compute_footprint(
        [OwnLine(MAIN, D("278")), OwnLine(DIST, D("113")), OwnLine(EOL, D("-225"))],
        [UpstreamInput(D("2"), "piece", "piece", {RAW: D("10"), EOL: D("-1.5")})],
    )
    assert result.stages[EOL] == D("-228")
    assert result.total == D("278") + D("113") - D("225") + D("20") - D("3")


def test_rounded_once_half_even_per_stage():
    third = D(1) / D(3)
    result = compute_footprint([OwnLine(MAIN, third), OwnLine(MAIN, third), OwnLine(MAIN, third)], [], RoundingRule(2))
    assert result.stages[MAIN] == D("1.00")  # summed exactly, then rounded; not 0.33 x 3 = 0.99
    assert str(result.rounding) == "decimal-places:2;half-even"
    assert compute_footprint([OwnLine(MAIN, D("0.125"))], [], RoundingRule(2)).stages[MAIN] == D("0.12")
    assert compute_footprint([OwnLine(MAIN, D("0.135"))], [], RoundingRule(2)).stages[MAIN] == D("0.14")


def test_exact_keeps_digits_the_rounding_drops():
    result = compute_footprint([OwnLine(MAIN, D("0.0000000000004"))], [])
    assert result.stages[MAIN] == 0
    assert result.exact[MAIN] == D("0.0000000000004")


def test_combine_stages_matches_compute():
    own = {MAIN: D("3.44"), RAW: D("4.4")}
    inputs = [(D("0.481"), {RAW: D("25.51795"), MAIN: D("4.494")}), (D("0.333"), {RAW: D(4), MAIN: D("5.1")})]
    combined = combine_stages(own, inputs, RoundingRule(12))
    assert combined[RAW] == D("18.00613395") and combined[MAIN] == D("7.299914")
    assert set(combined) == set(STAGES)


def test_primary_share_weighted_by_absolute_emissions():
    result = compute_footprint(
        [
            OwnLine(MAIN, D("3"), primary_share=D(100)),
            OwnLine(EOL, D("-1"), primary_share=D(100)),
            OwnLine(RAW, D("2"), primary_share=D(0)),
        ],
        [UpstreamInput(D(1), "kilogram", "kilogram", {RAW: D("4")}, primary_data_share=D(50))],
    )
    # weights 3, |-1|, 2, 4 -> (300 + 100 + 0 + 200) / 10
    assert result.primary_data_share == D("60.00")


def test_primary_share_rounds_to_two_places():
    result = compute_footprint([OwnLine(MAIN, D(1), primary_share=D(100)), OwnLine(RAW, D(2), primary_share=D(0))], [])
    assert result.primary_data_share == D("33.33")


def test_input_without_share_is_left_out_of_the_weighting():
    result = compute_footprint(
        [OwnLine(MAIN, D(1), primary_share=D(80))], [UpstreamInput(D(1), "kilogram", "kilogram", {RAW: D(9)})]
    )
    assert result.primary_data_share == D(80)


def test_dqr_weighted_by_absolute_emissions():
    result = compute_footprint(
        [OwnLine(MAIN, D("1"), dqr=dq("1", "1", "1")), OwnLine(EOL, D("-1"), dqr=dq("3", "1", "2"))],
        [UpstreamInput(D("2"), "kilogram", "kilogram", {RAW: D("1")}, dqr=dq("2", "4", "5"))],
    )
    # weights 1, 1, 2
    assert result.dqr == DataQualityRatings(D("2.00"), D("2.50"), D("3.25"))


def test_no_dqr_no_share_when_nothing_weighs():
    result = compute_footprint([OwnLine(MAIN, D(0))], [])
    assert result.primary_data_share is None and result.dqr is None
    assert compute_footprint([OwnLine(MAIN, D(1))], []).dqr is None


@pytest.mark.parametrize("rating", ["0", "5.01", "-1"])
def test_dqr_bounds(rating):
    with pytest.raises(ValidationFailed):
        dq(rating, "1", "1")


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_non_positive_input_quantity(quantity):
    with pytest.raises(ValidationFailed):
        compute_footprint([], [UpstreamInput(D(quantity), "kilogram", "kilogram", {RAW: D(1)})])


def test_incompatible_input_unit():
    with pytest.raises(UnitError):
        compute_footprint([], [UpstreamInput(D(1), "kilowatt hour", "kilogram", {RAW: D(1)})])


def test_energy_input_converted():
    result = compute_footprint([], [UpstreamInput(D("7.2"), "megajoule", "kilowatt hour", {MAIN: D("0.5")})])
    assert result.stages[MAIN] == D("1")


# cycles


def test_cycle_found_with_its_path():
    assert detect_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}, "a") == ["a", "b", "c", "a"]
    assert detect_cycle({"a": ["a"]}, "a") == ["a", "a"]
    assert detect_cycle({"a": ["b"], "b": ["c"], "c": ["b"]}, "a") == ["b", "c", "b"]


def test_no_cycle():
    diamond = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}
    assert detect_cycle(diamond, "a") is None
    assert detect_cycle({}, "a") is None
    assert detect_cycle({"a": ["b"], "x": ["y"], "y": ["x"]}, "a") is None  # not reachable from a
    require_acyclic(diamond, "a")


def test_cycle_behind_a_shared_node():
    edges = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": ["e"], "e": ["c"]}
    cycle = detect_cycle(edges, "a")
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"c", "d", "e"}


def test_deep_chain_does_not_recurse():
    edges = {str(i): [str(i + 1)] for i in range(20000)}
    assert detect_cycle(edges, "0") is None
    edges["20000"] = ["0"]
    assert len(detect_cycle(edges, "0")) == 20002


def test_require_acyclic_raises_cycle_error():
    with pytest.raises(CycleError) as info:
        require_acyclic({"a": ["b"], "b": ["a"]}, "a")
    assert info.value.status == 422 and "a -> b -> a" in info.value.detail
    assert info.value.errors[0]["field"] == "bom"
