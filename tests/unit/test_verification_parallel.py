"""verify_bundle in a process pool gives the same report as the sequential walk (no timing is asserted)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from bench.synth import (
    AT,
    DECLARATION,
    OEM_ID,
    PACK_PRODUCT,
    attest,
    company_id,
    dataspace,
    deep_bundle,
    leaf_values,
    stages,
    wide_bundle,
)
from connector.certification import certify
from connector.declaration import DeclarationInput, compute_declaration
from connector.declaration.signing import build_bundle, sign_declaration
from connector.identity import TrustStore
from connector.verification import tree_walk, verify_bundle
from tests.pki import T0


@pytest.fixture
def parallel_always(monkeypatch):
    """Every bundle with two or more subtrees under the pack goes to the pool; records that it did."""
    monkeypatch.setattr(tree_walk, "PARALLEL_MIN_ATTESTATIONS", 0)
    calls: list[int] = []
    real = tree_walk.SubtreePool.start

    def spy(ctx, items, kw):
        calls.append(len(items))
        return real(ctx, items, kw)

    monkeypatch.setattr(tree_walk.SubtreePool, "start", spy)
    return calls


def _both(ds, bundle, **kw):
    out = []
    for workers in (1, 2):
        trust = TrustStore(ds.trust.anchors, ds.trust.crls, intermediates=ds.trust.intermediates)
        out.append(
            verify_bundle(
                bundle, trust, at=AT, verifier_key=ds.nb.key, verifier_cert=ds.nb.certificate, workers=workers, **kw
            )
        )
    return out


@pytest.mark.parametrize("make, n", [(wide_bundle, 25), (deep_bundle, 22)])
def test_parallel_report_is_the_sequential_report(parallel_always, make, n) -> None:
    ds = dataspace()
    bundle, _ = make(ds, n)
    sequential, parallel = _both(ds, bundle.to_json())
    assert parallel_always, "the pool was not used"
    assert sequential.valid, [f.line() for f in sequential.failures]
    assert parallel.to_json() == sequential.to_json()


def test_parallel_with_failures_and_certifications(parallel_always) -> None:
    """Failures in several subtrees, a certification bound inside one of them and an unopened certified one."""
    ds = dataspace()
    pack_co = company_id(0)
    ups = []
    for b in range(6):
        below = None
        for t in (2, 1):
            cid = company_id(100 + t * 10 + b)
            audience = company_id(100 + (t - 1) * 10 + b) if t > 1 else pack_co
            if b == 2 and t == 2:
                audience = company_id(999)  # wrong audience: a failure deep in subtree 2
            up = [(Decimal("0.5"), below)] if below is not None else []
            below = attest(
                ds,
                cid,
                audience,
                f"urn:pact:x.example:product:b{b}t{t}",
                leaf_values(b * 10 + t),
                up,
                seal=not (b == 4 and t == 2),
            )  # subtree 4: evidence missing below
        ups.append(below)
    certified = ups[5]  # in the last share: bound in a worker process
    token = certify(
        certified.issued.sd_jwt, certified.evidence, ds.nb.key, ds.nb.chain, ds.trust, at=T0 + timedelta(hours=1)
    )
    pack = attest(ds, pack_co, OEM_ID, PACK_PRODUCT, stages("0", "12.5"), [(Decimal("1"), a) for a in ups])
    declaration = compute_declaration(DeclarationInput.model_validate(DECLARATION), pack.claims.stages.as_dict(), at=T0)
    signed = sign_declaration(declaration, pack.issued.sd_jwt, ds.oem.key, ds.oem.chain, at=T0)
    bundle = build_bundle(signed, pack.issued.sd_jwt, pack.evidence, certifications=[token]).to_json()

    sequential, parallel = _both(ds, bundle)
    assert parallel_always
    assert not sequential.valid
    checks = {f.check for f in sequential.failures}
    assert {"audience", "evidence"} <= checks, checks
    assert [c.status for c in sequential.certifications] == ["valid"]
    assert parallel.to_json() == sequential.to_json()


def test_small_bundles_and_workers_1_stay_in_process(monkeypatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(tree_walk.SubtreePool, "start", lambda ctx, items, kw: calls.append(1))
    ds = dataspace()
    bundle, _ = wide_bundle(ds, 5)
    for workers in (None, 1, 2):
        trust = TrustStore(ds.trust.anchors, ds.trust.crls, intermediates=ds.trust.intermediates)
        assert verify_bundle(
            bundle, trust, at=AT, verifier_key=ds.nb.key, verifier_cert=ds.nb.certificate, workers=workers
        ).valid
    assert calls == []  # below PARALLEL_MIN_ATTESTATIONS
    with pytest.raises(ValueError):
        verify_bundle(bundle, ds.trust, at=AT, workers=0)
