"""The direct JWE open (connector.identity.jwe): RFC 7518 Appendix C known answer, packages sealed by joserfc opened
by it, and every tampering refused the way open_evidence refused it when joserfc opened packages (NotARecipient)."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwe
from joserfc.jwk import ECKey

from connector.attestation import EvidenceContent, NotARecipient, issue_attestation, open_evidence, seal_evidence
from connector.attestation import evidence as ev
from connector.errors import InvalidSignature
from connector.identity.jwe import JweError, concat_kdf, open_ecdh_es_a256kw
from connector.identity.keys import b64url_decode
from tests.pki import SUPPLIER_ID, T0, VERIFIER2_ID, VERIFIER_ID, make_claims, make_hidden, make_pki

# RFC 7518 Appendix C (ECDH-ES, "A128GCM", apu "Alice", apv "Bob")
ALICE_EPK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
    "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
}
BOB_D = "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"
Z = bytes(
    [
        158,
        86,
        217,
        29,
        129,
        113,
        53,
        211,
        114,
        131,
        66,
        131,
        191,
        132,
        38,
        156,
        251,
        49,
        110,
        163,
        218,
        128,
        106,
        72,
        246,
        218,
        167,
        121,
        140,
        254,
        144,
        196,
    ]
)
DERIVED = "VqqN6vgjbSBcIijNcacQGg"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def test_rfc7518_appendix_c_concat_kdf() -> None:
    bob = ec.derive_private_key(int.from_bytes(b64url_decode(BOB_D), "big"), ec.SECP256R1())
    alice = ec.EllipticCurvePublicKey.from_encoded_point(
        ec.SECP256R1(), b"\x04" + b64url_decode(ALICE_EPK["x"]) + b64url_decode(ALICE_EPK["y"])
    )
    assert bob.exchange(ec.ECDH(), alice) == Z
    assert _b64(concat_kdf(Z, "A128GCM", 128, b"Alice", b"Bob")) == DERIVED


def _joserfc_seal(public: ec.EllipticCurvePublicKey, plaintext: bytes, **extra: str) -> dict:
    obj = jwe.GeneralJSONEncryption({"enc": "A256GCM", "typ": "cfp-evidence+jwe"}, plaintext)
    obj.add_recipient({"alg": "ECDH-ES+A256KW", "kid": "me", **extra}, ECKey.import_key(public))
    return dict(jwe.encrypt_json(obj, None, algorithms=["ECDH-ES+A256KW", "A256GCM"]))


def _open(key: ec.EllipticCurvePrivateKey, package: dict, index: int = 0) -> tuple[dict, bytes]:
    r = package["recipients"][index]
    return open_ecdh_es_a256kw(
        key,
        protected=package["protected"],
        recipient_header=r["header"],
        encrypted_key=r["encrypted_key"],
        iv=package["iv"],
        ciphertext=package["ciphertext"],
        tag=package["tag"],
        unprotected=package.get("unprotected"),
        aad=package.get("aad"),
    )


@pytest.mark.parametrize("extra", [{}, {"apu": _b64(b"Alice"), "apv": _b64(b"Bob")}])
@pytest.mark.parametrize("size", [0, 1, 1000, 100_000])
def test_joserfc_sealed_opens(extra, size) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    plaintext = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    header, opened = _open(key, _joserfc_seal(key.public_key(), plaintext, **extra))
    assert opened == plaintext and header["enc"] == "A256GCM" and header["typ"] == "cfp-evidence+jwe"


def test_aad_is_authenticated() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    obj = jwe.GeneralJSONEncryption({"enc": "A256GCM"}, b"secret", aad=b"bound")
    obj.add_recipient({"alg": "ECDH-ES+A256KW"}, ECKey.import_key(key.public_key()))
    package = dict(jwe.encrypt_json(obj, None, algorithms=["ECDH-ES+A256KW", "A256GCM"]))
    assert _open(key, package)[1] == b"secret"
    package["aad"] = _b64(b"other")
    with pytest.raises(JweError):
        _open(key, package)


def test_other_key_or_curve_refused() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    package = _joserfc_seal(key.public_key(), b"x")
    with pytest.raises(JweError):
        _open(ec.generate_private_key(ec.SECP256R1()), package)
    with pytest.raises(JweError):
        _open(ec.generate_private_key(ec.SECP384R1()), package)


def test_ciphertext_limit() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    package = _joserfc_seal(key.public_key(), b"y" * 3000)
    r = package["recipients"][0]
    with pytest.raises(JweError, match="exceeds"):
        open_ecdh_es_a256kw(
            key,
            protected=package["protected"],
            recipient_header=r["header"],
            encrypted_key=r["encrypted_key"],
            iv=package["iv"],
            ciphertext=package["ciphertext"],
            tag=package["tag"],
            max_ciphertext=1000,
        )


# --- through open_evidence: the same refusals as with joserfc ----------------------------------------------------------


@pytest.fixture(scope="module")
def sealed():
    pki = make_pki()
    nb, nb2 = pki.company(VERIFIER_ID, "verifier"), pki.company(VERIFIER2_ID, "verifier")
    s = pki.company(SUPPLIER_ID, "supplier")
    issued = issue_attestation(make_claims(), make_hidden(), s.key, s.chain, at=T0)
    content = EvidenceContent(attestation=issued.sd_jwt, disclosures=issued.disclosures)
    return nb, content, seal_evidence(content, [nb.chain, nb2.chain], pki.trust(), T0)


def _flip(s: str) -> str:
    return ("A" if s[0] != "A" else "B") + s[1:]


def _protected(p: dict, **changes: object) -> None:
    header = json.loads(b64url_decode(p["protected"]))
    header.update(changes)
    p["protected"] = _b64(json.dumps(header).encode())


def _mine(p: dict) -> dict:
    return p["recipients"][0]["header"]


TAMPERS = {
    "ciphertext": lambda p: p.update(ciphertext=_flip(p["ciphertext"])),
    "tag": lambda p: p.update(tag=_flip(p["tag"])),
    "iv": lambda p: p.update(iv=_flip(p["iv"])),
    "short iv": lambda p: p.update(iv=p["iv"][:-2]),
    "short tag": lambda p: p.update(tag=p["tag"][:-3]),
    "encrypted key": lambda p: p["recipients"][0].update(encrypted_key=_flip(p["recipients"][0]["encrypted_key"])),
    "protected typ": lambda p: _protected(p, typ="other"),
    "protected cty": lambda p: _protected(p, cty="other"),
    "protected enc": lambda p: _protected(p, enc="A128GCM"),
    "protected crit": lambda p: _protected(p, crit=["x"]),
    "protected zip": lambda p: _protected(p, zip="DEF"),
    "protected unknown": lambda p: _protected(p, foo="bar"),
    "protected not base64url": lambda p: p.update(protected="!!" + p["protected"]),
    "aad added": lambda p: p.update(aad="YWJj"),
    "epk off the curve": lambda p: _mine(p)["epk"].update(x=_flip(_mine(p)["epk"]["x"])),
    "epk other curve": lambda p: _mine(p)["epk"].update(crv="P-384"),
    "epk of another recipient": lambda p: _mine(p).update(epk=p["recipients"][1]["header"]["epk"]),
    "apu added": lambda p: _mine(p).update(apu="YWJj"),
    "header repeated": lambda p: _mine(p).update(enc="A256GCM"),
    "unknown shared header": lambda p: p.update(unprotected={"foo": "bar"}),
    "unknown recipient header": lambda p: _mine(p).update(foo="bar"),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_refused(sealed, name) -> None:
    nb, content, package = sealed
    assert open_evidence(package, nb.key, nb.certificate) == content
    tampered = copy.deepcopy(package)
    TAMPERS[name](tampered)
    with pytest.raises(NotARecipient) as err:
        open_evidence(tampered, nb.key, nb.certificate)
    assert err.value.reason.startswith("cannot decrypt evidence: ")


def test_wrong_alg_and_wrong_recipient(sealed) -> None:
    nb, _, package = sealed
    tampered = copy.deepcopy(package)
    _mine(tampered)["alg"] = "ECDH-ES+A128KW"
    with pytest.raises(InvalidSignature) as err:
        open_evidence(tampered, nb.key, nb.certificate)
    assert "key management algorithm" in err.value.reason
    other = make_pki().company(VERIFIER_ID, "verifier")  # same company id, another key and certificate
    with pytest.raises(NotARecipient) as err:
        open_evidence(package, other.key, other.certificate)
    assert "not sealed to this verifier" in err.value.reason


def test_evidence_limit_read_at_each_call(sealed, monkeypatch) -> None:
    nb, content, package = sealed
    monkeypatch.setattr(ev, "MAX_EVIDENCE_BYTES", 10)
    with pytest.raises(NotARecipient) as err:
        open_evidence(package, nb.key, nb.certificate)
    assert "exceeds 10 bytes" in err.value.reason
