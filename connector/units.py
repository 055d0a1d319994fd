"""Declared units and the only conversions the connector makes: within mass, within energy, and count."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .errors import UnitError

# unit name -> (dimension, factor to the dimension's base unit). Energy is based on the megajoule so every factor is
# a finite decimal (1/3.6 is not): 3.6 MJ -> 1 kWh and 1 kWh -> 3.6 MJ come out exact.
_UNITS: dict[str, tuple[str, Decimal]] = {
    "gram": ("mass", Decimal("0.001")),
    "kilogram": ("mass", Decimal(1)),
    "ton": ("mass", Decimal(1000)),
    "tonne": ("mass", Decimal(1000)),
    "watt hour": ("energy", Decimal("0.0036")),
    "kilowatt hour": ("energy", Decimal("3.6")),
    "megawatt hour": ("energy", Decimal(3600)),
    "megajoule": ("energy", Decimal(1)),
    "piece": ("count", Decimal(1)),
}

_ALIASES = {
    "g": "gram",
    "kg": "kilogram",
    "t": "ton",
    "wh": "watt hour",
    "kwh": "kilowatt hour",
    "mwh": "megawatt hour",
    "mj": "megajoule",
    "pc": "piece",
    "pcs": "piece",
    "unit": "piece",
    "kilowatt-hour": "kilowatt hour",
}

# PACT v3 declaredUnitOfMeasurement values we can hold products in.
PACT_DECLARED_UNITS = (
    "kilogram",
    "kilowatt hour",
    "megajoule",
    "piece",
    "liter",
    "cubic meter",
    "ton kilometer",
    "square meter",
    "hour",
    "megabit second",
)


_MASS_NOT_RELEVANT = frozenset({"kilowatt hour", "megajoule", "ton kilometer", "hour", "megabit second"})
"""PACT v3 declared units of energy, logistics and services: their productMassPerDeclaredUnit SHALL be 0."""


def mass_per_declared_unit(declared_unit: str, given: Decimal | None) -> Decimal | None:
    """The product mass in kg of one declared unit, as PACT v3's ``productMassPerDeclaredUnit`` (and Catena-X's)
    means it. PACT v3.0.3 (``CarbonFootprint.productMassPerDeclaredUnit``): the mass of ``declaredUnitAmount`` (we
    always send 1) declared units, packaging excluded, so 1 for a product declared per kilogram; 0 ("SHALL") for an
    energy (kWh, MJ), logistics (ton.km) or service product; the mass of one piece (MUST) or liter for the others.

    The unit decides first: a kilogram is 1 and an energy, logistics or service unit 0 whatever figure the operator
    stored (the figure stays stored; only what is sent follows the rule). For the other units the operator's
    figure, else None: it cannot be known (a piece, a liter, an area, a volume without a figure).

    >>> mass_per_declared_unit("kilogram", None), mass_per_declared_unit("kilowatt hour", Decimal("6.4"))
    (Decimal('1'), Decimal('0'))
    >>> mass_per_declared_unit("piece", Decimal("1.42")), mass_per_declared_unit("piece", None)
    (Decimal('1.42'), None)
    """
    if declared_unit == "kilogram":
        return Decimal(1)
    if declared_unit in _MASS_NOT_RELEVANT:
        return Decimal(0)
    return given


def product_mass(product: Any) -> Decimal:
    """What a product's footprint says in ``productMassPerDeclaredUnit``: :func:`mass_per_declared_unit`, and 0 when
    that is unknown (the field is required; docs/operator-guide.md says to give the figure for such products)."""
    found = mass_per_declared_unit(product.declared_unit, product.mass_per_declared_unit)
    return Decimal(0) if found is None else found


def normalize_unit(unit: str) -> str:
    key = unit.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in _UNITS and key not in PACT_DECLARED_UNITS:
        raise UnitError(
            "unknown unit %(unit)r",
            code="unit.unknown",
            params={"unit": unit},
            errors=[{"field": "unit", "message": f"unknown unit {unit!r}"}],
        )
    return key


def dimension(unit: str) -> str:
    key = normalize_unit(unit)
    return _UNITS[key][0] if key in _UNITS else key


def convert(amount: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert ``amount`` between units of one dimension; anything else is a UnitError, never a guess.

    >>> convert(Decimal("440"), "gram", "kilogram")
    Decimal('0.440')
    """
    src, dst = normalize_unit(from_unit), normalize_unit(to_unit)
    if src == dst:
        return amount
    if src not in _UNITS or dst not in _UNITS or _UNITS[src][0] != _UNITS[dst][0]:
        raise UnitError(
            "cannot convert %(from)r to %(to)r",
            code="unit.not-convertible",
            params={"from": from_unit, "to": to_unit},
            errors=[{"field": "unit", "message": f"{from_unit!r} is not convertible to {to_unit!r}"}],
        )
    from .decimals import EXACT

    return EXACT.divide(EXACT.multiply(amount, _UNITS[src][1]), _UNITS[dst][1])
