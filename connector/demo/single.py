"""Single-node demo: the cell maker with its suppliers' footprints recorded by hand."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlmodel import Session

from ..api import schemas as s
from ..config import Settings
from ..decimals import format_decimal
from ..services import footprints, importer
from ..services.context import NodeContext
from ..stages import STAGES
from ..storage import repositories as repo
from ..storage.db import create_schema, make_engine

CELL = "urn:pact:setouchi-cell.example:company:setouchi-cell"
CELL_PRODUCT = "urn:pact:setouchi-cell.example:product:cell-p100ah"
GRAPHITE_CO = "urn:pact:inner-graphite.example:company:inner-graphite"
CAM_CO = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"


def run_single_node(fixture: Path, out: Path, console: Console) -> dict[str, str]:
    document = json.loads(fixture.read_text())
    data_dir = out / "nodes" / "setouchi-cell"
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(company_id=CELL, company_name="Setouchi Cell Manufacturing K.K.", data_dir=data_dir)
    engine = make_engine(str(settings.database_url))
    create_schema(engine)
    expected = document["expected"]["footprints"]
    with Session(engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings)
        names = {c["companyId"]: c["name"] for c in document["companies"]}
        importer.import_company(ctx, importer.find_company(document, CELL), names)
        cam = expected["urn:pact:hokuriku-cathode.example:product:cam-nmc811"]
        footprints.record_upstream(ctx, s.UpstreamFootprintCreate.model_validate({
            "supplierCompanyId": CAM_CO, "productId": "urn:pact:hokuriku-cathode.example:product:cam-nmc811",
            "declaredUnit": "kilogram", "stages": {st.value: cam[st.value] for st in STAGES}}))
        graphite = importer.find_company(document, GRAPHITE_CO)["products"][0]
        raw = sum((Decimal(line["quantity"]) * Decimal(line["factor"]) for line in graphite["bom"]), Decimal(0))
        footprints.record_upstream(ctx, s.UpstreamFootprintCreate.model_validate({
            "supplierCompanyId": GRAPHITE_CO, "productId": graphite["productId"], "declaredUnit": "kilogram",
            "stages": {"raw_material_acquisition": format_decimal(raw),
                       "main_production": graphite["ownEmissions"]["main_production"]}}))
        product = repo.product_by_urn(session, CELL_PRODUCT)
        assert product is not None
        fp, _ = footprints.compute(ctx, product.id)
        session.commit()
    engine.dispose()
    table = Table(title=f"Cell footprint (kg CO2e per piece), node data in {data_dir}", title_justify="left")
    table.add_column("stage")
    table.add_column("computed", justify="right")
    table.add_column("fixture expected", justify="right")
    want = expected[CELL_PRODUCT]
    for st in STAGES:
        table.add_row(st.value, fp.stages[st.value], want[st.value])
    table.add_row("total", format_decimal(fp.total), want["total"])
    console.print(table)
    match = all(Decimal(fp.stages[st.value]) == Decimal(want[st.value]) for st in STAGES)
    console.print("[green]matches the fixture exactly[/]" if match else "[red]differs from the fixture[/]")
    return fp.stages
