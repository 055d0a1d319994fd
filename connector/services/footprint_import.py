"""Import a supplier's footprint from a standard file (a PACT v3 ProductFootprint, a Catena-X PCF) as an entered
upstream value for the BOM line it is for (issue 17, decision 0019).

The protocol packages read their format into a :class:`ForeignFootprint` (values per ``declared_amount`` of
``declared_unit``, already split into our four stages); this module finds the BOM line it is for, converts the values
to that line's unit and records them with their provenance (the file itself, who imported it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

from pydantic import ValidationError

from ..decimals import EXACT, format_decimal
from ..errors import UnitError, ValidationFailed
from ..stages import STAGES, Stage
from ..storage import supplier_data
from ..storage.tables import UpstreamFootprint
from ..units import convert, normalize_unit
from . import footprints
from . import models as m
from .context import NodeContext

_DIVIDE = Context(prec=24)
"""A value per declared amount, per one unit: 24 significant digits (1/3 never ends), within an operator value's 30."""


@dataclass
class ForeignFootprint:
    """A footprint read from another producer's document: what an entered upstream value needs."""

    id: str | None
    company_ids: list[str]
    product_ids: list[str]
    declared_unit: str
    declared_amount: Decimal
    stages: dict[Stage, Decimal]
    """kg CO2e per ``declared_amount`` of ``declared_unit``, per stage (decision 0019 for files without ours)."""
    primary_data_share: Decimal | None = None
    dqr: dict[str, str] | None = None
    where: str = "footprint"
    """How an error names it in its file (``data[1]`` in a list)."""
    notes: list[str] = field(default_factory=list)

    def per_unit(self) -> dict[Stage, Decimal]:
        """The values per one declared unit."""
        return {st: _DIVIDE.divide(self.stages[st], self.declared_amount) for st in STAGES}


@dataclass
class ImportResult:
    footprint_id: str
    supplier_company_id: str
    product_id: str
    line_id: str
    product_name: str
    declared_unit: str
    stages: dict[str, str]
    entered_by: str
    source_kind: str


def _field_error(where: str, field_name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{where}: {field_name}: {message}", errors=[{"field": field_name, "message": message}])


def _line_for(ctx: NodeContext, fp: ForeignFootprint, supplier: str | None, product: str | None) -> Any:
    wanted = [product] if product else fp.product_ids
    lines = [
        line
        for line in supplier_data.supplier_lines_for(ctx.session, wanted)
        if line.supplier_company_id != ctx.company_id
    ]
    if not lines:
        raise _field_error(
            fp.where, "productIds", f"no BOM line has the upstream product {', '.join(wanted)} (add the line first)"
        )
    companies = [supplier] if supplier else fp.company_ids
    matching = [line for line in lines if line.supplier_company_id in companies]
    if not matching:
        have = sorted({line.supplier_company_id for line in lines})
        raise _field_error(
            fp.where,
            "companyIds",
            f"the BOM lines for {', '.join(wanted)} name the supplier {', '.join(have)}, not "
            f"{', '.join(companies) or 'none'} (say which with --supplier / supplierCompanyId)",
        )
    pairs = {(line.supplier_company_id, (line.supplier_product_id or "").lower()) for line in matching}
    if len(pairs) > 1:
        raise _field_error(
            fp.where,
            "productIds",
            "the file matches several supplier products: "
            + "; ".join(f"{p} from {c}" for c, p in sorted(pairs))
            + " (say which with --supplier and --product)",
        )
    return matching[0]


def _converted(fp: ForeignFootprint, line: Any) -> dict[Stage, Decimal]:
    """The values per one unit of the line (the unit its quantity is in)."""
    try:
        file_unit = normalize_unit(fp.declared_unit)
    except UnitError:
        raise _field_error(fp.where, "declaredUnitOfMeasurement", f"unknown unit {fp.declared_unit!r}") from None
    try:
        one = convert(Decimal(1), line.unit, file_unit)  # one line unit, in the file's unit
    except UnitError:
        raise _field_error(
            fp.where,
            "declaredUnitOfMeasurement",
            f"{file_unit!r} cannot be converted to {line.unit!r}, the unit of the BOM line for "
            f"{line.supplier_product_id} in {line.product_name}",
        ) from None
    return {st: EXACT.multiply(v, one) for st, v in fp.per_unit().items()}


def _body(fp: ForeignFootprint, line: Any, values: dict[Stage, Decimal]) -> dict[str, Any]:
    return {
        "footprintId": fp.id,
        "supplierCompanyId": line.supplier_company_id,
        "productId": line.supplier_product_id,
        "declaredUnit": line.unit,
        "stages": {st.value: format_decimal(values[st]) for st in STAGES},
        "primaryDataShare": format_decimal(fp.primary_data_share) if fp.primary_data_share is not None else None,
        "dqr": fp.dqr,
    }


def import_footprint(
    ctx: NodeContext,
    fp: ForeignFootprint,
    *,
    document: bytes,
    source_kind: str,
    entered_by: str,
    supplier: str | None = None,
    product: str | None = None,
) -> ImportResult:
    """Record ``fp`` (read from ``document``) as an entered value for the BOM line it matches."""
    if fp.declared_amount <= 0:
        raise _field_error(fp.where, "declaredUnitAmount", "must be greater than zero")
    line = _line_for(ctx, fp, supplier, product)
    values = _converted(fp, line)
    try:
        body = m.UpstreamFootprintCreate.model_validate(_body(fp, line, values))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        raise _field_error(fp.where, where, str(first["msg"])) from None
    provenance = footprints.Provenance(source_kind, entered_by, document=document, media_type="application/json")
    row: UpstreamFootprint = footprints.record_upstream(ctx, body, source="import", provenance=provenance)
    return ImportResult(
        footprint_id=row.footprint_id,
        supplier_company_id=row.supplier_company_id,
        product_id=row.product_id,
        line_id=line.id,
        product_name=line.product_name,
        declared_unit=row.declared_unit,
        stages=dict(row.stages),
        entered_by=entered_by,
        source_kind=source_kind,
    )
