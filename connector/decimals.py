"""Decimal-string parsing and the one rounding rule. No float ever touches a footprint value."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, PlainSerializer, WithJsonSchema
from pydantic_core import core_schema

from .errors import ValidationFailed

DECIMAL_PATTERN = r"^[+-]?[0-9]+(\.[0-9]+)?$"
"""ASCII digits spelled out: to Python's ``re`` and pydantic-core's regex engine ``\\d`` is every Unicode digit."""
_DECIMAL_RE = re.compile(DECIMAL_PATTERN)

# Wide enough that no realistic product of quantities and factors is ever rounded mid-calculation.
EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])

DEFAULT_ROUNDING = "decimal-places:12;half-even"


def parse_decimal(value: Any, *, field: str = "value") -> Decimal:
    """Parse a decimal string strictly: no floats, no exponents, no NaN or Infinity."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValidationFailed(
                "%(field)s: must be a finite decimal",
                code="decimal.not-finite",
                params={"field": field},
                errors=[{"field": field, "message": "not finite"}],
            )
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationFailed(
            '%(field)s: must be a decimal string such as "12.5", not %(type)s',
            code="decimal.wrong-type",
            params={"field": field, "type": type(value).__name__},
            errors=[{"field": field, "message": "decimal string required"}],
        )
    text = str(value).strip()
    if not _DECIMAL_RE.match(text):
        raise ValidationFailed(
            "%(field)s: %(text)r is not a decimal string",
            code="decimal.not-decimal",
            params={"field": field, "text": text},
            errors=[{"field": field, "message": "not a decimal string"}],
        )
    return Decimal(text)


COVERAGE_PLACES = 2
"""Attested coverage percentages (decision 0017) carry this many decimal places, rounded down."""


def format_percent(percent: Decimal) -> str:
    """A coverage percentage as reports and pages show it: with its :data:`COVERAGE_PLACES` decimal places ("20.40",
    "100.00"), the trailing zeros kept, since they say how far it was rounded down; a figure with more places (a claim
    that was not rounded as it should) is shown as it is, never rounded for display."""
    if not percent.is_finite() or percent.as_tuple().exponent < -COVERAGE_PLACES:  # type: ignore[operator]
        return format(percent, "f")
    with localcontext(EXACT):
        return format(percent.quantize(Decimal(1).scaleb(-COVERAGE_PLACES)), "f")


def format_decimal(value: Decimal) -> str:
    """Canonical decimal string: no exponent, no trailing zeros, '-0' becomes '0'."""
    if value.is_zero():
        return "0"
    text = format(value.normalize(EXACT), "f")
    return text


class _DecimalString:
    """Validation of :data:`DecimalStr` inside pydantic-core (no Python call per value): a ``Decimal`` that is finite,
    or a string matching :data:`DECIMAL_PATTERN` made a ``Decimal``; never a JSON number, bool or float."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        from_text = core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True, pattern=DECIMAL_PATTERN),
                core_schema.decimal_schema(allow_inf_nan=False),
            ]
        )
        # strings first (what every document parsed from JSON holds), in this order only: a string never reaches
        # the Decimal member and its failure (the smart union tried both, and built that member's error each time)
        python = core_schema.union_schema(
            [from_text, core_schema.decimal_schema(strict=True, allow_inf_nan=False)], mode="left_to_right"
        )
        return core_schema.custom_error_schema(
            core_schema.json_or_python_schema(json_schema=from_text, python_schema=python),
            custom_error_type="decimal_string",
            custom_error_message='must be a decimal string such as "12.5" (no exponent, NaN or Infinity, not a number)',
        )


DecimalStr = Annotated[
    Decimal,
    _DecimalString,
    PlainSerializer(format_decimal, return_type=str, when_used="always"),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN, "examples": ["12.5"]}),
]
"""A Decimal that is a decimal string on the wire, in both directions."""


class RoundingRule:
    """``decimal-places:N;half-even``: the one rule applied once when a footprint is issued."""

    def __init__(self, places: int = 12) -> None:
        if not 0 <= places <= 30:
            raise ValidationFailed("rounding: decimal places must be between 0 and 30")
        self.places = places

    @classmethod
    def parse(cls, text: str) -> RoundingRule:
        m = re.fullmatch(r"decimal-places:(\d+);half-even", text)
        if not m:
            raise ValidationFailed(f"unknown rounding rule {text!r}")
        return cls(int(m.group(1)))

    def __str__(self) -> str:
        return f"decimal-places:{self.places};half-even"

    def apply(self, value: Decimal) -> Decimal:
        with localcontext(EXACT):
            return value.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_EVEN)
