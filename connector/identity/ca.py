"""Dataspace certificate authority: root, intermediate, company and TLS certificates, CRLs.

Pure functions over keys, certificates and an explicit time. Persistence lives in :mod:`connector.identity.files`.

>>> from datetime import UTC, datetime
>>> at = datetime(2026, 1, 1, tzinfo=UTC)
>>> root = create_root_ca("Demo Dataspace Root CA", at=at)
>>> inter = create_intermediate_ca(root, "Demo Dataspace Issuing CA", at=at)
>>> company = issue_company_certificate(
...     inter, company_id="urn:pact:andes-lithium.example:company:andes-lithium",
...     name="Andes Lithium Refining S.A.", role="supplier", at=at)
>>> role_of(company.certificate)
<Role.SUPPLIER: 'supplier'>
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import ValidationFailed
from .keys import PrivateKey, generate_key
from .oids import CFP_SIGNING_EKU, ROLE_OID, Role

ROOT_VALIDITY = timedelta(days=3650)
INTERMEDIATE_VALIDITY = timedelta(days=1825)
COMPANY_VALIDITY = timedelta(days=397)
TLS_VALIDITY = timedelta(days=397)
CRL_VALIDITY = timedelta(days=7)
# Back-date notBefore a little so a freshly issued certificate validates on a peer whose clock is slightly behind.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class Issued:
    """A private key and the certificate issued for it, plus the chain up to (excluding) the root."""

    key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = field(default=())
    """Leaf first, then intermediates: exactly what goes into ``x5c``."""


@dataclass(frozen=True)
class CertificateAuthority:
    """A CA key and certificate. ``parents`` are the CA certificates above it, nearest first (empty for a root)."""

    key: PrivateKey
    certificate: x509.Certificate
    parents: tuple[x509.Certificate, ...] = ()

    @property
    def is_root(self) -> bool:
        return not self.parents

    def chain_below_root(self) -> tuple[x509.Certificate, ...]:
        """This CA and its parents, without the self-signed root."""
        chain = (self.certificate, *self.parents)
        return tuple(c for c in chain if c.subject != c.issuer)


# --- DER helpers for the role extension ---------------------------------------------------------------------------


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def encode_utf8_string(text: str) -> bytes:
    """DER ``UTF8String`` (tag 12)."""
    raw = text.encode("utf-8")
    return b"\x0c" + _der_length(len(raw)) + raw


def decode_utf8_string(der: bytes) -> str:
    """Inverse of :func:`encode_utf8_string`; raises ValueError on anything else."""
    if len(der) < 2 or der[0] != 0x0C:
        raise ValueError("not a DER UTF8String")
    first = der[1]
    if first < 0x80:
        length, offset = first, 2
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or len(der) < 2 + n:
            raise ValueError("bad DER length")
        length, offset = int.from_bytes(der[2 : 2 + n], "big"), 2 + n
        if length < 0x80:
            raise ValueError("non-minimal DER length")
    if len(der) != offset + length:
        raise ValueError("DER length mismatch")
    return der[offset:].decode("utf-8")


def role_extension(role: Role | str) -> x509.UnrecognizedExtension:
    return x509.UnrecognizedExtension(ROLE_OID, encode_utf8_string(Role(role).value))


def role_of(cert: x509.Certificate) -> Role | None:
    """The dataspace role in ``cert``'s role extension, or None when absent. A malformed value raises ValueError."""
    try:
        ext = cert.extensions.get_extension_for_oid(ROLE_OID)
    except x509.ExtensionNotFound:
        return None
    value = ext.value
    if not isinstance(value, x509.UnrecognizedExtension):  # pragma: no cover - cryptography never parses our OID
        raise ValueError("unexpected role extension type")
    return Role(decode_utf8_string(value.value))


def company_id_of(cert: x509.Certificate) -> str | None:
    """The company id: the single URN in the subjectAltName URIs (cross-checked with organizationIdentifier)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith("urn:")]
    if len(uris) != 1:
        return None
    org_ids = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    if org_ids and any(a.value != uris[0] for a in org_ids):
        return None
    return uris[0]


def name_of(cert: x509.Certificate) -> str:
    for oid in (NameOID.ORGANIZATION_NAME, NameOID.COMMON_NAME):
        attrs = cert.subject.get_attributes_for_oid(oid)
        if attrs:
            value = attrs[0].value
            return value if isinstance(value, str) else value.decode()
    return cert.subject.rfc4514_string()


# --- building certificates -----------------------------------------------------------------------------------------


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _aki(ca: CertificateAuthority) -> x509.AuthorityKeyIdentifier:
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _check_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValidationFailed("time must be timezone-aware (UTC)")


def _ca_builder(
    subject: x509.Name, issuer: x509.Name, key: PrivateKey, at: datetime, validity: timedelta, path_length: int | None
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - BACKDATE)
        .not_valid_after(at + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(_ski(key), critical=False)
    )


def create_root_ca(
    name: str, *, at: datetime, key: PrivateKey | None = None, validity: timedelta = ROOT_VALIDITY
) -> CertificateAuthority:
    """A self-signed dataspace root CA (EC P-256 unless ``key`` says otherwise), path length 1."""
    _check_aware(at)
    key = key or generate_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = _ca_builder(subject, subject, key, at, validity, path_length=1).sign(key, hashes.SHA256())
    return CertificateAuthority(key=key, certificate=cert)


def create_intermediate_ca(
    parent: CertificateAuthority,
    name: str,
    *,
    at: datetime,
    key: PrivateKey | None = None,
    validity: timedelta = INTERMEDIATE_VALIDITY,
) -> CertificateAuthority:
    """An issuing CA signed by ``parent`` (path length 0: it issues only end-entity certificates)."""
    _check_aware(at)
    key = key or generate_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    not_after = min(at + validity, parent.certificate.not_valid_after_utc)
    builder = _ca_builder(subject, parent.certificate.subject, key, at, not_after - at, path_length=0)
    cert = builder.add_extension(_aki(parent), critical=False).sign(parent.key, hashes.SHA256())
    return CertificateAuthority(key=key, certificate=cert, parents=(parent.certificate, *parent.parents))


def _ee_key_usage(*, key_agreement: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=key_agreement,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


def _not_after(ca: CertificateAuthority, at: datetime, validity: timedelta) -> datetime:
    return min(at + validity, ca.certificate.not_valid_after_utc)


def issue_company_certificate(
    ca: CertificateAuthority,
    *,
    company_id: str,
    name: str,
    role: Role | str,
    at: datetime,
    key: PrivateKey | None = None,
    validity: timedelta = COMPANY_VALIDITY,
    country: str | None = None,
) -> Issued:
    """A company certificate: subject CN/O = ``name``, organizationIdentifier = ``company_id``, SAN URI =
    ``company_id``, the role extension, key usage digitalSignature + keyAgreement (verifiers unwrap JWE keys with
    ECDH-ES), EKU clientAuth (OAuth ``private_key_jwt``/mTLS) + CFP signing.
    """
    _check_aware(at)
    if not company_id.startswith("urn:") or any(c.isspace() for c in company_id):
        raise ValidationFailed(f"company id must be a URN without spaces, got {company_id!r}")
    role = Role(role)
    key = key or generate_key()
    attrs = [
        x509.NameAttribute(NameOID.COMMON_NAME, name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, company_id),
    ]
    if country:
        attrs.insert(0, x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(attrs))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - BACKDATE)
        .not_valid_after(_not_after(ca, at, validity))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_ee_key_usage(key_agreement=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH, CFP_SIGNING_EKU]), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(company_id)]), critical=False)
        .add_extension(_ski(key), critical=False)
        .add_extension(_aki(ca), critical=False)
        .add_extension(role_extension(role), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(key=key, certificate=cert, chain=(cert, *ca.chain_below_root()))


def issue_tls_certificate(
    ca: CertificateAuthority,
    hosts: Sequence[str],
    *,
    at: datetime,
    key: PrivateKey | None = None,
    validity: timedelta = TLS_VALIDITY,
) -> Issued:
    """A TLS server certificate for ``hosts`` (DNS names or IP addresses such as 127.0.0.1)."""
    _check_aware(at)
    if not hosts:
        raise ValidationFailed("a TLS certificate needs at least one host name")
    key = key or generate_key()
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(at - BACKDATE)
        .not_valid_after(_not_after(ca, at, validity))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_ee_key_usage(key_agreement=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(_ski(key), critical=False)
        .add_extension(_aki(ca), critical=False)
        .sign(ca.key, hashes.SHA256())
    )
    return Issued(key=key, certificate=cert, chain=(cert, *ca.chain_below_root()))


@dataclass(frozen=True)
class Revocation:
    serial: int
    revoked_at: datetime


def build_crl(
    ca: CertificateAuthority,
    revocations: Iterable[Revocation],
    *,
    at: datetime,
    validity: timedelta = CRL_VALIDITY,
    number: int | None = None,
) -> x509.CertificateRevocationList:
    """A CRL signed by ``ca`` listing ``revocations`` (serial and revocation date), valid from ``at``.

    ``number`` (the CRLNumber extension) defaults to the Unix time of ``at`` so later CRLs have larger numbers.
    """
    _check_aware(at)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(at)
        .next_update(at + validity)
        .add_extension(_aki(ca), critical=False)
        .add_extension(x509.CRLNumber(number if number is not None else int(at.timestamp())), critical=False)
    )
    for rev in revocations:
        _check_aware(rev.revoked_at)
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(rev.serial).revocation_date(rev.revoked_at).build()
        )
    return builder.sign(ca.key, hashes.SHA256())
