"""The event path's read-only rows and prebuilt statements answer as the ORM queries they replace."""

from __future__ import annotations

import inspect
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, select

from connector.storage import repositories as repo
from connector.storage import requests as request_rows
from connector.storage.tables import (
    BomLine,
    CfpRequest,
    Grant,
    OwnEmission,
    Partner,
    Product,
    ProductIdentifier,
    UpstreamFootprint,
    empty_list,
    new_id,
    utcnow,
)

A = "urn:pact:a.example:company:a"
P = "urn:pact:a.example:product:cell"


def test_rows_see_what_the_transaction_added_but_did_not_flush(engine) -> None:
    """As an ORM query autoflushes, so do the rows: a pending row of this transaction is found."""
    with Session(engine) as session:
        product = Product(product_ids=[P], name="Cell", declared_unit="kilogram")
        session.add(product)
        session.flush()  # no ORM relationships: the unit of work would not order the rows by foreign key
        session.add(ProductIdentifier(urn=P, product_id=product.id))
        session.add(Partner(company_id=A, name="A", node_url="https://a.test", auto_fulfil=True))
        session.add(Grant(product_id=product.id, company_id=A))
        session.add(
            BomLine(
                product_id=product.id,
                kind="supplier",
                supplier_company_id=A,
                supplier_product_id=P,
                quantity=Decimal("1.5"),
                unit="kilogram",
            )
        )
        session.add(OwnEmission(product_id=product.id, stage="main_production", kind="direct", value=Decimal("2.25")))
        partner = repo.partner_row(session, A)
        assert partner is not None and partner.node_url == "https://a.test" and partner.auto_fulfil is True
        assert repo.partner_row(session, "urn:nobody") is None
        assert repo.grantees(session, product.id) == [A]
        (line,) = repo.bom_line_rows(session, product.id)
        assert line.quantity == Decimal("1.5") and line.supplier_product_id == P  # decimals as Decimal, as the ORM's
        (own,) = repo.own_emission_rows(session, product.id)
        assert own.value == Decimal("2.25") and own.primary is True
        assert [p.id for p in repo.products_by_urns(session, [P.upper()])] == [product.id]
        assert repo.products_by_urns(session, []) == []


def test_upstream_attestation_and_the_latest_rows_leave_the_large_columns(engine) -> None:
    with Session(engine) as session:
        session.add(
            UpstreamFootprint(
                footprint_id="f1",
                supplier_company_id=A,
                product_id=P,
                declared_unit="kilogram",
                stages={},
                attestation="token",
                evidence={"packages": {}},
                pact={"id": "f1"},
                received_at=utcnow() - timedelta(seconds=5),
            )
        )
        assert repo.upstream_attestation(session, "f1") == ("token", {"packages": {}})
        assert repo.upstream_attestation(session, "f2") is None
        row = repo.latest_upstreams(session, [(A, P)])[(A, P.lower())]
        assert row.footprint_id == "f1" and row.attestation == "token"
        assert "evidence" not in row._fields and "pact" not in row._fields


def test_prebuilt_orm_statements_return_instances_of_the_session(engine) -> None:
    with Session(engine) as session:
        req = CfpRequest(direction="outgoing", event_id="e1", company_id=A, product_ids=[P])
        incoming = CfpRequest(direction="incoming", event_id="e2", company_id=A, product_ids=[P], product_id="p1")
        session.add_all([req, incoming])
        assert request_rows.outgoing_request(session, "e1") is req
        assert request_rows.outgoing_request(session, "e2") is None  # an incoming request is not one we sent
        assert request_rows.pending_incoming(session, "p1") == [incoming]
        incoming.state = "fulfilled"
        assert request_rows.pending_incoming(session, "p1") == []
        assert session.exec(select(CfpRequest)).all()  # the session is still usable as before


def test_table_defaults_are_fresh_and_their_factories_inspected_once() -> None:
    """The factories carry their signature (pydantic inspects it on every default it makes)."""
    for factory in (empty_list, new_id, utcnow):
        assert "__signature__" in vars(factory) and inspect.signature(factory).parameters == {}
    a, b = (
        CfpRequest(direction="incoming", event_id="x", company_id=A),
        CfpRequest(direction="incoming", event_id="y", company_id=A),
    )
    assert a.verifier_certs == [] and a.verifier_certs is not b.verifier_certs and a.id != b.id
