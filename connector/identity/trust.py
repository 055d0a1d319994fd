"""The trust store: validates a company's certificate chain to the dataspace anchors at a given time.

Path validation is ``cryptography.x509.verification`` (RFC 5280 / CA-B Forum web PKI profile, client verifier:
the leaf must carry EKU clientAuth, which every company certificate has). That library does no revocation checking,
so the CRL check is here: each certificate in the built chain below the anchor is looked up in the CRL of its
issuer, the CRL must be signed by that issuer, and a certificate counts as revoked at ``at`` when its revocation date
is at or before ``at`` (revoked later: still valid for a signature made at ``at``).

Path building is the expensive part (~130 us: certificate signatures, extension policy) and does not depend on the
validation time except through the validity windows, so a successful result is cached per submitted chain (see
:class:`_PathCache`); on a hit the validity windows of every certificate of the built path are re-checked at ``at``
exactly as the verifier does, and the role and the CRLs are checked as on a miss. Revocation is never cached (only
the time-independent CRL signature check is).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
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


@dataclass(frozen=True)
class _ValidPath:
    """A path the verifier built and accepted once, with what :meth:`TrustStore.validate` derived from its leaf."""

    chain: tuple[x509.Certificate, ...]
    windows: tuple[tuple[datetime, datetime], ...]
    """(not_valid_before_utc, not_valid_after_utc) of every certificate of ``chain``, anchor included."""
    company_id: str
    name: str
    role: Role

    @property
    def identity(self) -> CompanyIdentity:
        """Who this path's leaf identifies (the same object every time: a path is immutable)."""
        found = self.__dict__.get("_identity")
        if found is None:
            found = CompanyIdentity(
                company_id=self.company_id, name=self.name, role=self.role, certificate=self.chain[0], chain=self.chain
            )
            self.__dict__["_identity"] = found
        return found


class _PathCache:
    """Bounded LRU map: submitted chain (leaf + given intermediates, compared by DER) -> :class:`_ValidPath`.

    Shared by the copies a store makes of itself (:meth:`TrustStore.with_crls`, :meth:`TrustStore.without_crls`):
    path building depends on the anchors and the known intermediates only, never on CRLs.
    """

    def __init__(self, maxsize: int) -> None:
        if maxsize < 0:
            raise ValueError("maxsize must be >= 0")
        self.maxsize = maxsize
        self._data: OrderedDict[tuple[x509.Certificate, ...], _ValidPath] = OrderedDict()
        self._lock = threading.Lock()  # one store serves the API's worker threads
        self._by_id: dict[int, tuple[tuple[x509.Certificate, ...], _ValidPath]] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: tuple[x509.Certificate, ...]) -> _ValidPath | None:
        # A caller that hands in the same tuple object again (the JWS header cache does) is found by identity:
        # hashing a tuple of certificates hashes every certificate's DER, each time.
        seen = self._by_id.get(id(key))
        if seen is not None and seen[0] is key:
            self.hits += 1
            return seen[1]
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            self._remember(key, entry)
            return entry

    def _remember(self, key: tuple[x509.Certificate, ...], entry: _ValidPath) -> None:
        # The entry keeps ``key`` alive, so its id cannot be reused while it is in the map; a path never becomes
        # wrong (validate re-checks the validity windows on every hit), so an entry may outlive its LRU slot.
        if len(self._by_id) >= self.maxsize:
            self._by_id.clear()
        self._by_id[id(key)] = (key, entry)

    def put(self, key: tuple[x509.Certificate, ...], entry: _ValidPath) -> None:
        if self.maxsize == 0:
            return
        with self._lock:
            self._data[key] = entry
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
            self._remember(key, entry)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self._by_id.clear()


def _verifier_time(at: datetime) -> datetime:
    """``at`` as the verifier sees it: UTC, whole seconds (``PolicyBuilder.time`` drops the microseconds)."""
    return at.astimezone(UTC).replace(microsecond=0)


def _windows(chain: Sequence[x509.Certificate]) -> tuple[tuple[datetime, datetime], ...]:
    return tuple((c.not_valid_before_utc, c.not_valid_after_utc) for c in chain)


def crl_covers(crl: x509.CertificateRevocationList, at: datetime) -> bool:
    """Whether ``crl`` speaks for the revocation status at ``at``: it was issued at or after ``at`` (it lists every
    revocation up to its ``thisUpdate``), or ``at`` falls before its ``nextUpdate`` (the CA's current list then).
    A CRL without ``nextUpdate`` covers only what precedes its ``thisUpdate``."""
    if crl.last_update_utc >= at:
        return True
    next_update = crl.next_update_utc
    return next_update is not None and at <= next_update


DEFAULT_PATH_CACHE_SIZE = 1024
"""Distinct submitted chains remembered per trust store (a dataspace has one chain per company certificate)."""


class TrustStore:
    """Trust anchors (root CA certificates), the CRLs the caller has, and optional known intermediates.

    >>> store = TrustStore([root_cert], [crl])                              # doctest: +SKIP
    >>> who = store.validate([leaf, intermediate], at=signed_at, role="supplier")  # doctest: +SKIP
    >>> who.company_id                                                      # doctest: +SKIP
    'urn:pact:andes-lithium.example:company:andes-lithium'

    ``clock_skew`` is the tolerance the attestation and JWS verifiers give to ``iat`` in the future; validity
    periods of certificates are checked exactly at ``at``. ``require_crl`` makes it a failure when an issuing CA in
    the chain has no CRL *current at* ``at`` (:func:`crl_covers`): none at all, or only CRLs whose ``nextUpdate`` had
    passed by then, which cannot vouch that the certificate was not revoked meanwhile. Otherwise a missing or stale
    CRL means "no revocation known"; a revocation a stale CRL lists still counts.
    """

    def __init__(
        self,
        anchors: Sequence[x509.Certificate],
        crls: Sequence[x509.CertificateRevocationList] = (),
        *,
        clock_skew: timedelta = timedelta(minutes=5),
        intermediates: Sequence[x509.Certificate] = (),
        require_crl: bool = False,
        path_cache_size: int = DEFAULT_PATH_CACHE_SIZE,
    ) -> None:
        if not anchors:
            raise ValueError("a trust store needs at least one anchor")
        self.anchors = tuple(anchors)
        self.crls = tuple(crls)
        self.clock_skew = clock_skew
        self.intermediates = tuple(intermediates)
        self.require_crl = require_crl
        self._store = Store(list(self.anchors))
        self._paths = _PathCache(path_cache_size)
        self._crl_signatures: dict[tuple[bytes, x509.Certificate], bool] = {}
        self._crls_by_issuer: dict[x509.Name, list[tuple[x509.CertificateRevocationList, bytes]]] = {}
        for crl in self.crls:
            self._crls_by_issuer.setdefault(crl.issuer, []).append((crl, crl.fingerprint(hashes.SHA256())))

    def _copy(self, crls: Sequence[x509.CertificateRevocationList], require_crl: bool) -> TrustStore:
        copy = TrustStore(
            self.anchors,
            crls,
            clock_skew=self.clock_skew,
            intermediates=self.intermediates,
            require_crl=require_crl,
            path_cache_size=0,
        )
        copy._store = self._store
        copy._paths = self._paths  # same anchors and intermediates: the same paths
        copy._crl_signatures = self._crl_signatures  # keyed by CRL fingerprint: valid for any set of CRLs
        return copy

    def with_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> TrustStore:
        """A copy with more CRLs (e.g. the ones bundled with evidence); it shares the path cache."""
        return self._copy([*self.crls, *crls], self.require_crl)

    def replace_crls(self, crls: Iterable[x509.CertificateRevocationList]) -> TrustStore:
        """A copy whose CRLs are exactly ``crls`` (a node's fresh CRL files); it shares the path cache."""
        return self._copy(list(crls), self.require_crl)

    def without_crls(self) -> TrustStore:
        """A copy that checks paths only (no CRLs, ``require_crl`` off); it shares the path cache."""
        return self._copy([], False)

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
        key = chain if isinstance(chain, tuple) else tuple(chain)
        path = self._paths.get(key)
        if path is not None:
            t = _verifier_time(at)
            if not all(nb <= t <= na for nb, na in path.windows):
                # Outside a validity window of the cached path: let the verifier decide (and word the error).
                path = None
        if path is None:
            path = self._build_path(key, at)
        allowed = _allowed_roles(role)
        if allowed is not None and path.role not in allowed:
            wanted = " or ".join(sorted(r.value for r in allowed))
            raise TrustError(f"certificate role is {path.role.value}, expected {wanted}")

        self._check_revocation(path.chain, at)
        return path.identity

    def _build_path(self, key: tuple[x509.Certificate, ...], at: datetime) -> _ValidPath:
        """Path validation by ``cryptography`` at ``at`` plus the leaf checks that do not depend on time."""
        leaf, *rest = key
        verifier = PolicyBuilder().store(self._store).time(at).build_client_verifier()
        pool = [*rest, *self.intermediates]
        try:
            verified = verifier.verify(leaf, pool)
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
        path = _ValidPath(
            chain=built, windows=_windows(built), company_id=company_id, name=name_of(leaf), role=cert_role
        )
        if self._unambiguous(built, pool):
            self._paths.put(key, path)
        return path

    def _unambiguous(self, built: tuple[x509.Certificate, ...], pool: Sequence[x509.Certificate]) -> bool:
        """Whether the verifier has exactly one issuer candidate for every certificate of ``built``.

        Then the path it builds does not depend on the time: at any other time it either returns this same path or
        fails on a validity window, which is what a cache hit re-checks. With several candidates (cross-signed or
        renewed CAs with the same name) another path could be chosen at another time, so nothing is cached.
        """
        for cert in built[:-1]:
            candidates = {c for c in (*self.anchors, *pool) if c.subject == cert.issuer}
            if len(candidates) != 1:
                return False
        return True

    def check_revocation(self, chain: Sequence[x509.Certificate], at: datetime) -> None:
        """Revocation check of an already built chain (leaf first, anchor last)."""
        self._check_revocation(tuple(chain), at)

    def _check_revocation(self, chain: tuple[x509.Certificate, ...], at: datetime) -> None:
        for cert, issuer in zip(chain, chain[1:], strict=False):
            crls = self._crls_by_issuer.get(issuer.subject)
            if not crls:
                if self.require_crl:
                    raise TrustError(f"no CRL for issuer {issuer.subject.rfc4514_string()}")
                continue
            current = False
            for crl, fingerprint in crls:
                # A CRL that names this issuer but is not signed by it is an attack or a mix-up: fail closed.
                if not self._crl_signed_by(crl, fingerprint, issuer):
                    raise TrustError(f"CRL for {issuer.subject.rfc4514_string()} is not signed by that CA")
                entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if entry is not None and entry.revocation_date_utc <= at:
                    raise TrustError(
                        f"certificate serial {cert.serial_number:x} revoked at {entry.revocation_date_utc.isoformat()}"
                    )
                current = current or crl_covers(crl, at)
            if self.require_crl and not current:
                newest = max((c.next_update_utc for c, _ in crls if c.next_update_utc is not None), default=None)
                until = f"the newest runs until {newest.isoformat()}" if newest else "none has a nextUpdate"
                raise TrustError(
                    f"no CRL for issuer {issuer.subject.rfc4514_string()} current at {at.isoformat()} "
                    f"({until}): its revocation status then is unknown"
                )

    def listed_revocation(self, issuer: str, serial: int, at: datetime) -> str | None:
        """Why the certificate ``serial`` of the CA named ``issuer`` (RFC 4514) is revoked at ``at`` by this store's
        CRLs, or None. For a check where only those two are at hand (an access token issued on a chain validated
        earlier): a CRL naming the issuer counts when its signature verifies with a CA certificate of that name the
        store holds, or when it holds none (the node's own CRL files); one that fails that check refuses (fail
        closed, as :meth:`validate`)."""
        for crl, fingerprint in self._crls_by_issuer_name().get(issuer, ()):
            cas = [c for c in (*self.anchors, *self.intermediates) if c.subject == crl.issuer]
            if cas and not any(self._crl_signed_by(crl, fingerprint, ca) for ca in cas):
                return f"CRL for {issuer} is not signed by that CA"
            entry = crl.get_revoked_certificate_by_serial_number(serial)
            if entry is not None and entry.revocation_date_utc <= at:
                return f"certificate serial {serial:x} revoked at {entry.revocation_date_utc.isoformat()}"
        return None

    def _crls_by_issuer_name(self) -> dict[str, list[tuple[x509.CertificateRevocationList, bytes]]]:
        found = self.__dict__.get("_by_name")
        if found is None:
            found = self.__dict__["_by_name"] = {
                name.rfc4514_string(): crls for name, crls in self._crls_by_issuer.items()
            }
        return found

    def _crl_signed_by(self, crl: x509.CertificateRevocationList, fingerprint: bytes, issuer: x509.Certificate) -> bool:
        """``crl.is_signature_valid(issuer's key)``, remembered per (CRL fingerprint, issuer certificate)."""
        key = (fingerprint, issuer)
        ok = self._crl_signatures.get(key)
        if ok is None:
            ok = crl.is_signature_valid(issuer.public_key())  # type: ignore[arg-type]
            if len(self._crl_signatures) >= DEFAULT_PATH_CACHE_SIZE:
                self._crl_signatures.clear()
            self._crl_signatures[key] = ok
        return ok
