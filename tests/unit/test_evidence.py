"""Evidence packages: sealed to verifiers only, opened by each named verifier, forwarded unread (flat, by random
package id), re-sealed."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from connector.attestation import (
    EvidenceContent,
    HiddenClaims,
    InputClaim,
    MalformedEvidence,
    NotARecipient,
    RecipientRefused,
    StageValues,
    UpstreamPackage,
    attestation_digest,
    issue_attestation,
    open_evidence,
    recipients_of,
    reseal_evidence,
    seal_evidence,
    seal_evidence_tree,
    verify_attestation,
)
from connector.errors import InvalidSignature
from connector.identity import TrustStore, certificate_thumbprint
from connector.stages import STAGES
from tests.pki import (
    CUSTOMER_ID,
    OEM_ID,
    SECRET_OWN,
    SUPPLIER_ID,
    T0,
    VERIFIER2_ID,
    VERIFIER_ID,
    make_claims,
    make_hidden,
    make_pki,
    stages,
)


@pytest.fixture
def world():
    pki = make_pki()
    return {
        "pki": pki,
        "trust": pki.trust(),
        "supplier": pki.company(SUPPLIER_ID, "supplier"),
        "customer": pki.company(CUSTOMER_ID, "supplier"),
        "oem": pki.company(OEM_ID, "oem"),
        "nb": pki.company(VERIFIER_ID, "verifier"),
        "nb2": pki.company(VERIFIER2_ID, "verifier"),
    }


def _content(w) -> EvidenceContent:
    s = w["supplier"]
    issued = issue_attestation(make_claims(), make_hidden(), s.key, s.chain, at=T0)
    return EvidenceContent(attestation=issued.sd_jwt, disclosures=issued.disclosures)


def test_seal_and_open_by_each_verifier(world) -> None:
    content = _content(world)
    package = seal_evidence(content, [world["nb"].chain, world["nb2"].chain], world["trust"], T0)
    assert len(package["recipients"]) == 2
    assert all(r["header"]["alg"] == "ECDH-ES+A256KW" for r in package["recipients"])
    assert recipients_of(package) == [VERIFIER_ID, VERIFIER2_ID]
    for who in ("nb", "nb2"):
        opened = open_evidence(package, world[who].key, world[who].certificate)
        assert opened == content
        v = verify_attestation(opened.attestation, world["trust"], at=T0, audience=None, disclosures=opened.disclosures)
        assert v.hidden == make_hidden()


def test_bare_certificate_with_known_intermediate(world) -> None:
    pki = world["pki"]
    trust = TrustStore([pki.root.certificate], intermediates=[pki.inter.certificate])
    package = seal_evidence(_content(world), [world["nb"].certificate], trust, T0)
    assert open_evidence(package, world["nb"].key, world["nb"].certificate).attestation


def test_package_reveals_nothing_in_clear(world) -> None:
    package = seal_evidence(_content(world), [world["nb"].chain], world["trust"], T0)
    text = json.dumps(package)
    assert all(secret not in text for secret in SECRET_OWN)
    assert "ownEmissions" not in text


@pytest.mark.parametrize("who", ["supplier", "oem"])
def test_only_verifiers_may_be_recipients(world, who) -> None:
    with pytest.raises(RecipientRefused) as err:
        seal_evidence(_content(world), [world["nb"].chain, world[who].chain], world["trust"], T0)
    assert "role is" in err.value.detail and "expected verifier" in err.value.detail


def test_recipient_from_another_ca_refused(world) -> None:
    stranger = make_pki("Other").company(VERIFIER_ID, "verifier")
    with pytest.raises(RecipientRefused):
        seal_evidence(_content(world), [stranger.chain], world["trust"], T0)


def test_revoked_recipient_refused(world) -> None:
    crl = world["pki"].crl((world["nb"], T0 - timedelta(days=1)))
    with pytest.raises(RecipientRefused) as err:
        seal_evidence(_content(world), [world["nb"].chain], world["pki"].trust(crls=[crl]), T0)
    assert "revoked" in err.value.detail


def test_no_recipients_refused(world) -> None:
    with pytest.raises(RecipientRefused):
        seal_evidence(_content(world), [], world["trust"], T0)


def test_sealed_to_someone_else(world) -> None:
    package = seal_evidence(_content(world), [world["nb"].chain], world["trust"], T0)
    with pytest.raises(NotARecipient):
        open_evidence(package, world["nb2"].key, world["nb2"].certificate)
    # claiming to be the recipient with another key does not help either
    with pytest.raises(NotARecipient):
        open_evidence(package, world["nb2"].key, world["nb"].certificate)


def test_relabelled_recipient_cannot_decrypt(world) -> None:
    package = seal_evidence(_content(world), [world["nb"].chain], world["trust"], T0)
    package["recipients"][0]["header"]["x5t#S256"] = certificate_thumbprint(world["nb2"].certificate)
    with pytest.raises(NotARecipient):
        open_evidence(package, world["nb2"].key, world["nb2"].certificate)


def test_tampered_ciphertext(world) -> None:
    package = seal_evidence(_content(world), [world["nb"].chain], world["trust"], T0)
    ct = package["ciphertext"]
    package["ciphertext"] = ("A" if ct[0] != "A" else "B") + ct[1:]
    with pytest.raises(InvalidSignature):
        open_evidence(package, world["nb"].key, world["nb"].certificate)


def test_malformed_package(world) -> None:
    with pytest.raises(InvalidSignature):
        open_evidence({"protected": "x"}, world["nb"].key, world["nb"].certificate)


def test_packages_forwarded_unread_side_by_side_and_resealed(world) -> None:
    # tier 2 (supplier) seals to nb; tier 1 (customer) attests using it, forwards its package unchanged, adds its own
    upstream = _content(world)
    up_evidence = seal_evidence_tree(
        upstream.attestation, upstream.disclosures, [], [world["nb"].chain], world["trust"], T0
    )
    c = world["customer"]
    issued = issue_attestation(make_claims(issuer=CUSTOMER_ID, audience=OEM_ID), make_hidden(), c.key, c.chain, at=T0)
    evidence = seal_evidence_tree(
        issued.sd_jwt,
        issued.disclosures,
        [(upstream.attestation, up_evidence)],
        [world["nb"].chain],
        world["trust"],
        T0,
    )

    assert evidence["packages"][up_evidence["package"]] == up_evidence["packages"][up_evidence["package"]]
    assert len(evidence["packages"]) == 2 and evidence["package"] != up_evidence["package"]
    opened = open_evidence(evidence["packages"][evidence["package"]], world["nb"].key, world["nb"].certificate)
    assert opened.upstream == [UpstreamPackage(attestation=upstream.attestation, package=up_evidence["package"])]
    assert (
        open_evidence(evidence["packages"][up_evidence["package"]], world["nb"].key, world["nb"].certificate)
        == upstream
    )

    # nb re-seals the whole tree for nb2, same ids
    resealed = reseal_evidence(
        evidence, world["nb"].key, world["nb"].certificate, [world["nb2"].chain], world["trust"], T0
    )
    assert resealed["package"] == evidence["package"] and sorted(resealed["packages"]) == sorted(evidence["packages"])
    top = open_evidence(resealed["packages"][resealed["package"]], world["nb2"].key, world["nb2"].certificate)
    assert top.attestation == issued.sd_jwt
    assert (
        open_evidence(resealed["packages"][up_evidence["package"]], world["nb2"].key, world["nb2"].certificate)
        == upstream
    )
    with pytest.raises(NotARecipient):
        open_evidence(resealed["packages"][resealed["package"]], world["nb"].key, world["nb"].certificate)
    only_top = reseal_evidence(
        evidence, world["nb"].key, world["nb"].certificate, [world["nb2"].chain], world["trust"], T0, recursive=False
    )
    assert only_top["packages"][up_evidence["package"]] == evidence["packages"][up_evidence["package"]]


def test_package_ids_are_random_not_digests(world) -> None:
    content = _content(world)
    a = seal_evidence_tree(content.attestation, content.disclosures, [], [world["nb"].chain], world["trust"], T0)
    b = seal_evidence_tree(content.attestation, content.disclosures, [], [world["nb"].chain], world["trust"], T0)
    assert a["package"] != b["package"]  # the same content sealed twice: unlinkable ids
    assert len(a["package"]) == 22 and a["package"] not in (attestation_digest(content.attestation),)
    assert a["package"] not in json.dumps(a["packages"][a["package"]])


def test_conflicting_package_ids_are_refused(world) -> None:
    content = _content(world)
    a = seal_evidence_tree(content.attestation, content.disclosures, [], [world["nb"].chain], world["trust"], T0)
    b = seal_evidence_tree(content.attestation, content.disclosures, [], [world["nb"].chain], world["trust"], T0)
    clash = {"package": a["package"], "packages": {a["package"]: b["packages"][b["package"]]}}
    with pytest.raises(MalformedEvidence, match="two different packages"):
        seal_evidence_tree(
            content.attestation,
            content.disclosures,
            [(content.attestation, a), (content.attestation, clash)],
            [world["nb"].chain],
            world["trust"],
            T0,
        )
    with pytest.raises(MalformedEvidence, match="v2 evidence set"):  # a bare JWE: the v1 shape
        seal_evidence_tree(
            content.attestation,
            content.disclosures,
            [(content.attestation, a["packages"][a["package"]])],
            [world["nb"].chain],
            world["trust"],
            T0,
        )
    with pytest.raises(MalformedEvidence, match="not in its packages"):
        seal_evidence_tree(
            content.attestation,
            content.disclosures,
            [(content.attestation, {"package": b["package"], "packages": a["packages"]})],
            [world["nb"].chain],
            world["trust"],
            T0,
        )


def test_reseal_refuses_non_verifier(world) -> None:
    content = _content(world)
    package = seal_evidence_tree(content.attestation, content.disclosures, [], [world["nb"].chain], world["trust"], T0)
    with pytest.raises(RecipientRefused):
        reseal_evidence(package, world["nb"].key, world["nb"].certificate, [world["oem"].chain], world["trust"], T0)


def test_two_tier_binding_and_arithmetic_checkable_by_verifier(world) -> None:
    """What the verifier does with an opened package: the digests bind, and the sums add up."""
    s, c, nb = world["supplier"], world["customer"], world["nb"]
    up = issue_attestation(make_claims(), make_hidden(), s.key, s.chain, at=T0)  # supplier -> customer
    up_evidence = seal_evidence_tree(up.sd_jwt, up.disclosures, [], [nb.chain], world["trust"], T0)
    received = verify_attestation(up.sd_jwt, world["trust"], at=T0, audience=CUSTOMER_ID)
    own = stages("1", "2", "0", "0")
    qty = Decimal("0.5")
    totals = {st: own.as_dict()[st] + qty * received.claims.stages.as_dict()[st] for st in STAGES}
    hidden = HiddenClaims(
        own_emissions=own,
        inputs=[
            InputClaim(
                attestation_digest=attestation_digest(up.sd_jwt),
                quantity=qty,
                unit="kilogram",
                upstream=received.claims.stages,
                declared_unit=received.claims.declared_unit,
            )
        ],
    )
    claims = make_claims(
        issuer=CUSTOMER_ID, audience=OEM_ID, stages=StageValues.from_mapping(totals), total=sum(totals.values())
    )
    mine = issue_attestation(claims, hidden, c.key, c.chain, at=T0)
    evidence = seal_evidence_tree(
        mine.sd_jwt, mine.disclosures, [(up.sd_jwt, up_evidence)], [nb.chain], world["trust"], T0
    )
    package = evidence["packages"][evidence["package"]]

    # --- the verifier's side
    opened = open_evidence(package, nb.key, nb.certificate)
    top = verify_attestation(opened.attestation, world["trust"], at=T0, audience=None, disclosures=opened.disclosures)
    assert top.hidden is not None and top.claims.total == Decimal("12.39655")
    by_digest = {attestation_digest(u.attestation): u for u in opened.upstream}
    for item in top.hidden.inputs:
        upstream = by_digest[item.attestation_digest]
        # audience binding: the upstream attestation was issued to the company that used it
        up_verified = verify_attestation(upstream.attestation, world["trust"], at=T0, audience=top.issuer.company_id)
        assert up_verified.claims.stages == item.upstream
    recomputed = {
        st: top.hidden.own_emissions.as_dict()[st]
        + sum(i.quantity * i.upstream.as_dict()[st] for i in top.hidden.inputs)
        for st in STAGES
    }
    assert StageValues.from_mapping(recomputed) == top.claims.stages
