"""Unit conversion: within mass, within energy, count; anything else is a UnitError."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connector.errors import UnitError, ValidationFailed
from connector.units import PACT_DECLARED_UNITS, convert, dimension, mass_per_declared_unit, normalize_unit


@pytest.mark.parametrize(
    ("amount", "src", "dst", "expected"),
    [
        ("440", "gram", "kilogram", "0.44"),
        ("0.44", "kilogram", "gram", "440"),
        ("1", "ton", "kilogram", "1000"),
        ("2.5", "tonne", "gram", "2500000"),
        ("1", "g", "t", "0.000001"),
        ("1500", "watt hour", "kilowatt hour", "1.5"),
        ("1", "megawatt hour", "kilowatt hour", "1000"),
        ("1", "kilowatt hour", "megajoule", "3.6"),
        ("3.6", "megajoule", "kilowatt hour", "1"),
        ("36", "MJ", "Wh", "10000"),
        ("7.2", "megajoule", "megawatt hour", "0.002"),
        ("1", "MWh", "MJ", "3600"),
        ("204", "piece", "piece", "204"),
        ("3", "pcs", "piece", "3"),
        ("12", "kWh", "kilowatt-hour", "12"),
    ],
)
def test_conversions_are_exact(amount, src, dst, expected):
    assert convert(D(amount), src, dst) == D(expected)


def test_megajoule_round_trip_is_exact():
    assert convert(convert(D("1"), "kilowatt hour", "megajoule"), "megajoule", "kilowatt hour") == D(1)
    assert convert(convert(D("10"), "megajoule", "watt hour"), "watt hour", "megajoule") == D(10)


@pytest.mark.parametrize(
    ("src", "dst"),
    [
        ("kilogram", "kilowatt hour"),
        ("piece", "kilogram"),
        ("megajoule", "gram"),
        ("liter", "kilogram"),
        ("kilogram", "liter"),
        ("square meter", "piece"),
    ],
)
def test_incompatible_units(src, dst):
    with pytest.raises(UnitError) as info:
        convert(D(1), src, dst)
    assert info.value.status == 422 and info.value.errors[0]["field"] == "unit"


@pytest.mark.parametrize("unit", ["furlong", "", "kilograms", "k g"])
def test_unknown_units(unit):
    with pytest.raises(UnitError):
        normalize_unit(unit)
    with pytest.raises(UnitError):
        convert(D(1), unit, "kilogram")


def test_unit_error_is_a_validation_error():
    assert issubclass(UnitError, ValidationFailed)


def test_normalize_and_dimension():
    assert normalize_unit(" KG ") == "kilogram"
    assert normalize_unit("kWh") == "kilowatt hour"
    assert normalize_unit("liter") == "liter"  # a PACT unit we hold but never convert
    assert dimension("t") == "mass" and dimension("MJ") == "energy" and dimension("pc") == "count"
    assert dimension("liter") == "liter"
    assert convert(D(2), "liter", "liter") == D(2)


@pytest.mark.parametrize(
    ("unit", "given", "expected"),
    [
        ("kilogram", None, D(1)),  # was sent as 0: the mass of one kilogram of product is one kilogram
        ("kilogram", D("1"), D(1)),
        ("kilowatt hour", None, D(0)),  # energy, logistics, services: PACT v3 says 0
        ("megajoule", None, D(0)),
        ("ton kilometer", None, D(0)),
        ("hour", None, D(0)),
        ("megabit second", None, D(0)),
        ("kilogram", D("0.8"), D(1)),  # the unit decides: one kilogram of product weighs one kilogram
        ("kilowatt hour", D("6.4"), D(0)),  # was sent as 6.4: PACT v3 says 0 for energy whatever was entered
        ("megajoule", D("6.4"), D(0)),
        ("ton kilometer", D("6.4"), D(0)),
        ("piece", D("1.42"), D("1.42")),  # the operator's figure for the units whose mass it is
        ("liter", D("0.79"), D("0.79")),
        ("piece", None, None),  # unknown: no guess
        ("liter", None, None),
        ("square meter", None, None),
        ("cubic meter", None, None),
    ],
)
def test_mass_per_declared_unit(unit, given, expected):
    assert mass_per_declared_unit(unit, given) == expected


def test_every_pact_unit_has_a_mass_rule():
    for unit in PACT_DECLARED_UNITS:  # a unit added to PACT_DECLARED_UNITS must be placed on purpose
        mass_per_declared_unit(unit, None)
    unknown = [u for u in PACT_DECLARED_UNITS if mass_per_declared_unit(u, None) is None]
    assert sorted(unknown) == ["cubic meter", "liter", "piece", "square meter"]
