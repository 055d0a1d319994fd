"""Synthetic attestations, evidence trees and bundles (throwaway PKI from tests/pki.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from connector.aggregation.engine import combine_stages
from connector.attestation import (
    AttestationClaims,
    DataQuality,
    HiddenClaims,
    InputClaim,
    IssuedAttestation,
    Methodology,
    ReferencePeriod,
    StageValues,
    issue_attestation,
    seal_evidence_tree,
)
from connector.decimals import RoundingRule
from connector.declaration import DeclarationInput, compute_declaration
from connector.declaration.signing import build_bundle, sign_declaration
from connector.identity import Issued, TrustStore
from connector.stages import STAGES, Stage
from tests.pki import T0, Pki, make_pki

ROUNDING = "decimal-places:12;half-even"
AT = T0 + timedelta(days=1)
OEM_ID = "urn:pact:oem.example:company:oem"
NB_ID = "urn:pact:nb.example:company:notified-body-0042"
PACK_PRODUCT = "urn:pact:pack.example:product:pack"
DECLARATION = {
    "issuerCompanyId": OEM_ID,
    "manufacturer": {"name": "Bench Motors", "address": "1 Bench Street", "companyId": OEM_ID},
    "batteryModel": "BENCH-75",
    "batteryCategory": "electric_vehicle",
    "vehicleCategory": "M1",
    "plant": {"name": "Bench plant", "country": "JP"},
    "packProductId": PACK_PRODUCT,
    "usableEnergyKwh": "75",
    "cyclesPerYear": "60",
    "serviceLifeYears": "8",
    "declarationOfConformityId": "BENCH-DoC-1",
    "studyUrl": "https://bench.example/study.pdf",
}


def company_id(i: int) -> str:
    return f"urn:pact:c{i}.example:company:c{i}"


@dataclass
class Dataspace:
    pki: Pki
    trust: TrustStore
    nb: Issued
    oem: Issued
    companies: dict[str, Issued] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)
    """Every attestation issued (sd-jwt), for the raw-signature floor."""

    def company(self, cid: str) -> Issued:
        if cid not in self.companies:
            self.companies[cid] = self.pki.company(cid, "supplier", name=cid.rsplit(":", 1)[-1])
        return self.companies[cid]


def dataspace() -> Dataspace:
    pki = make_pki("Bench")
    return Dataspace(
        pki=pki,
        trust=pki.trust(),
        nb=pki.company(NB_ID, "verifier", name="Bench NB"),
        oem=pki.company(OEM_ID, "oem", name="Bench Motors"),
    )


def stages(*values: str) -> StageValues:
    v = [Decimal(x) for x in values] + [Decimal(0)] * (4 - len(values))
    return StageValues(raw_material_acquisition=v[0], main_production=v[1], distribution=v[2], end_of_life=v[3])


def claims_for(issuer: str, audience: str, product: str, values: dict[Stage, Decimal]) -> AttestationClaims:
    return AttestationClaims(
        issuer=issuer,
        audience=audience,
        footprint_id=f"urn:uuid:{uuid.uuid4()}",
        product_ids=[product],
        declared_unit="kilogram",
        stages=StageValues.from_mapping(values),
        total=sum(values.values(), Decimal(0)),
        reference_period=ReferencePeriod(
            start=T0.replace(year=2025, month=1, day=1, hour=0), end=T0.replace(month=1, day=1, hour=0)
        ),
        methodology=Methodology(rule_set="EU-2023/1542-Art7", version="2025"),
        primary_data_share=Decimal("80"),
        data_quality=DataQuality(technological=Decimal(2), geographical=Decimal(2), temporal=Decimal(2)),
        rounding=ROUNDING,
    )


@dataclass
class Attested:
    issued: IssuedAttestation
    claims: AttestationClaims
    evidence: dict[str, Any] | None


def attest(
    ds: Dataspace,
    issuer: str,
    audience: str,
    product: str,
    own: StageValues,
    upstream: list[tuple[Decimal, Attested]],
    *,
    seal: bool = True,
) -> Attested:
    """Issue one attestation over ``own`` + sum(quantity x upstream) and seal its evidence to the notified body."""
    inputs = [
        InputClaim(
            attestation_digest=a.issued.digest,
            quantity=q,
            unit="kilogram",
            upstream=a.claims.stages,
            declared_unit="kilogram",
        )
        for q, a in upstream
    ]
    values = combine_stages(
        own.as_dict(), [(q, a.claims.stages.as_dict()) for q, a in upstream], RoundingRule.parse(ROUNDING)
    )
    claims = claims_for(issuer, audience, product, values)
    signer = ds.company(issuer) if issuer != OEM_ID else ds.oem
    issued = issue_attestation(claims, HiddenClaims(own_emissions=own, inputs=inputs), signer.key, signer.chain, at=T0)
    ds.issued.append(issued.sd_jwt)
    evidence = None
    if seal:  # flat evidence (v2): the upstream packages forwarded unchanged, ours added
        evidence = seal_evidence_tree(
            issued.sd_jwt,
            issued.disclosures,
            [(a.issued.sd_jwt, a.evidence) for _, a in upstream],
            [ds.nb.chain],
            ds.trust,
            T0,
        )
    return Attested(issued, claims, evidence)


def leaf_values(i: int) -> StageValues:
    return stages(f"{1 + i % 7}.{i % 1000:03d}", f"0.{(i * 37) % 1000:03d}", "0.01")


def wide_bundle(ds: Dataspace, n: int, *, suppliers: int = 50) -> tuple[Any, int]:
    """A pack maker with ``n - 1`` direct inputs, issued by ``suppliers`` distinct companies (depth 2)."""
    pack_co = company_id(0)
    leaves = [
        attest(ds, company_id(1 + i % suppliers), pack_co, f"urn:pact:x.example:product:p{i}", leaf_values(i), [])
        for i in range(n - 1)
    ]
    pack = attest(ds, pack_co, OEM_ID, PACK_PRODUCT, stages("0", "12.5"), [(Decimal("0.001"), a) for a in leaves])
    return _bundle(ds, pack), n


def deep_bundle(ds: Dataspace, n: int, *, depth: int = 8) -> tuple[Any, int]:
    """A pack maker with k inputs, each the top of a linear chain of ``depth - 1`` tiers: 1 + k(depth-1) >= n."""
    pack_co = company_id(0)
    per = depth - 1
    k = max(1, -(-(n - 1) // per))
    tops = []
    serial = 0
    for b in range(k):
        below: Attested | None = None
        for t in range(per, 0, -1):  # deepest tier first; companies are per tier and branch
            cid = company_id(1000 + t * 100 + b % 100)
            audience = company_id(1000 + (t - 1) * 100 + b % 100) if t > 1 else pack_co
            up = [(Decimal("0.5"), below)] if below is not None else []
            below = attest(ds, cid, audience, f"urn:pact:x.example:product:b{b}t{t}", leaf_values(serial), up)
            serial += 1
        assert below is not None
        tops.append(below)
    pack = attest(ds, pack_co, OEM_ID, PACK_PRODUCT, stages("0", "12.5"), [(Decimal("1"), a) for a in tops])
    return _bundle(ds, pack), 1 + k * per


def _bundle(ds: Dataspace, pack: Attested) -> Any:
    inp = DeclarationInput.model_validate(DECLARATION)
    declaration = compute_declaration(inp, pack.claims.stages.as_dict(), at=T0)
    token = sign_declaration(declaration, pack.issued.sd_jwt, ds.oem.key, ds.oem.chain, at=T0)
    return build_bundle(token, pack.issued.sd_jwt, pack.evidence)


__all__ = ["AT", "STAGES", "Dataspace", "dataspace", "deep_bundle", "wide_bundle"]
