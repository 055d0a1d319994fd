"""The whole NMC811 fixture through the pure engine: each product from its own lines and its suppliers' results."""

from __future__ import annotations

from decimal import Decimal as D

from connector.aggregation import FootprintResult, OwnLine, UpstreamInput, compute_footprint
from connector.stages import Stage


def products(chain: dict) -> dict[str, dict]:
    return {p["productId"]: p for c in chain["companies"] for p in c["products"]}


def compute_all(chain: dict) -> dict[str, FootprintResult]:
    items = products(chain)
    done: dict[str, FootprintResult] = {}

    def visit(urn: str) -> FootprintResult:
        if urn in done:
            return done[urn]
        item = items[urn]
        own = [OwnLine(Stage(s), D(v)) for s, v in item.get("ownEmissions", {}).items()]
        inputs = []
        for line in item["bom"]:
            if "dataset" in line:
                own.append(OwnLine(Stage(line["stage"]), D(line["quantity"]), D(line["factor"]), D(0)))
            else:
                upstream = visit(line["supplierProductId"])
                inputs.append(
                    UpstreamInput(
                        D(line["quantity"]),
                        line["unit"],
                        items[line["supplierProductId"]]["declaredUnit"],
                        upstream.stages,
                    )
                )
        done[urn] = compute_footprint(own, inputs)
        return done[urn]

    for urn in items:
        visit(urn)
    return done


def test_expected_footprints_exactly(chain):
    results = compute_all(chain)
    for urn, expected in chain["expected"]["footprints"].items():
        got = results[urn]
        for stage in Stage:
            assert got.stages[stage] == D(expected[stage.value]), (urn, stage)
        assert got.total == D(expected["total"]), urn


def test_leaf_products(chain):
    results = compute_all(chain)
    graphite = results["urn:pact:inner-graphite.example:product:synthetic-graphite"]
    assert graphite.stages[Stage.MAIN_PRODUCTION] == D("5.1")
    assert graphite.stages[Stage.RAW_MATERIAL_ACQUISITION] == D("1.25") * D("3.2")
    assert results["urn:pact:andes-lithium.example:product:lioh-h2o-bg"].total == D("15.2")
    assert results["urn:pact:sulawesi-nickel.example:product:niso4-6h2o"].total == D("7.45")


def test_lioh_line_converted_from_gram(chain):
    results = compute_all(chain)
    cam = results["urn:pact:hokuriku-cathode.example:product:cam-nmc811"]
    lioh = [c for c in cam.contributions if c.label == "input"][1]
    assert lioh.stages[Stage.RAW_MATERIAL_ACQUISITION] == D("0.44") * D("15.2")


def test_primary_share_of_graphite(chain):
    # own 5.1 at 100 % primary (no product share passed here), needle coke 4.0 secondary: 5.1 / 9.1
    graphite = compute_all(chain)["urn:pact:inner-graphite.example:product:synthetic-graphite"]
    assert graphite.primary_data_share == D("56.04")


def test_declaration_per_kwh(chain):
    pack = compute_all(chain)["urn:pact:kyushu-pack.example:product:pack-75kwh"]
    decl = chain["expected"]["declaration"]
    energy = D(decl["totalEnergyKwh"])
    assert (
        D(chain["declaration"]["usableEnergyKwh"])
        * D(chain["declaration"]["cyclesPerYear"])
        * D(chain["declaration"]["serviceLifeYears"])
        == energy
    )
    assert pack.total == D(decl["absoluteKgCo2e"])
    for stage in Stage:
        assert (pack.stages[stage] / energy).quantize(D("0.000001")) == D(decl[stage.value]), stage
    assert (pack.total / energy).quantize(D("0.000001")) == D(decl["total"])
