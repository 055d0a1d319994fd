"""A page of ListFootprints is rendered from three batched queries, byte for byte as one footprint at a time."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event
from sqlmodel import Session

from connector.api import schemas as s
from connector.config import Settings
from connector.exchange import grants
from connector.protocols.pact import render_cache
from connector.protocols.pact.reads import render_window
from connector.services import catalog, footprints
from connector.services.context import NodeContext
from connector.services.identity import load_identity
from tests.pki import signing_settings

COMPANY = "urn:pact:batch-node.example:company:batch-node"
CUSTOMER = "urn:pact:batch-customer.example:company:batch-customer"


def _signing_settings(tmp_path) -> Settings:
    return signing_settings(tmp_path, COMPANY, "Batch Node", "Batch")


def test_a_page_is_rendered_as_each_footprint_alone_in_three_queries(engine, tmp_path) -> None:
    settings = _signing_settings(tmp_path)
    identity = load_identity(settings)
    with Session(engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings, identity)
        for i in range(6):
            product = catalog.create_product(
                ctx,
                s.ProductCreate.model_validate(
                    {
                        "productIds": [f"urn:pact:batch-node.example:product:p{i}"],
                        "name": f"P{i}",
                        "declaredUnit": "kilogram",
                        "plant": {"name": "Plant", "country": "JP"},
                    }
                ),
            )
            catalog.add_emission(
                ctx,
                product.id,
                s.EmissionCreate.model_validate({"stage": "raw_material_acquisition", "value": str(Decimal(i) + 1)}),
            )
            footprints.compute(ctx, product.id)
            if i != 5:  # the last one is not shared
                grants.grant(ctx, product.id, CUSTOMER)
        session.commit()
        window = grants.visible_footprints(ctx, CUSTOMER)
        assert len(window) == 5
        one_by_one = [render_cache.rendered_json(ctx, fp, p, CUSTOMER) for fp, p in window]  # issues attestations
        session.commit()

    with Session(engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings, identity)
        window = grants.visible_footprints(ctx, CUSTOMER)
        statements: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", count)
        try:
            page = render_window(ctx, window, CUSTOMER, issue_missing=False)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert page == one_by_one
        assert len([q for q in statements if q.lstrip().upper().startswith("SELECT")]) <= 3, statements
        # a rendering not cached yet (or no attestation yet) goes the one-footprint way, same bytes
        render_cache._RENDERED.clear()
        assert render_window(ctx, window, CUSTOMER, issue_missing=False) == one_by_one
