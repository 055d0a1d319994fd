"""The trust store's path cache: a cached chain is refused exactly when the verifier would refuse it.

Every case validates once to fill the cache (asserted through the hit counter), then again where the validity
window, the CRLs or the role make the difference; the verdict must be the uncached store's (``path_cache_size=0``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from connector.attestation import jws
from connector.errors import InvalidSignature, TrustError
from connector.identity import (
    Revocation,
    Role,
    TrustStore,
    build_crl,
    create_intermediate_ca,
    issue_company_certificate,
)
from connector.identity.keys import x5c_encode
from tests.pki import OEM_ID, SUPPLIER_ID, T0, VERIFIER_ID, make_pki


def _verdict(store: TrustStore, chain: list, at: datetime, role: object = None) -> str:
    try:
        return store.validate(chain, at=at, role=role).company_id  # type: ignore[arg-type]
    except TrustError as exc:
        return f"refused: {exc.reason}"


def _cached(store: TrustStore, chain: list) -> None:
    """Fill the cache with ``chain`` and check the next validation is a hit."""
    store.validate(chain, at=T0)
    hits = store._paths.hits
    store.validate(chain, at=T0)
    assert store._paths.hits == hits + 1


def test_hit_gives_the_same_identity_as_a_miss() -> None:
    pki = make_pki()
    chain = list(pki.company(OEM_ID, "oem", name="OEM AG").chain)
    store, cold = pki.trust(), TrustStore([pki.root.certificate], path_cache_size=0)
    _cached(store, chain)
    hit, miss = store.validate(chain, at=T0, role="oem"), cold.validate(chain, at=T0, role="oem")
    assert (hit.company_id, hit.name, hit.role, hit.certificate, hit.chain) == (
        miss.company_id,
        miss.name,
        miss.role,
        miss.certificate,
        miss.chain,
    )
    assert len(cold._paths) == 0


def test_cached_chain_refused_outside_the_leaf_validity_with_the_verifier_semantics() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier", validity=timedelta(days=30))
    chain = list(issued.chain)
    store, cold = pki.trust(), TrustStore([pki.root.certificate], path_cache_size=0)
    _cached(store, chain)
    nb, na = issued.certificate.not_valid_before_utc, issued.certificate.not_valid_after_utc
    us = timedelta(microseconds=1)
    # Both ends inclusive, and the verifier drops the microseconds of ``at``: na + 0.999999 s is still valid.
    for at in (
        nb - timedelta(days=1),
        nb - us,
        nb,
        na,
        na + timedelta(seconds=1) - us,
        na + timedelta(seconds=1),
        na + timedelta(days=1),
    ):
        assert _verdict(store, chain, at) == _verdict(cold, chain, at), at
    assert _verdict(store, chain, na + timedelta(seconds=1)).startswith("refused")
    assert "not valid at validation time" in _verdict(store, chain, na + timedelta(days=1))
    assert _verdict(store, chain, nb - us).startswith("refused")
    assert _verdict(store, chain, na) == SUPPLIER_ID


def test_cached_chain_refused_outside_an_intermediate_validity() -> None:
    pki = make_pki()
    # An issuing CA that starts later than the leaf it issued and ends earlier than the root.
    late = create_intermediate_ca(pki.root, "Late Issuing CA", at=T0 + timedelta(days=2), validity=timedelta(days=10))
    issued = issue_company_certificate(
        late, company_id=SUPPLIER_ID, name="s", role="supplier", at=T0 + timedelta(days=1), validity=timedelta(days=60)
    )
    chain = list(issued.chain)
    store, cold = pki.trust(), TrustStore([pki.root.certificate], path_cache_size=0)
    store.validate(chain, at=T0 + timedelta(days=5))
    assert len(store._paths) == 1
    for at in (T0 + timedelta(days=1, hours=1), T0 + timedelta(days=5), T0 + timedelta(days=13)):
        assert _verdict(store, chain, at) == _verdict(cold, chain, at), at
    assert _verdict(store, chain, T0 + timedelta(days=1, hours=1)).startswith("refused")
    assert _verdict(store, chain, T0 + timedelta(days=13)).startswith("refused")


def test_cached_chain_refused_when_a_crl_added_later_revokes_it_before_at() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    chain = list(issued.chain)
    store = pki.trust()
    _cached(store, chain)
    revoked_at = T0 + timedelta(days=10)
    later = store.with_crls([pki.crl((issued, revoked_at), at=T0 + timedelta(days=11))])
    hits = store._paths.hits
    assert later.validate(chain, at=T0 + timedelta(days=9)).company_id == SUPPLIER_ID  # signed before: still fine
    with pytest.raises(TrustError) as err:
        later.validate(chain, at=revoked_at)  # revoked at or before ``at``
    assert "revoked" in err.value.reason
    with pytest.raises(TrustError):
        later.validate(chain, at=T0 + timedelta(days=20))
    assert store._paths.hits == hits + 3  # the copy shares the cache: these were hits
    assert store.validate(chain, at=T0 + timedelta(days=20)).company_id == SUPPLIER_ID  # the original has no CRL


def test_cached_chain_refused_when_the_intermediate_is_revoked_later() -> None:
    pki = make_pki()
    chain = list(pki.company(SUPPLIER_ID, "supplier").chain)
    store = pki.trust()
    _cached(store, chain)
    root_crl = build_crl(pki.root, [Revocation(pki.inter.certificate.serial_number, T0)], at=T0)
    with pytest.raises(TrustError) as err:
        store.with_crls([root_crl]).validate(chain, at=T0 + timedelta(hours=1))
    assert "revoked" in err.value.reason


def test_forged_crl_refused_on_a_hit() -> None:
    pki, other = make_pki(), make_pki()
    chain = list(pki.company(SUPPLIER_ID, "supplier").chain)
    store = pki.trust()
    _cached(store, chain)
    forged = build_crl(other.inter, [], at=T0)  # same issuer name, another key
    for _ in range(2):  # the CRL signature verdict is remembered, and stays a refusal
        with pytest.raises(TrustError) as err:
            store.with_crls([forged]).validate(chain, at=T0)
        assert "not signed" in err.value.reason


def test_require_crl_applies_on_a_hit() -> None:
    pki = make_pki()
    chain = list(pki.company(SUPPLIER_ID, "supplier").chain)
    store = TrustStore([pki.root.certificate])
    _cached(store, chain)
    strict = TrustStore([pki.root.certificate], require_crl=True)
    strict._paths = store._paths
    with pytest.raises(TrustError) as err:
        strict.validate(chain, at=T0)
    assert "no CRL" in err.value.reason


@pytest.mark.parametrize("role", ["verifier", [Role.OEM, Role.VERIFIER], Role.OEM])
def test_cached_chain_refused_for_another_role(role: object) -> None:
    pki = make_pki()
    chain = list(pki.company(SUPPLIER_ID, "supplier").chain)
    store = pki.trust()
    store.validate(chain, at=T0, role="supplier")
    hits = store._paths.hits
    with pytest.raises(TrustError) as err:
        store.validate(chain, at=T0, role=role)  # type: ignore[arg-type]
    assert "role is supplier" in err.value.reason
    assert store._paths.hits == hits + 1
    assert store.validate(chain, at=T0, role=("supplier", "oem")).role is Role.SUPPLIER


def test_cache_never_grows_past_its_bound() -> None:
    pki = make_pki()
    store = TrustStore([pki.root.certificate], path_cache_size=3)
    chains = [list(pki.company(f"urn:pact:c{i}.example:company:c{i}", "supplier").chain) for i in range(7)]
    for chain in chains:
        store.validate(chain, at=T0)
        assert len(store._paths) <= 3
    assert len(store._paths) == 3
    misses = store._paths.misses
    store.validate(chains[-1], at=T0)  # most recent: still cached
    store.validate(chains[0], at=T0)  # evicted: validated again, and correctly
    assert store._paths.misses == misses + 1
    assert len(store.with_crls([])._paths) == 3  # copies share, not add


def test_ambiguous_issuers_are_not_cached() -> None:
    # Two roots with the same name: the issuing CA's issuer matches both, so the built path could depend on time.
    pki, twin = make_pki("Same"), make_pki("Same")
    store = TrustStore([pki.root.certificate, twin.root.certificate])
    chain = list(pki.company(SUPPLIER_ID, "supplier").chain)
    assert store.validate(chain, at=T0).company_id == SUPPLIER_ID
    assert len(store._paths) == 0


def test_failures_are_not_cached() -> None:
    ours, theirs = make_pki("Ours"), make_pki("Theirs")
    chain = list(theirs.company(SUPPLIER_ID, "supplier").chain)
    store = ours.trust()
    for _ in range(2):
        with pytest.raises(TrustError):
            store.validate(chain, at=T0)
    assert len(store._paths) == 0


def test_x5c_cache_is_bounded_and_returns_fresh_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    pki = make_pki()
    monkeypatch.setattr(jws, "X5C_CACHE_SIZE", 2)
    monkeypatch.setattr(jws, "_x5c_cache", type(jws._x5c_cache)())
    values = [x5c_encode(pki.company(cid, "supplier").chain) for cid in (SUPPLIER_ID, OEM_ID, VERIFIER_ID)]
    for v in values:
        chain, key = jws.x5c_chain(v)
        assert len(jws._x5c_cache) <= 2
        chain.append(chain[0])  # the caller's list; the cached chain is unchanged
        again, _ = jws.x5c_chain(v)
        assert len(again) == len(v) and key is not None
    with pytest.raises(InvalidSignature):
        jws.x5c_chain(["not base64!"])
    assert len(jws._x5c_cache) == 2
