"""Import a company's products, bills of materials and emissions in the shape of the fixture file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..api import schemas as s
from ..errors import ValidationFailed
from ..storage import repositories as repo
from . import catalog
from .context import NodeContext


@dataclass
class ImportReport:
    products: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)


def find_company(document: dict[str, Any], company_id: str) -> dict[str, Any]:
    for company in document.get("companies", []):
        if company.get("companyId") == company_id:
            return company
    raise ValidationFailed(f"company {company_id} is not in the file")


def import_company(ctx: NodeContext, company: dict[str, Any], names: dict[str, str] | None = None) -> ImportReport:
    """Create products with their own emissions and BOM lines; products already present are skipped.

    ``names`` maps supplier company ids to display names, for the partners created from BOM lines.
    """
    report = ImportReport()
    names = names or {}
    try:
        for item in company.get("products", []):
            urn = item["productId"]
            if repo.product_by_urn(ctx.session, urn) is not None:
                report.skipped.append(urn)
                continue
            product = catalog.create_product(ctx, s.ProductCreate.model_validate({
                "productIds": [urn],
                "name": item["name"],
                "description": item.get("description", item["name"]),
                "declaredUnit": item["declaredUnit"],
                "massPerDeclaredUnit": item.get("massPerDeclaredUnit"),
                "plant": item.get("plant"),
                "primaryDataShare": item.get("primaryDataShare"),
                "dqr": item.get("dqr"),
            }))
            for stage, value in item.get("ownEmissions", {}).items():
                catalog.add_emission(ctx, product.id, s.EmissionCreate.model_validate({"stage": stage, "value": value}))
            for line in item.get("bom", []):
                if "supplierCompanyId" in line:
                    supplier = line["supplierCompanyId"]
                    if supplier != ctx.company_id:
                        catalog.ensure_partner(ctx, supplier, names.get(supplier, supplier), supplier=True)
                        if supplier not in report.partners:
                            report.partners.append(supplier)
                    body: Any = s.SupplierLineCreate.model_validate({**line, "kind": "supplier"})
                else:
                    body = s.SecondaryLineCreate.model_validate({**line, "kind": "secondary"})
                catalog.add_bom_line(ctx, product.id, body)
            report.products.append(urn)
    except ValidationError as exc:
        raise ValidationFailed(f"invalid import file: {exc.errors()[0]['msg']}", errors=[
            {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
        ]) from None
    return report
