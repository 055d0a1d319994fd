"""Keys, certificates and CRLs on disk: PEM files in a folder, private keys mode 0600.

The CA folder layout written by ``connector ca init`` and read by the other ``ca`` commands::

    root.pem  root.key                  self-signed dataspace root (trust anchor)
    intermediate.pem  intermediate.key  issuing CA
    revocations.json                    serials revoked by the issuing CA, with dates
    crl.pem                             the last CRL of the issuing CA
    issued/<stem>.pem .key .chain.pem   company and TLS certificates (chain = leaf + intermediate)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509

from ..errors import ValidationFailed
from .ca import CertificateAuthority, Issued, Revocation
from .keys import (
    PrivateKey,
    certificates_to_pem,
    crl_to_pem,
    load_certificates,
    load_crl,
    load_private_key,
    private_key_to_pem,
)
from .trust import TrustStore

ROOT = "root"
INTERMEDIATE = "intermediate"
REVOCATIONS = "revocations.json"
CRL = "crl.pem"
ISSUED = "issued"


def write_private_key(path: Path, key: PrivateKey, password: bytes | None = None) -> Path:
    """Write a PKCS#8 PEM key readable by the owner only (0600), created with that mode (no race)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, private_key_to_pem(key, password))
    finally:
        os.close(fd)
    return path


def read_private_key(path: Path, password: bytes | None = None) -> PrivateKey:
    return load_private_key(Path(path).read_bytes(), password)


def write_certificates(path: Path, certs: Sequence[x509.Certificate]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(certificates_to_pem(certs))
    return path


def read_certificates(path: Path) -> list[x509.Certificate]:
    return load_certificates(Path(path).read_bytes())


def write_crl(path: Path, crl: x509.CertificateRevocationList) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(crl_to_pem(crl))
    return path


def read_crl(path: Path) -> x509.CertificateRevocationList:
    return load_crl(Path(path).read_bytes())


def load_trust_store(
    anchors: Path | Sequence[Path],
    crls: Sequence[Path] = (),
    *,
    intermediates: Sequence[Path] = (),
    require_crl: bool = False,
) -> TrustStore:
    """A :class:`TrustStore` from PEM files: anchor certificate file(s), CRL files (PEM or DER), intermediates."""
    anchor_paths = [anchors] if isinstance(anchors, str | Path) else list(anchors)
    return TrustStore(
        [c for p in anchor_paths for c in read_certificates(p)],
        [read_crl(p) for p in crls],
        intermediates=[c for p in intermediates for c in read_certificates(p)],
        require_crl=require_crl,
    )


def save_issued(folder: Path, stem: str, issued: Issued) -> dict[str, Path]:
    """Write ``stem.key`` (0600), ``stem.pem`` (the certificate) and ``stem.chain.pem`` (leaf + intermediates)."""
    folder = Path(folder)
    return {
        "key": write_private_key(folder / f"{stem}.key", issued.key),
        "cert": write_certificates(folder / f"{stem}.pem", [issued.certificate]),
        "chain": write_certificates(folder / f"{stem}.chain.pem", issued.chain or [issued.certificate]),
    }


def save_authority(folder: Path, root: CertificateAuthority, intermediate: CertificateAuthority) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_private_key(folder / f"{ROOT}.key", root.key)
    write_certificates(folder / f"{ROOT}.pem", [root.certificate])
    write_private_key(folder / f"{INTERMEDIATE}.key", intermediate.key)
    write_certificates(folder / f"{INTERMEDIATE}.pem", [intermediate.certificate])


def load_authority(folder: Path) -> tuple[CertificateAuthority, CertificateAuthority]:
    """(root, intermediate) from a CA folder; a clear error when the folder was never initialised."""
    folder = Path(folder)
    for stem in (ROOT, INTERMEDIATE):
        for ext in ("pem", "key"):
            if not (folder / f"{stem}.{ext}").is_file():
                raise ValidationFailed(f"{folder / f'{stem}.{ext}'} not found: run `connector ca init --dir {folder}`")
    root_cert = read_certificates(folder / f"{ROOT}.pem")[0]
    root = CertificateAuthority(key=read_private_key(folder / f"{ROOT}.key"), certificate=root_cert)
    inter = CertificateAuthority(
        key=read_private_key(folder / f"{INTERMEDIATE}.key"),
        certificate=read_certificates(folder / f"{INTERMEDIATE}.pem")[0],
        parents=(root_cert,),
    )
    return root, inter


def load_revocations(folder: Path) -> list[Revocation]:
    path = Path(folder) / REVOCATIONS
    if not path.is_file():
        return []
    data = json.loads(path.read_text())
    return [Revocation(serial=int(r["serial"], 16), revoked_at=datetime.fromisoformat(r["revokedAt"])) for r in data]


def save_revocations(folder: Path, revocations: Sequence[Revocation]) -> Path:
    path = Path(folder) / REVOCATIONS
    rows = [{"serial": f"{r.serial:x}", "revokedAt": r.revoked_at.isoformat()} for r in revocations]
    path.write_text(json.dumps(rows, indent=2) + "\n")
    return path
