"""1. Attestation issue and verify rates (hidden claims + decoys) vs raw ES256 sign / verify of the same bytes.

Each attestation has own emissions and ``inputs`` hidden input claims (so 2 + inputs disclosures, padded with decoys
to a multiple of 16 digests). ``verify`` is the verifier's case, with every disclosure (the target's); ``verify as the
customer`` what a node does with each footprint it receives: the same token without disclosures, audience checked. The floor signs / verifies the issuer JWT's signing input with the key already loaded.
Verification is the verifier's case: the certificate chain to the anchor, the signature, the structure, and every
disclosure checked against ``_sd``. ``verify`` reuses one trust store, so after the first token the chain's path
validation is a cache hit (validity windows, role and CRLs are still checked each time): a node verifying its
partners' tokens. The cold figure (printed under the table) starts from an empty path cache and x5c cache for every token.
Each figure and its floor are timed in alternating rounds and the ratio is the median of the rounds' ratios
(:func:`bench.common.paired_rates`): on a shared box the load moves between two phases of a run.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connector.attestation import HiddenClaims, InputClaim, issue_attestation, verify_attestation
from connector.attestation import jws as jws_module
from connector.attestation.jws import _sign, decode_compact, verify_signature
from connector.identity import TrustStore

from .common import Row, paired_rates, print_table, rate
from .synth import AT, T0, claims_for, company_id, dataspace, leaf_values, stages

NAME = "attestation"


def _hidden(inputs: int) -> HiddenClaims:
    return HiddenClaims(
        own_emissions=stages("1.5", "2.25", "0.1"),
        inputs=[
            InputClaim(
                attestation_digest=f"{i:043d}",
                quantity=Decimal("0.25"),
                unit="kilogram",
                upstream=leaf_values(i),
                declared_unit="kilogram",
            )
            for i in range(inputs)
        ],
    )


def _case(ds: Any, inputs: int, n: int, rounds: int) -> list[Row]:
    issuer = ds.company(company_id(1))
    values = {s: v for s, v in stages("1.5", "2.25", "0.1").as_dict().items()}
    hidden = _hidden(inputs)
    sums = {
        s: values[s] + sum((Decimal("0.25") * i.upstream.as_dict()[s] for i in hidden.inputs), Decimal(0))
        for s in values
    }
    claims = claims_for(company_id(1), company_id(0), "urn:pact:x.example:product:p", sums)

    def issue() -> Any:
        return issue_attestation(claims, hidden, issuer.key, issuer.chain, at=T0)

    sample = issue()
    jws = decode_compact(sample.sd_jwt.split("~", 1)[0])
    digests = len(json.loads(jws.payload)["credentialSubject"]["_sd"])
    pub = issuer.certificate.public_key()
    issue_rate, sign_rate, issue_ratio = paired_rates(
        lambda: [issue() for _ in range(n)], lambda: [_sign(issuer.key, jws.signing_input) for _ in range(n)], n, rounds
    )

    def verify() -> None:
        for _ in range(n):
            verify_attestation(sample.sd_jwt, ds.trust, at=AT, audience=None, disclosures=sample.disclosures)

    def raw() -> None:
        for _ in range(n):
            verify_signature("ES256", pub, jws.signing_input, jws.signature)

    verify_rate, raw_verify, verify_ratio = paired_rates(verify, raw, n, rounds)

    def verify_as_customer() -> None:
        # What a node does with every footprint it receives: no disclosures (customers get none), audience checked
        for _ in range(n):
            verify_attestation(sample.sd_jwt, ds.trust, at=AT, audience=company_id(0))

    customer_rate, raw_customer, customer_ratio = paired_rates(verify_as_customer, raw, n, rounds)

    def verify_cold() -> None:
        # First sighting of the chain every time: empty x5c cache, fresh trust store (empty path cache)
        for _ in range(n):
            jws_module.clear_caches()
            trust = TrustStore(ds.trust.anchors, ds.trust.crls, intermediates=ds.trust.intermediates)
            verify_attestation(sample.sd_jwt, trust, at=AT, audience=None, disclosures=sample.disclosures)

    cold_rate = rate(verify_cold, n, 3)
    label = f"{inputs} hidden inputs, {len(sample.disclosures)} disclosures, {digests} digests"
    extra = {"disclosures": len(sample.disclosures), "digests": digests, "jwt_bytes": len(sample.sd_jwt)}
    return [
        Row(NAME, f"issue ({label})", issue_rate, "/s", sign_rate, "raw ES256 sign", issue_ratio, extra=extra),
        Row(
            NAME,
            f"verify ({label})",
            verify_rate,
            "/s",
            raw_verify,
            "raw ES256 verify",
            verify_ratio,
            target=">= 0.50 of floor",
            met=verify_ratio >= 0.5,
            extra={**extra, "cold_rate_per_s": cold_rate, "cold_ratio": cold_rate / raw_verify},
        ),
        Row(
            NAME,
            f"verify as the customer, no disclosures ({inputs} hidden inputs, {digests} digests)",
            customer_rate,
            "/s",
            raw_customer,
            "raw ES256 verify",
            customer_ratio,
            extra=extra,
        ),
    ]


def run(quick: bool = False) -> list[Row]:
    ds = dataspace()
    n = 100 if quick else 500
    rows: list[Row] = []
    for inputs in [3] if quick else [3, 20, 200]:
        rows += _case(ds, inputs, n, 3 if quick else 7)
    return rows


def show(rows: list[Row]) -> None:
    print_table("1. Attestation issue / verify rate vs raw ES256 on the same bytes", rows)
    for r in rows:
        if "cold_rate_per_s" in r.extra:
            print(
                f"  {r.case}, cold caches: {r.extra['cold_rate_per_s']:,.0f} /s "
                f"({r.extra['cold_ratio']:.2f} of raw verify)"
            )
