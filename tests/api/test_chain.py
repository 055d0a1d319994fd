"""The NMC811 fixture chain, one node per company, each footprint handed to the next as an upstream record."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlmodel import Session

from connector.services import importer
from connector.services.context import NodeContext

from .conftest import Api

pytestmark = pytest.mark.asyncio

STAGES = ("raw_material_acquisition", "main_production", "distribution", "end_of_life")
LIOH = "urn:pact:andes-lithium.example:product:lioh-h2o-bg"
NISO4 = "urn:pact:sulawesi-nickel.example:product:niso4-6h2o"
GRAPHITE = "urn:pact:inner-graphite.example:product:synthetic-graphite"
PCAM = "urn:pact:kansai-precursor.example:product:pcam-nmc811"
CAM = "urn:pact:hokuriku-cathode.example:product:cam-nmc811"
CELL = "urn:pact:setouchi-cell.example:product:cell-p100ah"
PACK = "urn:pact:kyushu-pack.example:product:pack-75kwh"
ORDER = [LIOH, NISO4, GRAPHITE, PCAM, CAM, CELL, PACK]


def company_of(chain: dict, product_urn: str) -> dict[str, Any]:
    return next(c for c in chain["companies"] if any(p["productId"] == product_urn for p in c["products"]))


def product_of(chain: dict, product_urn: str) -> dict[str, Any]:
    return next(p for c in chain["companies"] for p in c["products"] if p["productId"] == product_urn)


def derived(chain: dict, product_urn: str) -> dict[str, Decimal]:
    """A leaf product's values from the fixture's own emissions and secondary lines (e.g. graphite 5.1 + 1.25 x 3.2)."""
    item = product_of(chain, product_urn)
    values = {s: Decimal(item.get("ownEmissions", {}).get(s, "0")) for s in STAGES}
    for line in item["bom"]:
        assert "dataset" in line, "only leaf products are derived here"
        values[line["stage"]] += Decimal(line["quantity"]) * Decimal(line["factor"])
    return values


def expected(chain: dict, product_urn: str) -> dict[str, Decimal]:
    raw = chain["expected"]["footprints"][product_urn]
    return {k: Decimal(v) for k, v in raw.items()}


def as_decimals(fp: dict) -> dict[str, Decimal]:
    return {**{s: Decimal(fp["stages"][s]) for s in STAGES}, "total": Decimal(fp["total"])}


def import_into(api: Api, chain: dict, company_id: str) -> None:
    names = {c["companyId"]: c["name"] for c in chain["companies"]}
    with Session(api.engine, expire_on_commit=False) as session:
        importer.import_company(NodeContext(session, api.settings), importer.find_company(chain, company_id), names)
        session.commit()


async def local_id(api: Api, urn: str) -> str:
    items = (await api.get("/api/v1/products", params={"limit": 500})).json()["items"]
    return next(p["id"] for p in items if urn in p["productIds"])


async def record(api: Api, supplier: str, urn: str, declared_unit: str, fp: dict) -> None:
    body = {
        "supplierCompanyId": supplier,
        "productId": urn,
        "declaredUnit": declared_unit,
        "stages": {s: fp["stages"][s] for s in STAGES},
    }
    if fp.get("id"):
        body["footprintId"] = fp["id"]
    resp = await api.post("/api/v1/upstream-footprints", body)
    assert resp.status_code == 201, resp.text


async def test_graphite_derived_from_fixture(chain):
    graphite = derived(chain, GRAPHITE)
    assert graphite["main_production"] == Decimal("5.1")
    assert graphite["raw_material_acquisition"] == Decimal("4.000")  # 1.25 x 3.2


async def test_cell_from_recorded_cam_and_graphite(make_api, chain):
    """The cell maker, given CAM (expected) and graphite (derived) as recorded values, gets the expected cell."""
    cell_company = company_of(chain, CELL)["companyId"]
    async with make_api(company_id=cell_company) as api:
        import_into(api, chain, cell_company)
        cam = expected(chain, CAM)
        graphite = derived(chain, GRAPHITE)
        await record(
            api, company_of(chain, CAM)["companyId"], CAM, "kilogram", {"stages": {s: str(cam[s]) for s in STAGES}}
        )
        await record(
            api,
            company_of(chain, GRAPHITE)["companyId"],
            GRAPHITE,
            "kilogram",
            {"stages": {s: str(graphite[s]) for s in STAGES}},
        )
        resp = await api.post(f"/api/v1/products/{await local_id(api, CELL)}/footprints")
        assert resp.status_code == 201, resp.text
        assert as_decimals(resp.json()["footprint"]) == expected(chain, CELL)


async def test_cam_converts_440_gram_lioh(make_api, chain):
    cam_company = company_of(chain, CAM)["companyId"]
    async with make_api(company_id=cam_company) as api:
        import_into(api, chain, cam_company)
        pcam, lioh = expected(chain, PCAM), derived(chain, LIOH)
        await record(
            api, company_of(chain, PCAM)["companyId"], PCAM, "kilogram", {"stages": {s: str(pcam[s]) for s in STAGES}}
        )
        await record(
            api, company_of(chain, LIOH)["companyId"], LIOH, "kilogram", {"stages": {s: str(lioh[s]) for s in STAGES}}
        )
        pid = await local_id(api, CAM)
        bom = (await api.get(f"/api/v1/products/{pid}/bom")).json()
        assert {(b["quantity"], b["unit"]) for b in bom} == {("0.95", "kilogram"), ("440", "gram")}
        fp = (await api.post(f"/api/v1/products/{pid}/footprints")).json()["footprint"]
        assert as_decimals(fp) == expected(chain, CAM)
        # 0.44 kg x 15.2, not 440 kg x 15.2
        assert Decimal(fp["stages"]["raw_material_acquisition"]) == Decimal("0.95") * pcam[
            "raw_material_acquisition"
        ] + Decimal("0.44") * Decimal("15.2")


async def test_whole_chain_node_by_node(make_api, chain):
    """Every company on its own node and database; each computed footprint goes to the customer as upstream."""
    computed: dict[str, dict] = {}
    for urn in ORDER:
        company = company_of(chain, urn)
        item = product_of(chain, urn)
        async with make_api(company_id=company["companyId"], company_name=company["name"]) as api:
            import_into(api, chain, company["companyId"])
            for line in item["bom"]:
                if "supplierProductId" in line:
                    supplier_item = product_of(chain, line["supplierProductId"])
                    await record(
                        api,
                        line["supplierCompanyId"],
                        line["supplierProductId"],
                        supplier_item["declaredUnit"],
                        computed[line["supplierProductId"]],
                    )
            partners = {p["companyId"] for p in (await api.get("/api/v1/partners")).json()["items"]}
            assert partners == {line["supplierCompanyId"] for line in item["bom"] if "supplierCompanyId" in line}
            resp = await api.post(f"/api/v1/products/{await local_id(api, urn)}/footprints")
            assert resp.status_code == 201, resp.text
            fp = resp.json()["footprint"]
            assert fp["declaredUnit"] == item["declaredUnit"]
            computed[urn] = fp

    for urn in (LIOH, NISO4, GRAPHITE):
        values = derived(chain, urn)
        assert as_decimals(computed[urn]) == {**values, "total": sum(values.values())}
    for urn in (PCAM, CAM, CELL, PACK):
        assert as_decimals(computed[urn]) == expected(chain, urn), urn
    assert Decimal(computed[PACK]["stages"]["end_of_life"]) == Decimal(-225)


async def test_import_is_idempotent(make_api, chain):
    pack_company = company_of(chain, PACK)["companyId"]
    async with make_api(company_id=pack_company) as api:
        import_into(api, chain, pack_company)
        import_into(api, chain, pack_company)
        assert (await api.get("/api/v1/products")).json()["total"] == 1
        pid = await local_id(api, PACK)
        assert len((await api.get(f"/api/v1/products/{pid}/bom")).json()) == 2
        assert len((await api.get(f"/api/v1/products/{pid}/emissions")).json()) == 3
