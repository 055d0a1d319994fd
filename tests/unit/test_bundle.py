"""The declaration credential and the evidence bundle; also the chain factory the verification tests use.

``make_world`` builds the NMC811 fixture chain purely with the attestation functions: every supplier product is
attested to the company that uses it, each evidence package sealed to the notified body with its upstream
attestations and the ids of their (still sealed) packages inside, the packages side by side (flat, bundle v2); the
OEM declares and bundles.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from connector.aggregation.engine import combine_stages
from connector.attestation import (
    AttestationClaims,
    DataQuality,
    Evidence,
    EvidenceContent,
    HiddenClaims,
    InputClaim,
    IssuedAttestation,
    Methodology,
    ReferencePeriod,
    StageValues,
    attestation_digest,
    issue_attestation,
    open_evidence,
    seal_evidence,
    seal_evidence_tree,
)
from connector.decimals import RoundingRule
from connector.declaration import DeclarationInput, compute_declaration
from connector.declaration.models import Declaration
from connector.declaration.signing import (
    DECLARATION_TYP,
    EvidenceBundle,
    build_bundle,
    sign_declaration,
    verify_declaration,
)
from connector.demo.chains import DEFAULT_CHAIN
from connector.errors import InvalidSignature, ValidationFailed
from connector.identity import Issued, Revocation, build_crl
from connector.identity.keys import b64url_decode
from connector.stages import STAGES, Stage
from connector.units import convert
from tests.pki import T0, VERIFIER2_ID, VERIFIER_ID, Pki, make_pki

FIXTURE = DEFAULT_CHAIN
AT = T0 + timedelta(days=1)
"""When the verifier checks the bundle."""
ROUNDING = "decimal-places:12;half-even"

LIOH = "urn:pact:andes-lithium.example:product:lioh-h2o-bg"
PCAM = "urn:pact:kansai-precursor.example:product:pcam-nmc811"
CAM = "urn:pact:hokuriku-cathode.example:product:cam-nmc811"
CELL = "urn:pact:setouchi-cell.example:product:cell-p100ah"
PACK = "urn:pact:kyushu-pack.example:product:pack-75kwh"
ANDES = "urn:pact:andes-lithium.example:company:andes-lithium"
HOKURIKU = "urn:pact:hokuriku-cathode.example:company:hokuriku-cathode"
SETOUCHI = "urn:pact:setouchi-cell.example:company:setouchi-cell"
KYUSHU = "urn:pact:kyushu-pack.example:company:kyushu-pack"
OEM = "urn:pact:nippon-motors.example:company:nippon-motors"
ATTESTED = frozenset({LIOH, CAM, CELL, PACK})
"""The 4-tier chain LiOH refiner -> CAM -> cell -> pack -> OEM; pCAM, nickel and graphite enter as secondary data."""


def load_fixture() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@dataclass
class Parties:
    """The dataspace: one certificate per company of the fixture, the OEM, two notified bodies."""

    pki: Pki
    companies: dict[str, Issued]
    oem: Issued
    nb: Issued
    nb2: Issued

    @property
    def trust(self):
        return self.pki.trust()


def make_parties(fixture: dict) -> Parties:
    pki = make_pki("Dataspace")
    companies = {c["companyId"]: pki.company(c["companyId"], "supplier", name=c["name"]) for c in fixture["companies"]}
    oem = pki.company(OEM, "oem", name="Nippon Motors Corporation")
    nb = pki.company(VERIFIER_ID, "verifier", name="Example Notified Body 0042")
    nb2 = pki.company(VERIFIER2_ID, "verifier", name="Other Notified Body 0099")
    return Parties(pki=pki, companies=companies, oem=oem, nb=nb, nb2=nb2)


@dataclass
class Tier:
    product_id: str
    company: str
    claims: AttestationClaims
    hidden: HiddenClaims
    issued: IssuedAttestation
    evidence: dict[str, Any] | None


Hook = Callable[[AttestationClaims, HiddenClaims], tuple[AttestationClaims, HiddenClaims]]


@dataclass
class World:
    parties: Parties
    fixture: dict
    tiers: dict[str, Tier]
    declaration: Declaration
    token: str
    bundle: EvidenceBundle
    certifications: list[str] = field(default_factory=list)

    @property
    def trust(self):
        return self.parties.trust

    def pack(self) -> Tier:
        return self.tiers[PACK]


def _products(fixture: dict) -> dict[str, tuple[str, dict]]:
    return {p["productId"]: (c["companyId"], p) for c in fixture["companies"] for p in c["products"]}


def _order(products: dict[str, tuple[str, dict]]) -> list[str]:
    done: list[str] = []

    def visit(pid: str) -> None:
        if pid in done:
            return
        for line in products[pid][1]["bom"]:
            if "supplierProductId" in line:
                visit(line["supplierProductId"])
        done.append(pid)

    for pid in products:
        visit(pid)
    return done


def make_world(
    parties: Parties,
    fixture: dict,
    *,
    hooks: dict[str, Hook] | None = None,
    signers: dict[str, Issued] | None = None,
    audiences: dict[str, str] | None = None,
    seal_to: dict[str, list[Issued]] | None = None,
    no_evidence: frozenset[str] = frozenset(),
    crls: list | None = None,
    certifications: list[str] | None = None,
    declaration_signer: Issued | None = None,
    attested: frozenset[str] | None = ATTESTED,
) -> World:
    """The honest chain, unless a keyword says otherwise (per product id): ``hooks`` change claims/hidden after the
    honest computation and before signing, ``signers`` sign with another certificate, ``audiences`` issue to another
    company, ``seal_to`` seal to other verifiers, ``no_evidence`` forward no evidence package. Products outside
    ``attested`` (None: all) are not attested: their footprint is folded into the user's own emissions, exactly as
    a secondary-data line, so the fixture's values stay the same."""
    hooks, signers, audiences, seal_to = hooks or {}, signers or {}, audiences or {}, seal_to or {}
    products = _products(fixture)
    users = {
        line["supplierProductId"]: products[pid][0]
        for pid, (_, p) in products.items()
        for line in p["bom"]
        if "supplierProductId" in line
    }
    users[fixture["declaration"]["packProductId"]] = OEM
    tiers: dict[str, Tier] = {}
    folded: dict[str, dict[Stage, Decimal]] = {}
    for pid in _order(products):
        company, product = products[pid]
        own = {s: Decimal(0) for s in STAGES}
        for stage, value in product["ownEmissions"].items():
            own[Stage(stage)] += Decimal(value)
        inputs: list[InputClaim] = []
        for line in product["bom"]:
            if line.get("supplierProductId") in folded:
                q = convert(
                    Decimal(line["quantity"]), line["unit"], products[line["supplierProductId"]][1]["declaredUnit"]
                )
                for s, v in folded[line["supplierProductId"]].items():
                    own[s] += q * v
            elif "supplierProductId" in line:
                up = tiers[line["supplierProductId"]]
                inputs.append(
                    InputClaim(
                        attestation_digest=up.issued.digest,
                        quantity=Decimal(line["quantity"]),
                        unit=line["unit"],
                        upstream=up.claims.stages,
                        declared_unit=up.claims.declared_unit,
                    )
                )
            else:
                own[Stage(line["stage"])] += Decimal(line["quantity"]) * Decimal(line["factor"])
        stages = combine_stages(
            own,
            [(convert(i.quantity, i.unit, i.declared_unit), i.upstream.as_dict()) for i in inputs],
            RoundingRule.parse(ROUNDING),
        )
        if attested is not None and pid not in attested:
            folded[pid] = stages
            continue
        claims = AttestationClaims(
            issuer=company,
            audience=audiences.get(pid, users[pid]),
            footprint_id=f"urn:uuid:{_uuid(pid)}",
            product_ids=[pid],
            declared_unit=product["declaredUnit"],
            stages=StageValues.from_mapping(stages),
            total=sum(stages.values(), Decimal(0)),
            reference_period=ReferencePeriod(
                start=T0.replace(year=2025, month=1, day=1, hour=0), end=T0.replace(month=1, day=1, hour=0)
            ),
            methodology=Methodology(rule_set="EU-2023/1542-Art7", version="2025"),
            primary_data_share=Decimal(product.get("primaryDataShare", "100")),
            data_quality=DataQuality(technological=Decimal(1), geographical=Decimal(1), temporal=Decimal(1)),
            rounding=ROUNDING,
        )
        hidden = HiddenClaims(own_emissions=StageValues.from_mapping(own), inputs=inputs)
        if pid in hooks:
            claims, hidden = hooks[pid](claims, hidden)
        signer = signers.get(pid, parties.companies[company])
        issued = issue_attestation(claims, hidden, signer.key, signer.chain, at=T0)
        evidence = None
        if pid not in no_evidence:
            upstream = [
                (tiers[line["supplierProductId"]].issued.sd_jwt, tiers[line["supplierProductId"]].evidence)
                for line in product["bom"]
                if line.get("supplierProductId") in tiers
            ]
            evidence = seal_evidence_tree(
                issued.sd_jwt,
                issued.disclosures,
                upstream,
                [v.chain for v in seal_to.get(pid, [parties.nb])],
                parties.trust,
                T0,
            )
        tiers[pid] = Tier(pid, company, claims, hidden, issued, evidence)

    pack = tiers[fixture["declaration"]["packProductId"]]
    inp = DeclarationInput.model_validate(fixture["declaration"])
    declaration = compute_declaration(inp, pack.claims.stages.as_dict(), at=T0)
    signer = declaration_signer or parties.oem
    token = sign_declaration(declaration, pack.issued.sd_jwt, signer.key, signer.chain, at=T0)
    bundle = build_bundle(
        token, pack.issued.sd_jwt, pack.evidence, certifications=certifications or [], crls=crls or []
    )
    return World(parties, fixture, tiers, declaration, token, bundle, list(certifications or []))


def _uuid(pid: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, pid))


def issuer_of(sd_jwt: str) -> str:
    return json.loads(b64url_decode(sd_jwt.split("~")[0].split(".")[1]))["iss"]


def package_at(world: World, evidence: dict, path: list[str]) -> str:
    """The id of the package reached from ``evidence``'s own package down ``path`` (company ids), as the NB."""
    nb = world.parties.nb
    pid = evidence["package"]
    for company in path:
        content = open_evidence(evidence["packages"][pid], nb.key, nb.certificate)
        pid = next(i.package for i in content.upstream if issuer_of(i.attestation) == company and i.package)
    return pid


def edit_evidence(
    world: World,
    evidence: dict,
    path: list[str],
    edit: Callable[[EvidenceContent], EvidenceContent],
    recipients: list[Issued] | None = None,
) -> dict:
    """Open the package reached down ``path`` (company ids) from ``evidence`` as the notified body, apply ``edit``
    and re-seal that one package under the same id (flat evidence: nothing above it changes; nothing re-signed)."""
    nb = world.parties.nb
    pid = package_at(world, evidence, path)
    content = open_evidence(evidence["packages"][pid], nb.key, nb.certificate)
    sealed = seal_evidence(edit(content), [r.chain for r in (recipients or [nb])], world.trust, T0)
    return {"package": evidence["package"], "packages": {**evidence["packages"], pid: sealed}}


def with_pack_evidence(world: World, evidence: dict | None) -> EvidenceBundle:
    tree = Evidence.model_validate(evidence) if evidence is not None else None
    return world.bundle.model_copy(
        update={
            "pack": world.bundle.pack.model_copy(update={"package": tree.package if tree else None}),
            "packages": dict(tree.packages) if tree else {},
        }
    )


# --- fixtures ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_chain() -> dict:
    return load_fixture()


@pytest.fixture(scope="module")
def parties(fixture_chain) -> Parties:
    return make_parties(fixture_chain)


@pytest.fixture(scope="module")
def world(parties, fixture_chain) -> World:
    return make_world(parties, fixture_chain)


# --- tests --------------------------------------------------------------------------------------------------------------


def test_factory_reproduces_fixture_values(world, fixture_chain) -> None:
    for pid, expected in fixture_chain["expected"]["footprints"].items():
        if pid not in world.tiers:
            continue
        tier = world.tiers[pid]
        assert tier.claims.total == Decimal(expected["total"])
        for s in STAGES:
            assert tier.claims.stages.as_dict()[s] == Decimal(expected[s.value])
    assert world.declaration.carbon_footprint.value == Decimal(fixture_chain["expected"]["declaration"]["total"])


def test_declaration_credential(world) -> None:
    verified = verify_declaration(world.token, world.trust, at=AT)
    assert verified.issuer.company_id == OEM
    assert verified.declaration == world.declaration
    assert verified.pack_attestation_digest == world.pack().issued.digest
    header = json.loads(b64url_decode(world.token.split(".")[0]))
    assert header["typ"] == DECLARATION_TYP and header["alg"] == "ES256" and header["x5c"]
    payload = verified.payload
    assert payload["type"] == ["VerifiableCredential", "BatteryCarbonFootprintDeclaration"]
    assert payload["issuer"] == payload["iss"] == OEM
    assert payload["validFrom"] == "2026-03-01T12:00:00Z" and payload["jti"] == payload["id"]
    assert payload["credentialSubject"]["packAttestationDigest"] == world.pack().issued.digest
    assert payload["credentialSubject"]["carbonFootprint"]["value"] == "0.164679"


def test_sign_declaration_needs_oem_role_and_issuer(world, parties) -> None:
    supplier = parties.companies[KYUSHU]
    with pytest.raises(ValidationFailed, match="oem"):
        sign_declaration(world.declaration, world.pack().issued.sd_jwt, supplier.key, supplier.chain, at=T0)
    other = parties.pki.company("urn:pact:other-oem.example:company:other", "oem")
    with pytest.raises(ValidationFailed, match="issuerCompanyId"):
        sign_declaration(world.declaration, world.pack().issued.sd_jwt, other.key, other.chain, at=T0)


def test_verify_declaration_refuses_non_oem(world, parties) -> None:
    from connector.attestation import sign_jws_json
    from connector.declaration.signing import declaration_payload

    fake = parties.pki.company(OEM, "supplier", name="Nippon Motors (supplier cert)")
    token = sign_jws_json(
        declaration_payload(world.declaration, world.pack().issued.sd_jwt, OEM, at=T0),
        fake.key,
        fake.chain,
        DECLARATION_TYP,
    )
    with pytest.raises(InvalidSignature) as info:
        verify_declaration(token, world.trust, at=AT)
    assert "role" in info.value.reason


def test_bundle_round_trip_and_format(world, parties) -> None:
    crl = build_crl(parties.pki.inter, [Revocation(1234, T0)], at=T0)
    bundle = build_bundle(
        world.token, world.pack().issued.sd_jwt, world.pack().evidence, certifications=["a.b.c"], crls=[crl]
    )
    data = json.loads(bundle.to_json())
    assert sorted(data) == ["bundleVersion", "certifications", "crls", "declaration", "pack", "packages"]
    assert data["bundleVersion"] == "2"
    assert sorted(data["pack"]) == ["attestation", "package"]
    # flat: one package per attestation (pack, cell, CAM, LiOH), side by side, all sealed to the notified body
    assert len(data["packages"]) == 4 and data["pack"]["package"] in data["packages"]
    assert all(p["recipients"][0]["header"]["kid"] == VERIFIER_ID for p in data["packages"].values())
    assert data["crls"][0].startswith("-----BEGIN X509 CRL-----")
    assert EvidenceBundle.from_json(bundle.to_json()) == bundle
    assert bundle.crl_objects()[0].get_revoked_certificate_by_serial_number(1234) is not None


def test_bundle_without_evidence_and_bad_inputs(world) -> None:
    bundle = build_bundle(world.token, world.pack().issued.sd_jwt)
    assert json.loads(bundle.to_json())["pack"]["package"] is None and bundle.packages == {}
    with pytest.raises(ValidationFailed, match="packAttestationDigest"):
        build_bundle(world.token, world.tiers[CELL].issued.sd_jwt)
    with pytest.raises(ValidationFailed, match="CRL"):
        build_bundle(world.token, world.pack().issued.sd_jwt, crls=["not a crl"])
    with pytest.raises(ValidationFailed, match="bundleVersion"):
        EvidenceBundle.from_json({**json.loads(bundle.to_json()), "bundleVersion": "3"})
    with pytest.raises(ValidationFailed, match="bundleVersion 1 .* no longer read"):
        EvidenceBundle.from_json({**json.loads(bundle.to_json()), "bundleVersion": "1"})
    with pytest.raises(ValidationFailed, match="pack evidence"):
        build_bundle(
            world.token, world.pack().issued.sd_jwt, world.pack().evidence["packages"][world.pack().evidence["package"]]
        )  # a bare JWE (v1 shape) is not an evidence set
    with pytest.raises(ValidationFailed, match="not JSON"):
        EvidenceBundle.from_json("{")


def test_edit_evidence_helper_keeps_content(world) -> None:
    nb = world.parties.nb
    same = edit_evidence(world, world.pack().evidence, [SETOUCHI], lambda c: c)
    cell = package_at(world, same, [SETOUCHI])
    assert open_evidence(same["packages"][cell], nb.key, nb.certificate).attestation == world.tiers[CELL].issued.sd_jwt
    assert same["packages"][cell] != world.pack().evidence["packages"][cell]  # re-sealed, same id
    assert sorted(same["packages"]) == sorted(world.pack().evidence["packages"])
    assert attestation_digest(world.pack().issued.sd_jwt) == world.pack().issued.digest


def test_world_options(parties, fixture_chain) -> None:
    w = make_world(parties, fixture_chain, no_evidence=frozenset({LIOH}), attested=None)
    assert w.tiers[LIOH].evidence is None
    assert sorted(w.tiers) == sorted(_products(fixture_chain))
    assert w.pack().claims.total == Decimal(fixture_chain["expected"]["footprints"][PACK]["total"])
    assert len(w.pack().evidence["packages"]) == 6  # every attested product but LiOH (no evidence), flat
    # flat: no package is over a few KB per direct input, whatever the depth
    assert max(len(json.dumps(p)) for p in w.pack().evidence["packages"].values()) < 65536
