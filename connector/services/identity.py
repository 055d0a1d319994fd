"""The node's own signing identity and trust store, loaded once from the files named in Settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from ..config import Settings
from ..identity import TrustStore, company_id_of, load_certificates, load_crl, load_private_key, role_of
from ..identity.keys import PrivateKey


@dataclass
class NodeIdentity:
    """Key and chain (leaf first) this node signs with, and the dataspace trust anchors it checks peers against."""

    key: PrivateKey | None
    chain: list[x509.Certificate]
    trust: TrustStore | None
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)

    @property
    def can_sign(self) -> bool:
        return self.key is not None and bool(self.chain)

    @property
    def role(self) -> str | None:
        return str(role_of(self.chain[0])) if self.chain else None



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
    return NodeIdentity(key=key, chain=chain, trust=trust, crls=crls)
