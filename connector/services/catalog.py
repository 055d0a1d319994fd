"""Products, bills of materials, own emissions and partners."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from ..aggregation.engine import require_acyclic
from ..errors import Conflict, NotFound, UnitError, ValidationFailed
from ..exchange import targets
from ..storage import bpn
from ..storage import repositories as repo
from ..storage.tables import BomLine, OwnEmission, Partner, Product, ProductIdentifier
from ..units import dimension, normalize_unit
from . import models as m
from .context import NodeContext


def get_product(ctx: NodeContext, product_id: str) -> Product:
    product = ctx.session.get(Product, product_id)
    if product is None:
        raise NotFound("product %(product)s not found", code="product.not-found", params={"product": product_id})
    return product


def create_product(ctx: NodeContext, data: m.ProductCreate, *, product_id: str | None = None) -> Product:
    taken = [urn for urn in data.product_ids if repo.product_by_urn(ctx.session, urn) is not None]
    if taken:
        raise Conflict(
            "product id already in use: %(ids)s",
            code="product.id-taken",
            params={"ids": ", ".join(taken)},
            errors=[{"field": "productIds", "message": "duplicate"}],
        )
    product = Product(
        product_ids=list(data.product_ids),
        name=data.name,
        description=data.description,
        declared_unit=data.declared_unit,
        mass_per_declared_unit=data.mass_per_declared_unit,
        classifications=list(data.classifications),
        reference_period_start=data.reference_period_start,
        reference_period_end=data.reference_period_end,
        primary_data_share=data.primary_data_share,
        dqr=data.dqr.model_dump(mode="json") if data.dqr else None,
        manual_confirmation=data.manual_confirmation,
    )
    if product_id:
        product.id = product_id  # the caller's id (Ouranos: the traceId its product id names), not yet flushed
    _set_plant(product, data.plant)
    ctx.session.add(product)
    ctx.session.flush()
    for urn in data.product_ids:
        ctx.session.add(ProductIdentifier(urn=urn, product_id=product.id))
    try:
        ctx.session.flush()
    except IntegrityError as exc:  # a concurrent insert of the same URN
        raise Conflict("product id already in use") from exc
    return product


def add_identifiers(ctx: NodeContext, product: Product, urns: list[str]) -> None:
    """Add ``urns`` to the product's ids (those it has already are skipped); one held by another product is a
    conflict."""
    held = {urn.lower() for urn in product.product_ids}
    for urn in urns:
        if urn.lower() in held:
            continue
        other = repo.product_by_urn(ctx.session, urn)
        if other is not None:
            raise Conflict(
                "product id %(id)s belongs to another product",
                code="product.id-elsewhere",
                params={"id": urn},
                errors=[{"field": "productIds"}],
            )
        ctx.session.add(ProductIdentifier(urn=urn, product_id=product.id))
        product.product_ids = [*product.product_ids, urn]
        held.add(urn.lower())
    ctx.session.add(product)
    ctx.session.flush()


def remove_identifier(ctx: NodeContext, product: Product, urn: str) -> None:
    """Drop ``urn`` (any case) from the product's ids, unless it is the last one (a product keeps an id)."""
    gone = [u for u in product.product_ids if u.lower() == urn.lower()]
    if not gone or len(gone) == len(product.product_ids):
        return
    for held in gone:
        row = ctx.session.get(ProductIdentifier, held)
        if row is not None and row.product_id == product.id:
            ctx.session.delete(row)
    product.product_ids = [u for u in product.product_ids if u.lower() != urn.lower()]
    ctx.session.add(product)
    ctx.session.flush()


def _set_plant(product: Product, plant: m.ProductPlant | None) -> None:
    product.plant_name = plant.name if plant else None
    product.plant_country = plant.country if plant else None
    product.plant_subdivision = plant.subdivision if plant else None


def update_product(ctx: NodeContext, product_id: str, data: m.ProductUpdate) -> Product:
    product = get_product(ctx, product_id)
    fields = data.model_dump(exclude_unset=True)
    if "plant" in fields:
        _set_plant(product, data.plant)
    if "dqr" in fields:
        product.dqr = data.dqr.model_dump(mode="json") if data.dqr else None
    for name in (
        "name",
        "description",
        "mass_per_declared_unit",
        "classifications",
        "primary_data_share",
        "manual_confirmation",
    ):
        if name in fields:
            setattr(product, name, getattr(data, name))
    ctx.session.add(product)
    return product


def delete_product(ctx: NodeContext, product_id: str) -> None:
    product = get_product(ctx, product_id)
    ctx.session.delete(product)


def product_read(product: Product) -> m.ProductRead:
    plant = None
    if product.plant_name and product.plant_country:
        plant = m.ProductPlant(
            name=product.plant_name, country=product.plant_country, subdivision=product.plant_subdivision
        )
    return m.ProductRead(
        id=product.id,
        product_ids=product.product_ids,
        name=product.name,
        description=product.description,
        declared_unit=product.declared_unit,
        mass_per_declared_unit=product.mass_per_declared_unit,
        plant=plant,
        classifications=product.classifications,
        primary_data_share=product.primary_data_share,
        dqr=m.DataQualityIn.model_validate(product.dqr) if product.dqr else None,
        manual_confirmation=product.manual_confirmation,
        created_at=product.created_at,
    )


def add_bom_line(ctx: NodeContext, product_id: str, data: m.SupplierLineCreate | m.SecondaryLineCreate) -> BomLine:
    product = get_product(ctx, product_id)
    if isinstance(data, m.SecondaryLineCreate):
        line = BomLine(
            product_id=product.id,
            kind="secondary",
            quantity=data.quantity,
            unit=data.unit,
            dataset=data.dataset,
            dataset_version=data.dataset_version,
            factor=data.factor,
            stage=data.stage.value,
        )
        ctx.session.add(line)
        ctx.session.flush()
        return line
    if data.supplier_company_id == ctx.company_id:
        # an input made by this same company: it must exist, match units, and must not close a loop
        target = repo.product_by_urn(ctx.session, data.supplier_product_id)
        if target is None:
            raise ValidationFailed(
                "no product %(product)s at this company",
                code="bom.unknown-own-product",
                params={"product": data.supplier_product_id},
                errors=[{"field": "supplierProductId", "message": "unknown product"}],
            )
        _check_units(data.unit, target.declared_unit)
        edges = repo.internal_edges(ctx.session, ctx.company_id)
        edges.setdefault(product.id, []).append(target.id)
        require_acyclic(edges, product.id)
    else:
        # a supplier's footprint already held tells its declared unit: refuse now what the compute would refuse
        held = repo.latest_upstreams(ctx.session, [(data.supplier_company_id, data.supplier_product_id)])
        for up in held.values():
            _check_units(data.unit, up.declared_unit)
    line = BomLine(
        product_id=product.id,
        kind="supplier",
        supplier_company_id=data.supplier_company_id,
        supplier_product_id=data.supplier_product_id,
        quantity=data.quantity,
        unit=data.unit,
    )
    ctx.session.add(line)
    ctx.session.flush()
    return line


def _check_units(unit: str, declared: str) -> None:
    if dimension(unit) != dimension(declared):
        raise UnitError(
            "unit %(unit)r is not convertible to the supplier's declared unit %(declared)r",
            code="bom.unit-not-declared",
            params={"unit": unit, "declared": declared},
            errors=[{"field": "unit", "message": "incompatible unit"}],
        )


def delete_bom_line(ctx: NodeContext, product_id: str, line_id: str) -> None:
    line = ctx.session.get(BomLine, line_id)
    if line is None or line.product_id != product_id:
        raise NotFound("BOM line %(line)s not found", code="bom.line-not-found", params={"line": line_id})
    ctx.session.delete(line)


def add_emission(ctx: NodeContext, product_id: str, data: m.EmissionCreate) -> OwnEmission:
    product = get_product(ctx, product_id)
    if data.unit is not None:
        normalize_unit(data.unit)
    row = OwnEmission(
        product_id=product.id,
        stage=data.stage.value,
        kind="direct" if data.value is not None else "activity",
        value=data.value,
        amount=data.amount,
        unit=data.unit,
        factor=data.factor,
        source=data.source,
        primary=data.primary,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def delete_emission(ctx: NodeContext, product_id: str, emission_id: str) -> None:
    row = ctx.session.get(OwnEmission, emission_id)
    if row is None or row.product_id != product_id:
        raise NotFound(
            "emission line %(emission)s not found", code="emission.not-found", params={"emission": emission_id}
        )
    ctx.session.delete(row)


def _callable_node_url(ctx: NodeContext, url: str | None) -> None:
    """A partner's node URL is called by this node: refused now (422) when every call to it would be (a private or
    loopback address without ``allow_private_network_targets``); names are checked again, resolved, at each call."""
    if url:
        try:
            targets.check_url(url, ctx.settings.allow_private_network_targets)
        except targets.TargetRefused as exc:
            raise ValidationFailed(str(exc), errors=[{"field": "nodeUrl", "message": str(exc)}]) from None


def _bpnl_free(ctx: NodeContext, bpnl: str | None, partner_id: str | None = None) -> None:
    """A BPNL names one partner (a Catena-X call is read as that partner's): another's is a 409, not a 500."""
    if bpnl:
        holder = bpn.partner_by_bpnl(ctx.session, bpnl)
        if holder is not None and holder.id != partner_id:
            raise Conflict(
                f"BPNL {bpnl} is already the partner {holder.company_id}'s",
                errors=[{"field": "bpnl", "message": "already another partner's"}],
            )


def _flush_partner(ctx: NodeContext, partner: Partner) -> None:
    """Written in a savepoint: a company id or BPNL taken by a concurrent request at the same moment is a 409."""
    try:
        with ctx.session.begin_nested():
            ctx.session.add(partner)
            ctx.session.flush()
    except IntegrityError:
        raise Conflict(f"partner {partner.company_id} or BPNL {partner.bpnl} already exists") from None


def create_partner(ctx: NodeContext, data: m.PartnerCreate) -> Partner:
    if repo.partner_by_company(ctx.session, data.company_id):
        raise Conflict("partner %(company)s already exists", code="partner.exists", params={"company": data.company_id})
    _bpnl_free(ctx, data.bpnl)
    _callable_node_url(ctx, data.node_url)
    partner = Partner(**data.model_dump())
    _flush_partner(ctx, partner)
    return partner


def get_partner(ctx: NodeContext, partner_id: str) -> Partner:
    partner = ctx.session.get(Partner, partner_id)
    if partner is None:
        raise NotFound("partner %(partner)s not found", code="partner.not-found", params={"partner": partner_id})
    return partner


def update_partner(ctx: NodeContext, partner_id: str, data: m.PartnerUpdate) -> Partner:
    partner = get_partner(ctx, partner_id)
    _callable_node_url(ctx, data.node_url)
    changes = data.model_dump(exclude_unset=True)
    _bpnl_free(ctx, changes.get("bpnl"), partner.id)
    for name, value in changes.items():
        setattr(partner, name, value)
    _flush_partner(ctx, partner)
    return partner


def ensure_partner(
    ctx: NodeContext,
    company_id: str,
    name: str,
    *,
    supplier: bool = False,
    customer: bool = False,
    node_url: str | None = None,
) -> Partner:
    _callable_node_url(ctx, node_url)
    partner = repo.partner_by_company(ctx.session, company_id)
    if partner is None:
        partner = Partner(company_id=company_id, name=name, node_url=node_url)
    partner.is_supplier = partner.is_supplier or supplier
    partner.is_customer = partner.is_customer or customer
    if node_url:
        partner.node_url = node_url
    ctx.session.add(partner)
    ctx.session.flush()
    return partner
