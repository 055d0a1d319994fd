"""Import a company's products, bills of materials and emissions in the shape of the fixture file."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ..errors import ConnectorError, UnitError, ValidationFailed
from ..storage import repositories as repo
from ..units import dimension
from . import catalog
from . import models as m
from .context import NodeContext


@dataclass
class ImportReport:
    products: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)


def _companies(document: Any) -> list[dict[str, Any]]:
    companies = document.get("companies") if isinstance(document, dict) else None
    if not isinstance(companies, list) or not all(isinstance(c, dict) for c in companies):
        raise ValidationFailed('invalid import file: expected an object with a "companies" list of objects')
    return companies


def find_company(document: Any, company_id: str) -> dict[str, Any]:
    for company in _companies(document):
        if company.get("companyId") == company_id:
            return company
    raise ValidationFailed(f"company {company_id} is not in the file")


def company_names(document: Any) -> dict[str, str]:
    """Company id -> display name, for the partners created from BOM lines."""
    return {str(c.get("companyId")): str(c.get("name") or c.get("companyId")) for c in _companies(document)}


def declared_units(document: Any) -> dict[str, str]:
    """Product URN (lower-cased) -> declared unit of every product in the file, to check BOM lines against."""
    units: dict[str, str] = {}
    for company in _companies(document):
        for item in company.get("products") or []:
            if isinstance(item, dict) and isinstance(item.get("productId"), str):
                units[item["productId"].lower()] = str(item.get("declaredUnit"))
    return units


def import_company(
    ctx: NodeContext, company: dict[str, Any], names: dict[str, str] | None = None, units: dict[str, str] | None = None
) -> ImportReport:
    """Create products with their own emissions and BOM lines; products already present are skipped.

    ``names`` maps supplier company ids to display names, for the partners created from BOM lines; ``units`` maps
    product URNs to their declared units (:func:`declared_units`), so a supplier line whose unit cannot be converted
    to its product's is refused here, naming the line, rather than at the first compute. Every error names the
    product and the line it is about.
    """
    report = ImportReport()
    names, units = names or {}, units or {}
    products = company.get("products", [])
    if not isinstance(products, list):
        raise ValidationFailed('invalid import file: "products" must be a list')
    for index, item in enumerate(products):
        where = f"product {index + 1}"
        try:
            if not isinstance(item, dict):
                raise ValidationFailed("must be an object")
            urn = item.get("productId")
            where = f"product {urn}" if isinstance(urn, str) else where
            if not isinstance(urn, str):
                raise ValidationFailed("productId is missing")
            if repo.product_by_urn(ctx.session, urn) is not None:
                report.skipped.append(urn)
                continue
            _import_product(ctx, item, urn, names, units, report)
            report.products.append(urn)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "value"
            raise ValidationFailed(
                f"invalid import file: {where}: {loc}: {first['msg']}",
                errors=[{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()],
            ) from None
        except ConnectorError as exc:
            raise type(exc)(f"invalid import file: {where}: {exc.detail}", errors=exc.errors) from None
    return report


def _import_product(
    ctx: NodeContext, item: dict[str, Any], urn: str, names: dict[str, str], units: dict[str, str], report: ImportReport
) -> None:
    product = catalog.create_product(
        ctx,
        m.ProductCreate.model_validate(
            {
                "productIds": [urn],
                "name": item.get("name"),
                "description": item.get("description", item.get("name")),
                "declaredUnit": item.get("declaredUnit"),
                "massPerDeclaredUnit": item.get("massPerDeclaredUnit"),
                "plant": item.get("plant"),
                "primaryDataShare": item.get("primaryDataShare"),
                "dqr": item.get("dqr"),
            }
        ),
    )
    emissions = item.get("ownEmissions") or {}
    if not isinstance(emissions, dict):
        raise ValidationFailed("ownEmissions must be an object of stage: value")
    for stage, value in emissions.items():
        catalog.add_emission(ctx, product.id, m.EmissionCreate.model_validate({"stage": stage, "value": value}))
    lines = item.get("bom") or []
    if not isinstance(lines, list):
        raise ValidationFailed("bom must be a list")
    for number, line in enumerate(lines, 1):
        try:
            _import_line(ctx, product.id, line, names, units, report)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"]) or "value"
            raise ValidationFailed(
                f"BOM line {number}: {loc}: {first['msg']}",
                errors=[
                    {"field": f"bom.{number}.{'.'.join(str(p) for p in e['loc'])}", "message": e["msg"]}
                    for e in exc.errors()
                ],
            ) from None
        except ConnectorError as exc:
            raise type(exc)(f"BOM line {number}: {exc.detail}", errors=exc.errors) from None


def _dimension(unit: str) -> str | None:
    """A declared unit's dimension; None for a unit the importer refuses on its own product anyway."""
    try:
        return dimension(unit)
    except UnitError:
        return None


def _import_line(
    ctx: NodeContext, product_id: str, line: Any, names: dict[str, str], units: dict[str, str], report: ImportReport
) -> None:
    if not isinstance(line, dict):
        raise ValidationFailed("must be an object")
    if "supplierCompanyId" not in line:
        catalog.add_bom_line(ctx, product_id, m.SecondaryLineCreate.model_validate({**line, "kind": "secondary"}))
        return
    body = m.SupplierLineCreate.model_validate({**line, "kind": "supplier"})
    declared = units.get(body.supplier_product_id.lower())
    if declared is not None and _dimension(declared) not in (None, dimension(body.unit)):
        raise UnitError(
            f"unit {body.unit!r} of {body.supplier_product_id} is not convertible to its declared unit {declared!r}",
            errors=[{"field": "unit", "message": "incompatible unit"}],
        )
    supplier = body.supplier_company_id
    if supplier != ctx.company_id:
        catalog.ensure_partner(ctx, supplier, names.get(supplier, supplier), supplier=True)
        if supplier not in report.partners:
            report.partners.append(supplier)
    catalog.add_bom_line(ctx, product_id, body)
