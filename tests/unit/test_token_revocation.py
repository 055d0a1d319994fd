"""The revocation check on every use of an access token: the token names the certificates it was issued on, and the
node's current CRLs say whether one of them is revoked by now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connector.identity import TrustStore
from connector.services import tokens
from tests.pki import make_pki

NOW = datetime.now(UTC)
PEER = "urn:pact:peer.example:company:peer"


def _caller(pki, issued) -> tokens.Caller:
    chain = [issued.certificate, pki.inter.certificate, pki.root.certificate]
    return tokens.Caller(
        PEER,
        "private_key_jwt",
        tuple(
            (issuer.subject.rfc4514_string(), cert.serial_number)
            for cert, issuer in zip(chain, chain[1:], strict=False)
        ),
    )


def test_the_token_carries_the_certificates_it_was_issued_on() -> None:
    pki = make_pki("Tok", at=NOW - timedelta(days=1))
    caller = _caller(pki, pki.company(PEER, "oem", at=NOW - timedelta(hours=1)))
    token = tokens.issue_access_token(b"k" * 32, caller, "http://n", NOW, timedelta(minutes=10))
    assert tokens.verify_access_token(b"k" * 32, token, "http://n", NOW) == caller


def test_a_listed_serial_is_revoked_from_its_revocation_date() -> None:
    pki = make_pki("Tok", at=NOW - timedelta(days=1))
    peer = pki.company(PEER, "oem", at=NOW - timedelta(hours=1))
    caller = _caller(pki, peer)
    trust = TrustStore(
        [pki.root.certificate],
        [pki.crl((peer, NOW - timedelta(minutes=5)), at=NOW)],
        intermediates=[pki.inter.certificate],
    )
    assert tokens.revoked(trust, caller, NOW - timedelta(minutes=6)) is None  # before the revocation date
    assert "revoked at" in (tokens.revoked(trust, caller, NOW) or "")
    assert tokens.revoked(trust.replace_crls([pki.crl(at=NOW)]), caller, NOW) is None  # a CRL without it
    assert tokens.revoked(None, caller, NOW) is None  # a node without trust anchors checks nothing
    assert tokens.revoked(trust, tokens.Caller(PEER, "client_secret_basic"), NOW) is None  # no certificate


def test_a_crl_not_signed_by_the_ca_it_names_refuses() -> None:
    pki = make_pki("Tok", at=NOW - timedelta(days=1))
    forger = make_pki("Tok", at=NOW - timedelta(days=1))  # the same names, other keys
    caller = _caller(pki, pki.company(PEER, "oem", at=NOW - timedelta(hours=1)))
    assert pki.inter.certificate.subject == forger.inter.certificate.subject
    trust = TrustStore([pki.root.certificate], [forger.crl(at=NOW)], intermediates=[pki.inter.certificate])
    assert "not signed" in (tokens.revoked(trust, caller, NOW) or "")  # fail closed, as validate does
