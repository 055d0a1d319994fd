"""The node's own signing identity and trust store, loaded once from the files named in Settings (the CRL files
again whenever they change, noticed on use: :attr:`NodeIdentity.trust`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptography import x509

from ..config import Settings
from ..errors import ConnectorError
from ..identity import TrustStore, company_id_of, load_certificates, load_crl, load_private_key, role_of
from ..identity.keys import PrivateKey

log = logging.getLogger("connector.identity")


class NodeIdentity:
    """Key and chain (leaf first) this node signs with, and the dataspace trust anchors it checks peers against.

    ``trust`` and ``crls`` are current: reading either looks at ``crl_files`` (modification time, size, inode) at most
    every :attr:`CRL_CHECK_INTERVAL` seconds and reloads them when one changed (:meth:`reload_crls`). So a replaced CRL
    file takes effect in every process, with or without its background workers (the outbox worker also calls
    :meth:`reload_crls` on each pass).
    """

    CRL_CHECK_INTERVAL = 1.0
    """Seconds between two looks at the CRL files (a ``stat`` per file)."""

    def __init__(
        self,
        key: PrivateKey | None,
        chain: list[x509.Certificate],
        trust: TrustStore | None,
        crls: Iterable[x509.CertificateRevocationList] = (),
        crl_files: Iterable[Path] = (),
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key, self.chain = key, chain
        self._trust, self._crls = trust, list(crls)
        self.crl_files = list(crl_files)
        self.clock = clock
        self._crl_stamps = self._stamps() or ()
        self._next_check = float("-inf")
        self._reloading = threading.Lock()

    @property
    def can_sign(self) -> bool:
        return self.key is not None and bool(self.chain)

    @property
    def role(self) -> str | None:
        return str(role_of(self.chain[0])) if self.chain else None

    @property
    def trust(self) -> TrustStore | None:
        """The trust store with the current CRLs (see the class)."""
        self._check_crls()
        return self._trust

    @trust.setter
    def trust(self, value: TrustStore | None) -> None:
        self._trust = value

    @property
    def crls(self) -> list[x509.CertificateRevocationList]:
        """The CRLs loaded from ``crl_files``, current as :attr:`trust` (bundled with the evidence this node seals)."""
        self._check_crls()
        return self._crls

    @crls.setter
    def crls(self, value: list[x509.CertificateRevocationList]) -> None:
        self._crls = value

    def _check_crls(self) -> None:
        if not self.crl_files:
            return
        now = self.clock()
        if now < self._next_check:
            return
        self._next_check = now + self.CRL_CHECK_INTERVAL
        if self.reload_crls():
            log.info("CRL files changed: revocations reloaded")

    def _stamps(self) -> tuple[tuple[str, int, int, int], ...] | None:
        """Each file's modification time, size and inode: a file renamed over the old one counts as changed even
        within the file system's clock tick."""
        try:
            return tuple((str(p), (s := p.stat()).st_mtime_ns, s.st_size, s.st_ino) for p in self.crl_files)
        except OSError:
            return None

    def reload_crls(self) -> bool:
        """Pick up CRL files the dataspace operator replaced, without a restart; True when they changed.

        The trust store is swapped whole (one assignment), so a check in flight uses either the old or the new CRLs.
        A file that cannot be read or parsed keeps the CRLs already loaded, and the next call tries again. A call
        while another thread reloads returns False at once (that thread swaps the store).
        """
        if not self._reloading.acquire(blocking=False):
            return False
        try:
            stamps = self._stamps()
            if stamps is None or not self.crl_files or stamps == self._crl_stamps or self._trust is None:
                return False
            try:
                crls = [load_crl(p.read_bytes()) for p in self.crl_files]
            except (OSError, ValueError, ConnectorError):
                return False
            self._trust = self._trust.replace_crls(crls)
            self._crls, self._crl_stamps = crls, stamps
            return True
        finally:
            self._reloading.release()


def load_identity(settings: Settings) -> NodeIdentity:
    key = load_private_key(settings.key_file.read_bytes()) if settings.key_file else None
    chain: list[x509.Certificate] = []
    if settings.cert_file:
        chain.extend(load_certificates(settings.cert_file.read_bytes()))
    for path in settings.chain_files:
        chain.extend(c for c in load_certificates(path.read_bytes()) if c not in chain)
    anchors = [c for path in settings.trust_anchor_files for c in load_certificates(path.read_bytes())]
    crls = [load_crl(path.read_bytes()) for path in settings.crl_files]
    intermediates = chain[1:]
    trust = TrustStore(anchors, crls, clock_skew=settings.clock_skew, intermediates=intermediates) if anchors else None
    if chain and company_id_of(chain[0]) != settings.company_id:
        raise ValueError(f"certificate is for {company_id_of(chain[0])}, but this node is {settings.company_id}")
    return NodeIdentity(key=key, chain=chain, trust=trust, crls=crls, crl_files=settings.crl_files)
