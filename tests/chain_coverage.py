"""The attested coverage a chain file must end with when some suppliers run no node, computed here from the chain's
bills of materials and values alone, by decision 0017's definition (never by calling connector.aggregation):

    mass(s)     = |own_s| + sum_i |q_i x u_i,s|          q_i in the upstream's declared unit
    attested(s) = |own_s| + sum_i |q_i x u_i,s| x c_i,s / 100
    coverage(s) = 100 x attested(s) / mass(s)            (100 when mass(s) = 0), rounded down to 2 places
    coverage    = 100 x sum attested / sum mass           (100 when the whole mass is 0), rounded down

with c_i = 0 for an entered input and the supplier's own (rounded-down) coverage for an attested one; own emissions
(and secondary-data lines, which the issuer computes and signs) count as attested.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Context, Decimal
from typing import Any

STAGES = ("raw_material_acquisition", "main_production", "distribution", "end_of_life")
EXACT = Context(prec=80)
HUNDRED = Decimal(100)
# mass units to kilograms; a chain line's quantity is in the supplier's declared unit or one of the same dimension
TO_KG = {"gram": Decimal("0.001"), "kilogram": Decimal(1), "tonne": Decimal(1000), "ton": Decimal(1000)}


@dataclass(frozen=True)
class Expected:
    values: dict[str, Decimal]
    """Per stage, per declared unit, exact."""
    coverage: dict[str, Decimal]
    total: Decimal
    entered: int


def _down(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"), rounding=ROUND_DOWN, context=EXACT)


def _share(part: Decimal, whole: Decimal) -> Decimal:
    return HUNDRED if whole == 0 else _down(EXACT.divide(EXACT.multiply(part, HUNDRED), whole))


def _quantity(quantity: str, unit: str, declared_unit: str) -> Decimal:
    if unit == declared_unit:
        return Decimal(quantity)
    return EXACT.divide(EXACT.multiply(Decimal(quantity), TO_KG[unit]), TO_KG[declared_unit])


def expected_for(chain: dict[str, Any], product_id: str, entered: dict[str, dict[str, Decimal]]) -> Expected:
    """The footprint and coverage of ``product_id`` when the suppliers in ``entered`` (company id -> values per stage
    per its product's declared unit) run no node and their customers entered those values."""
    products = {p["productId"]: p for c in chain["companies"] for p in c["products"]}
    product = products[product_id]
    own = {s: Decimal(product["ownEmissions"].get(s, "0")) for s in STAGES}
    inputs: list[tuple[dict[str, Decimal], dict[str, Decimal]]] = []  # (q x u per stage, coverage per stage)
    entered_count = 0
    for line in product["bom"]:
        if "supplierCompanyId" not in line:  # a secondary-data line: the issuer's own, signed
            own[line["stage"]] = EXACT.add(
                own[line["stage"]], EXACT.multiply(Decimal(line["quantity"]), Decimal(line["factor"]))
            )
            continue
        upstream = products[line["supplierProductId"]]
        q = _quantity(line["quantity"], line["unit"], upstream["declaredUnit"])
        if line["supplierCompanyId"] in entered:
            values, cov = entered[line["supplierCompanyId"]], dict.fromkeys(STAGES, Decimal(0))
            entered_count += 1
        else:
            below = expected_for(chain, line["supplierProductId"], entered)
            values, cov = below.values, below.coverage
            entered_count += below.entered
        inputs.append(({s: EXACT.multiply(q, values[s]) for s in STAGES}, cov))
    mass, attested, values = {}, {}, {}
    for s in STAGES:
        mass[s] = EXACT.add(abs(own[s]), sum((abs(qu[s]) for qu, _ in inputs), Decimal(0)))
        weighted = sum((EXACT.multiply(abs(qu[s]), c[s]) for qu, c in inputs), Decimal(0))
        attested[s] = EXACT.add(abs(own[s]), EXACT.divide(weighted, HUNDRED))
        values[s] = EXACT.add(own[s], sum((qu[s] for qu, _ in inputs), Decimal(0)))
    total = _share(sum(attested.values(), Decimal(0)), sum(mass.values(), Decimal(0)))
    return Expected(values, {s: _share(attested[s], mass[s]) for s in STAGES}, total, entered_count)


def declared_coverage(declaration: dict[str, Any]) -> tuple[dict[str, Decimal], Decimal]:
    """A declaration's ``attestedCoverage``: per stage and total, as decimals."""
    coverage = declaration["attestedCoverage"]
    return {c["stage"]: Decimal(c["percent"]) for c in coverage["stages"]}, Decimal(coverage["total"])
