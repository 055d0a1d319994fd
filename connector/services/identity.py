"""The node's own signing identity and trust store, loaded once from the files named in Settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from ..config import Settings
from ..errors import ConnectorError
from ..identity import TrustStore, company_id_of, load_certificates, load_crl, load_private_key, role_of
from ..identity.keys import PrivateKey


@dataclass
class NodeIdentity:
    """Key and chain (leaf first) this node signs with, and the dataspace trust anchors it checks peers against."""

    key: PrivateKey | None
    chain: list[x509.Certificate]
    trust: TrustStore | None
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    crl_files: list[Path] = field(default_factory=list)
    _crl_stamps: tuple[tuple[str, float], ...] = ()

    @property
    def can_sign(self) -> bool:
        return self.key is not None and bool(self.chain)

    @property
    def role(self) -> str | None:
        return str(role_of(self.chain[0])) if self.chain else None

    def reload_crls(self) -> bool:
        """Pick up CRL files the dataspace operator replaced, without a restart; True when they changed.

        The trust store is swapped whole (one assignment), so a check in flight uses either the old or the new CRLs.
        A file that cannot be read or parsed keeps the CRLs already loaded, and the next call tries again.
        """
        try:
            stamps = tuple((str(p), p.stat().st_mtime) for p in self.crl_files)
        except OSError:
            return False
        if not self.crl_files or stamps == self._crl_stamps or self.trust is None:
            return False
        try:
            crls = [load_crl(p.read_bytes()) for p in self.crl_files]
        except (OSError, ValueError, ConnectorError):
            return False
        self.trust = self.trust.replace_crls(crls)
        self.crls, self._crl_stamps = crls, stamps
        return True


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
    identity = NodeIdentity(key=key, chain=chain, trust=trust, crls=crls, crl_files=list(settings.crl_files))
    identity._crl_stamps = tuple((str(p), p.stat().st_mtime) for p in settings.crl_files)
    return identity
