"""``productMassPerDeclaredUnit`` as PACT v3 and Catena-X send it, for every declared unit a product can hold.

PACT v3.0.3 (``CarbonFootprint.productMassPerDeclaredUnit``): the mass in kg of ``declaredUnitAmount`` declared units
(we send 1), packaging excluded; 0 (SHALL) for an energy (kWh, MJ), logistics (ton.km) or service product; the mass
of one piece (MUST) for a piece. The unit decides before the operator's stored figure does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from connector.protocols.catenax import pcf_model
from connector.protocols.pact.rendering import render_footprint
from connector.units import PACT_DECLARED_UNITS

# declared unit -> (sent without a figure, sent when the operator stored 6.4 kg)
EXPECTED = {
    "kilogram": ("1", "1"),  # one kilogram of product, whatever the figure says
    "kilowatt hour": ("0", "0"),  # energy: the figure was sent before
    "megajoule": ("0", "0"),
    "ton kilometer": ("0", "0"),  # logistics
    "hour": ("0", "0"),  # services
    "megabit second": ("0", "0"),
    "piece": ("0", "6.4"),  # the operator's figure; 0 when unknown (the field is required)
    "liter": ("0", "6.4"),
    "cubic meter": ("0", "6.4"),
    "square meter": ("0", "6.4"),
}


def test_every_declared_unit_is_covered() -> None:
    assert sorted(EXPECTED) == sorted(PACT_DECLARED_UNITS)


def _footprint() -> Any:
    return SimpleNamespace(
        id="5b2a8c4e-2f1d-4c4b-9a53-0e7f3b1d9c11",
        version=1,
        status="Active",
        preceding_ids=[],
        stages={
            "raw_material_acquisition": "61.5",
            "main_production": "12.5",
            "distribution": "0.75",
            "end_of_life": "-1.25",
        },
        rounding="decimal-places:12;half-even",
        total=Decimal("73.5"),
        primary_data_share=None,
        dqr=None,
        created_at=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
        validity_start=None,
        validity_end=None,
    )


def _product(unit: str, mass: Decimal | None) -> Any:
    return SimpleNamespace(
        declared_unit=unit,
        mass_per_declared_unit=mass,
        name="Battery pack 75 kWh",
        description=None,
        product_ids=["urn:pact:kyushu-pack.example:product:pack-75kwh"],
        classifications=[],
        plant_country="JP",
        plant_subdivision=None,
        reference_period_start=None,
        reference_period_end=None,
    )


def _pact(product: Any) -> str:
    pf = render_footprint(
        footprint=_footprint(),
        product=product,
        company_id="urn:pact:x.example:company:x",
        company_name="X",
        extension=None,
    )
    assert pf["pcf"]["declaredUnitAmount"] == "1"  # the rule reads one declared unit
    return str(pf["pcf"]["productMassPerDeclaredUnit"])


def _catenax(product: Any) -> str:
    ext = {"stages": _footprint().stages, "rounding": "decimal-places:12;half-even"}
    doc = pcf_model.to_pcf(
        _footprint(), product, ext, company_name="X", company_id="urn:pact:x.example:company:x", bpnl=None
    )
    info = doc["companyAndProductInformation"][0]["productInformation"][0]
    assert info["declaredUnitAmount"] == "1"
    sent = json.loads(pcf_model.dumps(doc), parse_float=Decimal, parse_int=Decimal)  # written as a JSON number
    assert sent["companyAndProductInformation"][0]["productInformation"][0]["productMassPerDeclaredUnit"] == Decimal(
        info["productMassPerDeclaredUnit"]
    )
    return str(info["productMassPerDeclaredUnit"])


@pytest.mark.parametrize("unit", sorted(EXPECTED))
@pytest.mark.parametrize("given", [None, Decimal("6.4")], ids=["no-figure", "operator-figure"])
def test_pact_sends_the_mass_the_unit_calls_for(unit: str, given: Decimal | None) -> None:
    product = _product(unit, given)
    assert _pact(product) == EXPECTED[unit][given is not None]
    assert product.mass_per_declared_unit == given  # what the operator entered stays as entered


@pytest.mark.parametrize("unit", sorted(EXPECTED))
@pytest.mark.parametrize("given", [None, Decimal("6.4")], ids=["no-figure", "operator-figure"])
def test_catenax_sends_the_same_mass(unit: str, given: Decimal | None) -> None:
    product = _product(unit, given)
    if unit not in pcf_model.DECLARED_UNITS:  # PACT's "megabit second" has no io.catenax.pcf 9.0.0 value
        with pytest.raises(pcf_model.NotExpressible):
            _catenax(product)
        return
    assert _catenax(product) == EXPECTED[unit][given is not None]
