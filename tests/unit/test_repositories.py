"""Repository queries that replace a query per item with one query for many."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from connector.storage import repositories as repo
from connector.storage.tables import UpstreamFootprint, utcnow

A, B = "urn:pact:a.example:company:a", "urn:pact:b.example:company:b"
P, Q = "urn:pact:a.example:product:Cell", "urn:pact:a.example:product:anode"


def _held(session: Session, company: str, product: str, age_s: int, status: str = "Active") -> UpstreamFootprint:
    row = UpstreamFootprint(
        footprint_id=f"{company[-1]}{product[-4:]}{age_s}{status}",
        supplier_company_id=company,
        product_id=product,
        declared_unit="kilogram",
        stages={},
        status=status,
        received_at=utcnow() - timedelta(seconds=age_s),
    )
    session.add(row)
    return row


def test_latest_upstreams_matches_latest_upstream_pair_by_pair(engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        _held(session, A, P, 30)
        newest = _held(session, A, P, 10)
        _held(session, A, P, 1, status="Deprecated")  # newer, but no longer active
        other = _held(session, A, Q, 5)
        _held(session, B, Q, 5)  # same product URN, another supplier: not asked for
        session.commit()
        pairs = [(A, P.upper()), (A, Q), (B, P)]  # URNs compare case-insensitively; (B, P) is not held
        found = repo.latest_upstreams(session, pairs)
        assert set(found) == {(A, P.lower()), (A, Q.lower())}
        assert found[(A, P.lower())].id == newest.id and found[(A, Q.lower())].id == other.id
        for company, urn in pairs:  # the same answer as the one-pair query
            one = repo.latest_upstream_ids(session, company, urn)
            assert (one[0] if one else None) == (
                found[(company, urn.lower())].id if (company, urn.lower()) in found else None
            )
        assert repo.latest_upstreams(session, []) == {}
