"""The trust store: validates a company's certificate chain to the dataspace anchors at a given time.

Path validation is ``cryptography.x509.verification`` (RFC 5280 / CA-B Forum web PKI profile, client verifier:
the leaf must carry EKU clientAuth, which every company certificate has). That library does no revocation checking,
so the CRL check is here: each certificate in the built chain below the anchor is looked up in the CRL of its
issuer, the CRL must be signed by that issuer, and a certificate counts as revoked at ``at`` when its revocation date
is at or before ``at`` (revoked later: still valid for a signature made at ``at``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

from ..errors import TrustError
from .ca import company_id_of, name_of, role_of
from .oids import CFP_SIGNING_EKU, Role


@dataclass(frozen=True)
class CompanyIdentity:
    """Who signed: established from a validated certificate chain, never from a claim in the payload."""

    company_id: str
    name: str
    role: Role
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    """The validated chain, leaf first, ending with the trust anchor."""


RoleSpec = Role | str | Iterable[Role | str] | None


def _allowed_roles(role: RoleSpec) -> frozenset[Role] | None:
    if role is None:
        return None
    if isinstance(role, str):
        return frozenset({Role(role)})
    return frozenset(Role(r) for r in role)


class TrustStore:
    """Trust anchors (root CA certificates), the CRLs the caller has, and optional known intermediates.

    >>> store = TrustStore([root_cert], [crl])                              # doctest: +SKIP
    >>> who = store.validate([leaf, intermediate], at=signed_at, role="supplier")  # doctest: +SKIP
    >>> who.company_id                                                      # doctest: +SKIP
    'urn:pact:andes-lithium.example:company:andes-lithium'

    ``clock_skew`` is the tolerance the attestation and JWS verifiers give to ``iat`` in the future; validity
    periods of certificates are checked exactly at ``at``. ``require_crl`` makes a missing CRL for any issuing CA in
    the chain a failure (otherwise a missing CRL means "no revocation known").
    """

    def __init__(
        self,
        anchors: Sequence[x509.Certificate],
        crls: Sequence[x509.CertificateRevocationList] = (),
        *,
        clock_skew: timedelta = timedelta(minutes=5),
        intermediates: Sequence[x509.Certificate] = (),
        require_crl: bool = False,
    ) -> None:
        if not anchors:
            raise ValueError("a trust store needs at least one anchor")
        self.anchors = list(anchors)
        self.crls = list(crls)
        self.clock_skew = clock_skew
        self.intermediates = list(intermediates)
        self.require_crl = require_crl
        self._store = Store(self.anchors)

    def with_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> TrustStore:
        """A copy with more CRLs (e.g. the ones bundled with evidence)."""
        return TrustStore(self.anchors, [*self.crls, *crls], clock_skew=self.clock_skew,
                          intermediates=self.intermediates, require_crl=self.require_crl)

    def validate(
        self,
        chain: Sequence[x509.Certificate],
        at: datetime,
        role: RoleSpec = None,
    ) -> CompanyIdentity:
        """Validate ``chain`` (leaf first, then intermediates; a trailing root is tolerated) at time ``at``.

        Checks path, validity periods, key usage and EKU (clientAuth + CFP signing), the company id in the
        subjectAltName, the role extension against ``role`` (one role or a collection of allowed roles), and
        revocation. Raises :class:`~connector.errors.TrustError` with a detailed ``reason`` on any failure.
        """
        if at.tzinfo is None:
            raise TrustError("validation time must be timezone-aware")
        if not chain:
            raise TrustError("empty certificate chain")
        leaf, *rest = chain
        verifier = PolicyBuilder().store(self._store).time(at).build_client_verifier()
        try:
            verified = verifier.verify(leaf, [*rest, *self.intermediates])
        except VerificationError as exc:
            raise TrustError(f"certificate chain: {exc}") from None
        built = tuple(verified.chain)

        try:
            eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:  # pragma: no cover - the client verifier already requires EKU
            raise TrustError("certificate has no extended key usage") from None
        if CFP_SIGNING_EKU not in eku:
            raise TrustError("certificate lacks the CFP signing extended key usage")

        company_id = company_id_of(leaf)
        if company_id is None:
            raise TrustError("certificate has no (or an ambiguous) company id URN")
        try:
            cert_role = role_of(leaf)
        except ValueError as exc:
            raise TrustError(f"malformed role extension: {exc}") from None
        if cert_role is None:
            raise TrustError("certificate has no dataspace role")
        allowed = _allowed_roles(role)
        if allowed is not None and cert_role not in allowed:
            wanted = " or ".join(sorted(r.value for r in allowed))
            raise TrustError(f"certificate role is {cert_role.value}, expected {wanted}")

        self._check_revocation(built, at)
        return CompanyIdentity(company_id=company_id, name=name_of(leaf), role=cert_role, certificate=leaf,
                               chain=built)

    def check_revocation(self, chain: Sequence[x509.Certificate], at: datetime) -> None:
        """Revocation check of an already built chain (leaf first, anchor last)."""
        self._check_revocation(tuple(chain), at)

    def _check_revocation(self, chain: tuple[x509.Certificate, ...], at: datetime) -> None:
        for cert, issuer in zip(chain, chain[1:], strict=False):
            crls = [crl for crl in self.crls if crl.issuer == issuer.subject]
            if not crls:
                if self.require_crl:
                    raise TrustError(f"no CRL for issuer {issuer.subject.rfc4514_string()}")
                continue
            for crl in crls:
                # A CRL that names this issuer but is not signed by it is an attack or a mix-up: fail closed.
                if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                    raise TrustError(f"CRL for {issuer.subject.rfc4514_string()} is not signed by that CA")
                entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if entry is not None and entry.revocation_date_utc <= at:
                    raise TrustError(
                        f"certificate serial {cert.serial_number:x} revoked at {entry.revocation_date_utc.isoformat()}"
                    )
