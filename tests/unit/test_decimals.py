"""Decimal strings in, canonical decimal strings out, one rounding rule."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from pydantic import BaseModel, ValidationError

from connector.decimals import DEFAULT_ROUNDING, DecimalStr, RoundingRule, format_decimal, parse_decimal
from connector.errors import ValidationFailed


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.5", D("12.5")),
        ("-225", D(-225)),
        ("+3", D(3)),
        ("0", D(0)),
        ("0.000001", D("0.000001")),
        (" 1.5 ", D("1.5")),
        ("007.10", D("7.10")),
    ],
)
def test_parse_decimal_accepts_decimal_strings(text, expected):
    assert parse_decimal(text) == expected


def test_parse_decimal_accepts_ints_and_finite_decimals():
    assert parse_decimal(12) == D(12)
    assert parse_decimal(D("1.25")) == D("1.25")


@pytest.mark.parametrize("value", [12.5, 0.1, 1.0, float("nan"), float("inf"), True, None, [], {"v": "1"}])
def test_parse_decimal_refuses_non_strings(value):
    with pytest.raises(ValidationFailed) as info:
        parse_decimal(value, field="quantity")
    assert info.value.errors[0]["field"] == "quantity" and "quantity" in info.value.detail


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "nan",
        "sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "1e3",
        "1E3",
        "1.5e-2",
        "",
        ".5",
        "5.",
        "1,5",
        "0x1f",
        "1_000",
        "--1",
        "1.2.3",
        "½",
        "١٢",
        "１２",
    ],
)
def test_parse_decimal_refuses_other_strings(text):
    with pytest.raises(ValidationFailed):
        parse_decimal(text)


@pytest.mark.parametrize("value", [D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN")])
def test_parse_decimal_refuses_non_finite_decimals(value):
    with pytest.raises(ValidationFailed):
        parse_decimal(value)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("1.500"), "1.5"),
        (D("1E+3"), "1000"),
        (D("100"), "100"),
        (D("-0.00"), "0"),
        (D("0E-12"), "0"),
        (D("-1.10"), "-1.1"),
        (D("0.000001"), "0.000001"),
        (D("1E-15"), "0.000000000000001"),
        (D("5928.433781800000"), "5928.4337818"),
        (D("-225"), "-225"),
    ],
)
def test_format_decimal_is_canonical(value, text):
    assert format_decimal(value) == text
    assert parse_decimal(text) == value


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("0.5", 0, "0"),
        ("1.5", 0, "2"),
        ("2.5", 0, "2"),
        ("-2.5", 0, "-2"),
        ("-3.5", 0, "-4"),
        ("0.125", 2, "0.12"),
        ("0.135", 2, "0.14"),
        ("0.1251", 2, "0.13"),
        ("0.0000000000005", 12, "0.000000000000"),
        ("0.0000000000015", 12, "0.000000000002"),
        ("8.188", 12, "8.188000000000"),
        ("-0.006250", 6, "-0.006250"),
    ],
)
def test_rounding_rule_is_half_even(value, places, expected):
    rounded = RoundingRule(places).apply(D(value))
    assert rounded == D(expected) and rounded.as_tuple().exponent == -places


def test_rounding_rule_text():
    assert str(RoundingRule()) == DEFAULT_ROUNDING == "decimal-places:12;half-even"
    assert RoundingRule.parse("decimal-places:6;half-even").places == 6
    for bad in ("decimal-places:6;half-up", "decimal-places:x;half-even", "", "decimal-places:-1;half-even"):
        with pytest.raises(ValidationFailed):
            RoundingRule.parse(bad)
    for places in (-1, 31):
        with pytest.raises(ValidationFailed):
            RoundingRule(places)


class Body(BaseModel):
    value: DecimalStr


def test_decimal_str_on_the_wire():
    assert Body.model_validate({"value": "0.1"}).value == D("0.1")
    assert Body.model_validate_json('{"value": "12.50"}').model_dump_json() == '{"value":"12.5"}'
    assert Body(value=D("1E+2")).model_dump() == {"value": "100"}
    for raw in (
        '{"value": 0.1}',
        '{"value": 1}',
        '{"value": "NaN"}',
        '{"value": NaN}',
        '{"value": "1e2"}',
        '{"value": true}',
        '{"value": null}',
    ):
        with pytest.raises(ValidationError):
            Body.model_validate_json(raw)
    schema = Body.model_json_schema()["properties"]["value"]
    assert schema["type"] == "string" and "pattern" in schema


@pytest.mark.parametrize(
    "value", [" 1.5", "1.5 ", "١٢", "１２", "1e2", "NaN", 1.5, 2, True, None, D("NaN"), D("Infinity"), b"1.5"]
)
def test_decimal_str_refuses_in_python_what_the_wire_schema_refuses(value):
    with pytest.raises(ValidationError) as info:
        Body.model_validate({"value": value})
    assert info.value.errors()[0]["type"] == "decimal_string"
    assert 'decimal string such as "12.5"' in info.value.errors()[0]["msg"]


def test_decimal_str_takes_finite_decimals_and_keeps_every_digit():
    assert Body(value=D("-0.25")).value == D("-0.25")
    long = "1234567890123456789012345678901234567890.123456789012345678901234567890"
    assert Body.model_validate({"value": long}).value == D(long)
    assert Body.model_validate_json(f'{{"value": "{long}"}}').value == D(long)


@pytest.mark.parametrize("text", ["١٢", "１２", "1e2", " 1"])
def test_the_pact_extension_stages_take_only_ascii_decimal_strings(text):
    from connector.protocols.pact.rendering import CfpExtensionData

    with pytest.raises(ValidationError):
        CfpExtensionData.model_validate({"stages": {"raw_material_acquisition": text}, "rounding": DEFAULT_ROUNDING})
    assert CfpExtensionData.model_validate(
        {"stages": {"raw_material_acquisition": "12.5"}, "rounding": DEFAULT_ROUNDING}
    ).stages
