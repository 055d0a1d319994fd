"""CA tooling and the trust store: chains, roles, revocation at a time, other CAs."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest
from cryptography import x509

from connector.errors import TrustError
from connector.identity import (
    ROLE_OID,
    Revocation,
    Role,
    TrustStore,
    build_crl,
    company_id_of,
    issue_tls_certificate,
    role_of,
    x5c_decode,
    x5c_encode,
)
from connector.identity.ca import CRL_VALIDITY, decode_utf8_string, encode_utf8_string
from connector.identity.files import (
    load_authority,
    read_certificates,
    read_private_key,
    save_authority,
    save_issued,
)
from connector.identity.keys import same_public_key
from connector.identity.trust import crl_covers
from tests.pki import OEM_ID, SUPPLIER_ID, T0, VERIFIER_ID, make_pki


def test_company_certificate_content() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier", name="Andes Lithium Refining S.A.")
    cert = issued.certificate
    assert company_id_of(cert) == SUPPLIER_ID
    assert role_of(cert) is Role.SUPPLIER
    ext = cert.extensions.get_extension_for_oid(ROLE_OID)
    assert not ext.critical
    assert ext.value.value == b"\x0c\x08supplier"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_agreement and not usage.key_cert_sign
    org_id = cert.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_IDENTIFIER)[0].value
    assert org_id == SUPPLIER_ID
    assert issued.chain == (cert, pki.inter.certificate)


def test_utf8string_der_roundtrip_long() -> None:
    text = "x" * 300
    assert decode_utf8_string(encode_utf8_string(text)) == text
    with pytest.raises(ValueError):
        decode_utf8_string(b"\x13\x03abc")  # PrintableString, not UTF8String


def test_validate_returns_identity() -> None:
    pki = make_pki()
    issued = pki.company(OEM_ID, "oem", name="OEM AG")
    who = pki.trust().validate(list(issued.chain), at=T0, role="oem")
    assert (who.company_id, who.name, who.role) == (OEM_ID, "OEM AG", Role.OEM)
    assert who.chain[-1] == pki.root.certificate


def test_trailing_root_in_chain_is_tolerated() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    assert pki.trust().validate([*issued.chain, pki.root.certificate], at=T0).company_id == SUPPLIER_ID


def test_known_intermediates_complete_a_bare_leaf() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    with pytest.raises(TrustError):
        pki.trust().validate([issued.certificate], at=T0)
    store = TrustStore([pki.root.certificate], intermediates=[pki.inter.certificate])
    assert store.validate([issued.certificate], at=T0).company_id == SUPPLIER_ID


@pytest.mark.parametrize("allowed", ["verifier", ["oem", "verifier"], Role.VERIFIER])
def test_wrong_role_refused(allowed: object) -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    with pytest.raises(TrustError) as err:
        pki.trust().validate(list(issued.chain), at=T0, role=allowed)  # type: ignore[arg-type]
    assert "role is supplier" in err.value.reason


def test_role_collection_allows_any() -> None:
    pki = make_pki()
    issued = pki.company(OEM_ID, "oem")
    assert pki.trust().validate(list(issued.chain), at=T0, role=("supplier", "oem")).role is Role.OEM


def test_expired_and_not_yet_valid_refused() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier", validity=timedelta(days=30))
    with pytest.raises(TrustError) as err:
        pki.trust().validate(list(issued.chain), at=T0 + timedelta(days=31))
    assert "not valid at validation time" in err.value.reason
    with pytest.raises(TrustError):
        pki.trust().validate(list(issued.chain), at=T0 - timedelta(days=1))


def test_other_ca_refused() -> None:
    ours, theirs = make_pki("Ours"), make_pki("Theirs")
    issued = theirs.company(SUPPLIER_ID, "supplier")
    with pytest.raises(TrustError) as err:
        ours.trust().validate(list(issued.chain), at=T0)
    assert "certificate chain" in err.value.reason


def test_tls_certificate_is_not_a_company_certificate() -> None:
    pki = make_pki()
    tls = issue_tls_certificate(pki.inter, ["node.example", "127.0.0.1"], at=T0)
    san = tls.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["node.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    with pytest.raises(TrustError):
        pki.trust().validate(list(tls.chain), at=T0)


def test_revoked_before_at_refused_after_at_fine() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    revoked_at = T0 + timedelta(days=10)
    crl = pki.crl((issued, revoked_at), at=T0 + timedelta(days=11))
    store = pki.trust(crls=[crl])
    store.validate(list(issued.chain), at=T0 + timedelta(days=9))  # signed before the revocation
    with pytest.raises(TrustError) as err:
        store.validate(list(issued.chain), at=revoked_at)
    assert "revoked" in err.value.reason
    with pytest.raises(TrustError):
        store.validate(list(issued.chain), at=T0 + timedelta(days=20))


def test_revoked_intermediate_refused() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    root_crl = build_crl(pki.root, [Revocation(pki.inter.certificate.serial_number, T0)], at=T0)
    with pytest.raises(TrustError) as err:
        pki.trust(crls=[root_crl]).validate(list(issued.chain), at=T0 + timedelta(hours=1))
    assert "revoked" in err.value.reason


def test_crl_not_signed_by_issuer_refused() -> None:
    pki, other = make_pki(), make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    # Same issuer name (other PKI uses the same names) but signed by another key.
    forged = build_crl(other.inter, [], at=T0)
    assert forged.issuer == pki.inter.certificate.subject
    with pytest.raises(TrustError) as err:
        pki.trust(crls=[forged]).validate(list(issued.chain), at=T0)
    assert "not signed" in err.value.reason


def test_require_crl() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    with pytest.raises(TrustError) as err:
        TrustStore([pki.root.certificate], require_crl=True).validate(list(issued.chain), at=T0)
    assert "no CRL" in err.value.reason
    crls = [pki.crl(), build_crl(pki.root, [], at=T0)]
    TrustStore([pki.root.certificate], crls, require_crl=True).validate(list(issued.chain), at=T0)


def test_require_crl_needs_one_current_at_the_time_checked() -> None:
    """A CRL whose nextUpdate passed before the signing time cannot say the certificate was not revoked since: with
    require_crl that is a failure; a CRL issued after the signing time covers it."""
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    chain = list(issued.chain)
    week_old = [pki.crl(at=T0), build_crl(pki.root, [], at=T0)]  # valid CRL_VALIDITY (7 days) from T0
    strict = TrustStore([pki.root.certificate], week_old, require_crl=True)
    strict.validate(chain, at=T0 + timedelta(days=6))
    stale_at = T0 + CRL_VALIDITY + timedelta(days=1)
    with pytest.raises(TrustError) as err:
        strict.validate(chain, at=stale_at)
    assert "current at" in err.value.reason and "runs until" in err.value.reason
    later = [pki.crl(at=T0 + timedelta(days=30)), build_crl(pki.root, [], at=T0 + timedelta(days=30))]
    TrustStore([pki.root.certificate], later, require_crl=True).validate(chain, at=stale_at)
    # one current CRL per issuer is enough, whatever older ones sit beside it
    TrustStore([pki.root.certificate], [*week_old, *later], require_crl=True).validate(chain, at=stale_at)
    # without require_crl a stale CRL is "no revocation known", as a missing one
    TrustStore([pki.root.certificate], week_old).validate(chain, at=stale_at)


def test_a_stale_crl_still_proves_a_revocation() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    revoked = [pki.crl((issued, T0 + timedelta(hours=1)), at=T0 + timedelta(hours=2)), build_crl(pki.root, [], at=T0)]
    for strict in (False, True):
        with pytest.raises(TrustError) as err:
            TrustStore([pki.root.certificate], revoked, require_crl=strict).validate(
                list(issued.chain), at=T0 + timedelta(days=30)
            )
        assert "revoked" in err.value.reason


def test_crl_covers() -> None:
    pki = make_pki()
    crl = pki.crl(at=T0)
    assert crl_covers(crl, T0 - timedelta(days=365))  # issued after: it lists every revocation up to T0
    assert crl_covers(crl, T0 + CRL_VALIDITY)
    assert not crl_covers(crl, T0 + CRL_VALIDITY + timedelta(seconds=1))


def test_naive_time_refused() -> None:
    pki = make_pki()
    issued = pki.company(SUPPLIER_ID, "supplier")
    with pytest.raises(TrustError):
        pki.trust().validate(list(issued.chain), at=T0.replace(tzinfo=None))


def test_x5c_roundtrip() -> None:
    pki = make_pki()
    issued = pki.company(VERIFIER_ID, "verifier")
    assert x5c_decode(x5c_encode(issued.chain)) == list(issued.chain)


def test_files_roundtrip_and_key_mode(tmp_path) -> None:
    pki = make_pki()
    save_authority(tmp_path, pki.root, pki.inter)
    root, inter = load_authority(tmp_path)
    assert root.certificate == pki.root.certificate and inter.certificate == pki.inter.certificate
    assert stat.S_IMODE((tmp_path / "root.key").stat().st_mode) == 0o600
    issued = pki.company(SUPPLIER_ID, "supplier")
    paths = save_issued(tmp_path / "issued", "andes", issued)
    assert stat.S_IMODE(paths["key"].stat().st_mode) == 0o600
    assert same_public_key(read_private_key(paths["key"]), issued.certificate)
    assert read_certificates(paths["chain"]) == list(issued.chain)


def test_load_trust_store_from_files(tmp_path) -> None:
    from connector.identity.files import load_trust_store, write_crl

    pki = make_pki()
    save_authority(tmp_path, pki.root, pki.inter)
    issued = pki.company(SUPPLIER_ID, "supplier")
    crl_path = write_crl(tmp_path / "crl.pem", pki.crl((issued, T0 - timedelta(days=1))))
    store = load_trust_store(tmp_path / "root.pem", [crl_path], intermediates=[tmp_path / "intermediate.pem"])
    with pytest.raises(TrustError):
        store.validate([issued.certificate], at=T0)
    assert load_trust_store([tmp_path / "root.pem"]).validate(list(issued.chain), at=T0).company_id == SUPPLIER_ID
