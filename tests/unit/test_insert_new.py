"""Rows the event path inserts with one ORM-enabled INSERT are the rows a unit-of-work flush wrote, and their commit
still clears the PACT read cache."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel

from connector.protocols.pact import cache
from connector.storage import repositories as repo
from connector.storage.tables import Attestation, Footprint, Grant, Product, UpstreamFootprint, utcnow


def _raw(session: Session, model: type[SQLModel], row_id: str) -> dict:
    """The row through its column types, and which columns hold SQL NULL (JSON's null reads back as None too)."""
    table = model.__table__  # type: ignore[attr-defined]
    found = session.connection().execute(core_select(table).where(table.c.id == row_id)).one()
    nulls = session.connection().execute(core_select(*(c.is_(None) for c in table.c)).where(table.c.id == row_id))
    return {**found._mapping, "sql nulls": tuple(nulls.one())}


def _pairs(product_id: str, footprint_id: str) -> list[tuple[SQLModel, SQLModel]]:
    at = utcnow() - timedelta(seconds=3)

    def grant(company: str) -> Grant:
        return Grant(product_id=product_id, company_id=company, created_at=at)

    def attestation(audience: str) -> Attestation:
        return Attestation(
            footprint_id=footprint_id,
            audience=audience,
            sd_jwt="a.b.c~",
            digest="d" * 64,
            disclosures=["x"],
            evidence=None,
            verifiers=["pem"],
            created_at=at,
        )

    def upstream(fid: str, **kw: object) -> UpstreamFootprint:
        return UpstreamFootprint(
            footprint_id=fid,
            supplier_company_id="urn:s",
            product_id="urn:p:x",
            declared_unit="kilogram",
            stages={"raw_material_acquisition": "1.50"},
            received_at=at,
            **kw,
        )

    return [
        (grant("urn:c:1"), grant("urn:c:2")),
        (attestation("urn:c:1"), attestation("urn:c:2")),
        (upstream("f1"), upstream("f2")),  # None in the nullable JSON, decimal and text columns
        (
            upstream(
                "f3",
                primary_data_share=Decimal("12.5"),
                dqr={"technological": "2"},
                attestation="t",
                evidence={"packages": {}},
                pact={"id": "f"},
                source="peer",
                certifications=[{"token": "c"}],
            ),
            upstream(
                "f4",
                primary_data_share=Decimal("12.5"),
                dqr={"technological": "2"},
                attestation="t",
                evidence={"packages": {}},
                pact={"id": "f"},
                source="peer",
                certifications=[{"token": "c"}],
            ),
        ),
    ]


def test_an_inserted_row_is_the_row_a_flush_wrote(engine) -> None:
    with Session(engine) as session:
        product = Product(product_ids=["urn:p:x"], name="X", declared_unit="kilogram")
        session.add(product)
        session.flush()
        fp = Footprint(product_id=product.id, stages={}, own_stages={}, total=Decimal("1"), rounding="r")
        session.add(fp)
        session.commit()
        for flushed, inserted in _pairs(product.id, fp.id):
            session.add(flushed)
            session.flush()
            repo.insert_new(session, inserted)
            assert inserted not in session
            a, b = _raw(session, type(flushed), flushed.id), _raw(session, type(inserted), inserted.id)
            different = {"id", "company_id", "audience", "footprint_id"}
            assert {k: v for k, v in a.items() if k not in different} == {
                k: v for k, v in b.items() if k not in different
            }
        session.commit()


def test_the_commit_of_an_inserted_row_clears_the_pact_read_cache(engine) -> None:
    with Session(engine) as session:
        product = Product(product_ids=["urn:p:y"], name="Y", declared_unit="kilogram")
        session.add(product)
        session.commit()
        before = cache.generation()
        repo.insert_new(session, Grant(product_id=product.id, company_id="urn:c:1"))
        session.commit()
        assert cache.generation() > before
