"""Identity: keys, the dataspace CA, certificates, CRLs and the trust store.

The only package that touches ``cryptography.hazmat`` and ``cryptography.x509`` directly.
"""

from __future__ import annotations

from .ca import (
    CertificateAuthority,
    Issued,
    Revocation,
    build_crl,
    company_id_of,
    create_intermediate_ca,
    create_root_ca,
    issue_company_certificate,
    issue_tls_certificate,
    name_of,
    role_of,
)
from .files import load_trust_store
from .keys import (
    PrivateKey,
    PublicKey,
    certificate_thumbprint,
    generate_key,
    load_certificate,
    load_certificates,
    load_crl,
    load_private_key,
    x5c_decode,
    x5c_encode,
)
from .oids import CFP_SIGNING_EKU, ROLE_OID, Role
from .trust import CompanyIdentity, TrustStore

__all__ = [
    "CFP_SIGNING_EKU",
    "ROLE_OID",
    "CertificateAuthority",
    "CompanyIdentity",
    "Issued",
    "PrivateKey",
    "PublicKey",
    "Revocation",
    "Role",
    "TrustStore",
    "build_crl",
    "certificate_thumbprint",
    "company_id_of",
    "create_intermediate_ca",
    "create_root_ca",
    "generate_key",
    "issue_company_certificate",
    "issue_tls_certificate",
    "load_certificate",
    "load_certificates",
    "load_crl",
    "load_private_key",
    "load_trust_store",
    "name_of",
    "role_of",
    "x5c_decode",
    "x5c_encode",
]
