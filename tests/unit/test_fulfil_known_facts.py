"""Answering requests with what the caller already knows (grant, active footprint, a footprint just made) issues
exactly what looking it all up again would."""

from __future__ import annotations

from sqlmodel import Session, select

from connector.api import schemas as s
from connector.config import Settings
from connector.exchange import grants, propagation, requests
from connector.services import catalog, footprints
from connector.services.context import NodeContext
from connector.services.identity import load_identity
from connector.storage.tables import Attestation, CfpRequest
from tests.pki import signing_settings

COMPANY = "urn:pact:known-node.example:company:known-node"
CUSTOMER = "urn:pact:known-customer.example:company:known-customer"
OTHER = "urn:pact:known-other.example:company:known-other"
CELL = "urn:pact:known-node.example:product:cell"
PACK = "urn:pact:known-node.example:product:pack"


def _settings(tmp_path) -> Settings:
    return signing_settings(tmp_path, COMPANY, "Known Node", "Known")


def _product(ctx: NodeContext, urn: str, name: str):
    return catalog.create_product(
        ctx,
        s.ProductCreate.model_validate(
            {"productIds": [urn], "name": name, "declaredUnit": "kilogram", "plant": {"name": "Plant", "country": "JP"}}
        ),
    )


def _cell(ctx: NodeContext):
    """Our cell, made of own emissions only."""
    cell = _product(ctx, CELL, "Cell")
    catalog.add_emission(
        ctx, cell.id, s.EmissionCreate.model_validate({"stage": "raw_material_acquisition", "value": "2.5"})
    )
    return cell


def test_requests_waiting_on_a_new_footprint_share_one_attestation_per_customer(engine, tmp_path) -> None:
    """Two open requests of one customer and one of another, answered by one propagation: two attestations of the
    new footprint, one per customer (the second request of a customer finds the first one's)."""
    settings = _settings(tmp_path)
    identity = load_identity(settings)
    with Session(engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings, identity)
        cell = _cell(ctx)
        pack = _product(ctx, PACK, "Pack")
        catalog.add_bom_line(
            ctx,
            pack.id,
            s.SupplierLineCreate.model_validate(
                {"supplierCompanyId": COMPANY, "supplierProductId": CELL, "quantity": "2", "unit": "kilogram"}
            ),
        )
        reqs = []
        for i, company in enumerate((CUSTOMER, CUSTOMER, OTHER)):
            grants.grant(ctx, pack.id, company)
            req = CfpRequest(
                direction="incoming",
                event_id=f"e{i}",
                company_id=company,
                product_ids=[PACK],
                product_id=pack.id,
                callback_url=f"https://c{i}.test",
                created_at=ctx.now(),
                updated_at=ctx.now(),
            )
            session.add(req)
            reqs.append(req)
        session.commit()

        footprints.compute(ctx, cell.id)
        propagation.propagate(ctx, COMPANY, CELL)
        session.commit()

        for req in reqs:
            session.refresh(req)
        assert [req.state for req in reqs] == ["fulfilled"] * 3
        answered = {tuple(req.footprint_ids) for req in reqs}
        assert len(answered) == 1  # the same new footprint for all three
        issued = session.exec(select(Attestation).where(Attestation.footprint_id == answered.pop()[0])).all()
        assert sorted(a.audience for a in issued) == sorted([CUSTOMER, OTHER])


def test_a_request_answered_from_a_footprint_computed_on_the_spot_is_attested_once(engine, tmp_path) -> None:
    settings = _settings(tmp_path)
    identity = load_identity(settings)
    with Session(engine, expire_on_commit=False) as session:
        ctx = NodeContext(session, settings, identity)
        cell = _cell(ctx)
        req = CfpRequest(
            direction="incoming",
            event_id="e1",
            company_id=CUSTOMER,
            product_ids=[CELL],
            product_id=cell.id,
            callback_url="https://c.test",
            created_at=ctx.now(),
            updated_at=ctx.now(),
        )
        session.add(req)
        session.commit()
        requests.accept_request(ctx, req.id)  # grants, computes the first footprint and answers
        session.commit()
        assert req.state == "fulfilled"
        again = CfpRequest(
            direction="incoming",
            event_id="e2",
            company_id=CUSTOMER,
            product_ids=[CELL],
            product_id=cell.id,
            callback_url="https://c.test",
            created_at=ctx.now(),
            updated_at=ctx.now(),
        )
        session.add(again)
        session.commit()
        requests.fulfil_request(ctx, again.id)  # the footprint is held now: its attestation is found, not re-issued
        session.commit()
        assert again.footprint_ids == req.footprint_ids
        issued = session.exec(select(Attestation).where(Attestation.footprint_id == req.footprint_ids[0])).all()
        assert [a.audience for a in issued] == [CUSTOMER]
