"""Wiring one company of a supply-chain file into its node: products, partners with their node URLs, auto-fulfil.

Shared by ``connector demo`` and the in-process test network, so both build the same dataspace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..services import catalog, importer
from ..services import models as m
from ..services.context import NodeContext


def names_of(document: dict[str, Any]) -> dict[str, str]:
    names = {c["companyId"]: c["name"] for c in document["companies"]}
    names[document["verifier"]["companyId"]] = document["verifier"]["name"]
    return names


def pack_maker_of(document: dict[str, Any]) -> str:
    pack = document["declaration"]["packProductId"]
    return next(c["companyId"] for c in document["companies"] if any(p["productId"] == pack for p in c["products"]))


def pack_mass_of(document: dict[str, Any]) -> str | None:
    """The pack's mass per piece in the chain file: the automaker's battery system is one pack."""
    pack = document["declaration"]["packProductId"]
    for company in document["companies"]:
        for product in company["products"]:
            if product["productId"] == pack:
                mass = product.get("massPerDeclaredUnit")
                return None if mass is None else str(mass)
    return None


def customers_of(document: dict[str, Any]) -> dict[str, set[str]]:
    """Supplier company id -> the companies that buy from it (the automaker buys the pack)."""
    customers: dict[str, set[str]] = {}
    for company in document["companies"]:
        for product in company["products"]:
            for line in product["bom"]:
                if "supplierCompanyId" in line:
                    customers.setdefault(line["supplierCompanyId"], set()).add(company["companyId"])
    customers.setdefault(pack_maker_of(document), set()).add(document["declaration"]["issuerCompanyId"])
    return customers


def pair_protocols(document: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(customer, supplier) -> the protocol between them, from the chain file's optional ``protocols`` list
    (``{"customer", "supplier", "protocol"}``); a pair not listed speaks PACT."""
    return {(p["customer"], p["supplier"]): p["protocol"] for p in document.get("protocols") or []}


def entries_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node of the dataspace: the companies, then the notified body as a verifier without products."""
    nb = document["verifier"]
    return [
        *document["companies"],
        {
            "companyId": nb["companyId"],
            "name": nb["name"],
            "role": "verifier",
            "country": nb.get("country"),
            "products": [],
        },
    ]


def wire_company(
    ctx: NodeContext,
    document: dict[str, Any],
    url_of: Callable[[str], str | None],
    *,
    auto_fulfil: bool = True,
    oem_product: bool = True,
    catenax: Callable[[str], tuple[str, str]] | None = None,
) -> None:
    """Load this node's company from ``document`` and add its partners (``url_of``: a partner's node URL, None for
    a company that runs no node); the automaker gets a battery product whose single BOM line is the declared pack, so
    it can request the pack's footprint.

    A pair the chain file puts on Catena-X (``protocols``) is reached through the partner's connector:
    ``catenax(company id)`` gives its DSP address and BPNL."""
    cid = ctx.company_id
    names = names_of(document)
    company = next((c for c in document["companies"] if c["companyId"] == cid), None)
    if company is not None:
        importer.import_company(ctx, company, names)
        suppliers = {
            ln["supplierCompanyId"] for p in company["products"] for ln in p["bom"] if "supplierCompanyId" in ln
        }
        for supplier in suppliers:
            catalog.ensure_partner(ctx, supplier, names[supplier], supplier=True, node_url=url_of(supplier))
    for customer in customers_of(document).get(cid, ()):
        partner = catalog.ensure_partner(ctx, customer, names[customer], customer=True, node_url=url_of(customer))
        partner.auto_fulfil = auto_fulfil
        ctx.session.add(partner)
    decl = document["declaration"]
    if cid == decl["issuerCompanyId"] and oem_product:
        pack_maker = pack_maker_of(document)
        catalog.ensure_partner(ctx, pack_maker, names[pack_maker], supplier=True, node_url=url_of(pack_maker))
        slug = cid.rsplit(":", 1)[-1]
        product = catalog.create_product(
            ctx,
            m.ProductCreate.model_validate(
                {
                    "productIds": [f"urn:pact:{slug}.example:product:{decl['batteryModel'].lower()}"],
                    "name": f"Battery system {decl['batteryModel']}",
                    "declaredUnit": "piece",
                    "massPerDeclaredUnit": pack_mass_of(document),
                    "plant": decl["plant"],
                }
            ),
        )
        catalog.add_bom_line(
            ctx,
            product.id,
            m.SupplierLineCreate.model_validate(
                {
                    "kind": "supplier",
                    "supplierCompanyId": pack_maker,
                    "supplierProductId": decl["packProductId"],
                    "quantity": "1",
                    "unit": "piece",
                }
            ),
        )
    for (customer, supplier), protocol in pair_protocols(document).items():
        if protocol == "pact" or cid not in (customer, supplier):
            continue
        if protocol != "catenax" or catenax is None:
            raise ValueError(f"the chain file puts {customer} and {supplier} on {protocol}, not wired here")
        other = supplier if cid == customer else customer
        partner = catalog.ensure_partner(ctx, other, names[other])
        partner.node_url, partner.bpnl = catenax(other)
        partner.protocol = "catenax"
        ctx.session.add(partner)


__all__ = ["customers_of", "entries_of", "names_of", "pack_maker_of", "pair_protocols", "wire_company"]
