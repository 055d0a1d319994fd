"""Object identifiers and vocabularies of the dataspace PKI.

The private arc ``1.3.6.1.4.1.59999`` is a placeholder private enterprise number used by this project for the
demo dataspace; a production dataspace operator replaces it with its own IANA-assigned PEN (one constant here).
"""

from __future__ import annotations

from enum import StrEnum

from cryptography.x509 import ObjectIdentifier

PRIVATE_ARC = "1.3.6.1.4.1.59999"

ROLE_OID = ObjectIdentifier(f"{PRIVATE_ARC}.1.1")
"""Non-critical extension on company certificates: DER ``UTF8String`` with the dataspace role."""

CFP_SIGNING_EKU = ObjectIdentifier(f"{PRIVATE_ARC}.1.2")
"""Extended key usage: signs CFP attestations, declarations and certification credentials."""


class Role(StrEnum):
    """The role a company plays in the dataspace, written into its certificate."""

    SUPPLIER = "supplier"
    OEM = "oem"
    VERIFIER = "verifier"
