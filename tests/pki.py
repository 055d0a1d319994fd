"""Throwaway dataspace PKI and attestation factories for tests (plain functions, in memory).

Nothing here is real key material; every call makes fresh keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from connector.attestation import (
    AttestationClaims,
    DataQuality,
    HiddenClaims,
    InputClaim,
    Methodology,
    ReferencePeriod,
    StageValues,
)
from connector.config import Settings
from connector.identity import (
    CertificateAuthority,
    Issued,
    Revocation,
    TrustStore,
    build_crl,
    create_intermediate_ca,
    create_root_ca,
    issue_company_certificate,
)
from connector.identity.files import write_certificates, write_private_key

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
"""The tests' "now": certificates are issued at T0 and valid for about 13 months."""

SUPPLIER_ID = "urn:pact:andes-lithium.example:company:andes-lithium"
CUSTOMER_ID = "urn:pact:kansai-precursor.example:company:kansai-precursor"
OEM_ID = "urn:pact:oem.example:company:oem"
VERIFIER_ID = "urn:pact:nb.example:company:notified-body-0042"
VERIFIER2_ID = "urn:pact:nb2.example:company:notified-body-0099"


@dataclass
class Pki:
    root: CertificateAuthority
    inter: CertificateAuthority

    def company(
        self,
        company_id: str,
        role: str,
        *,
        name: str | None = None,
        at: datetime = T0,
        validity: timedelta = timedelta(days=397),
    ) -> Issued:
        return issue_company_certificate(
            self.inter,
            company_id=company_id,
            name=name or company_id.rsplit(":", 1)[-1],
            role=role,
            at=at,
            validity=validity,
        )

    def crl(self, *revoked: tuple[Issued, datetime], at: datetime = T0) -> object:
        return build_crl(self.inter, [Revocation(i.certificate.serial_number, when) for i, when in revoked], at=at)

    def trust(self, *, crls: list | None = None) -> TrustStore:
        return TrustStore([self.root.certificate], crls or [])


def make_pki(name: str = "Test", at: datetime = T0) -> Pki:
    root = create_root_ca(f"{name} Root CA", at=at - timedelta(days=30))
    inter = create_intermediate_ca(root, f"{name} Issuing CA", at=at - timedelta(days=30))
    return Pki(root=root, inter=inter)


def stages(raw: str = "0", main: str = "0", dist: str = "0", eol: str = "0") -> StageValues:
    return StageValues(
        raw_material_acquisition=Decimal(raw),
        main_production=Decimal(main),
        distribution=Decimal(dist),
        end_of_life=Decimal(eol),
    )


def make_claims(issuer: str = SUPPLIER_ID, audience: str = CUSTOMER_ID, **overrides: object) -> AttestationClaims:
    data: dict[str, object] = dict(
        issuer=issuer,
        audience=audience,
        footprint_id="urn:uuid:6c1f0a64-45c4-4bd0-9a5c-6e2b7b0d1f10",
        product_ids=["urn:pact:andes-lithium.example:product:lioh-h2o-bg"],
        declared_unit="kilogram",
        stages=stages("15.2", "3.4431", "0.2", "-0.05"),
        total=Decimal("18.7931"),
        reference_period=ReferencePeriod(start=datetime(2025, 1, 1, tzinfo=UTC), end=datetime(2026, 1, 1, tzinfo=UTC)),
        methodology=Methodology(rule_set="EU-2023/1542-Art7", version="2025"),
        primary_data_share=Decimal("87.5"),
        data_quality=DataQuality(technological=Decimal("1.6"), geographical=Decimal("2"), temporal=Decimal("1.25")),
        rounding="decimal-places:12;half-even",
    )
    data.update(overrides)
    return AttestationClaims(**data)  # type: ignore[arg-type]


SECRET_OWN = ("9.876543", "1.2345678", "0.0314159", "-0.0271828")
SECRET_QTY = "1.5678901"


def make_hidden(upstream_digest: str = "A" * 43) -> HiddenClaims:
    return HiddenClaims(
        own_emissions=stages(*SECRET_OWN),
        inputs=[
            InputClaim(
                attestation_digest=upstream_digest,
                quantity=Decimal(SECRET_QTY),
                unit="kilogram",
                upstream=stages("7.777777", "0.333333"),
                declared_unit="kilogram",
            ),
        ],
    )


def write_node_files(pki: Pki, issued: Issued, folder: Path) -> dict[str, Path]:
    """A node's key, certificate chain (leaf first) and trust anchor as PEM files in ``folder``: the Settings fields
    ``key_file``, ``cert_file`` and ``trust_anchor_files`` point at them."""
    return {
        "key_file": write_private_key(folder / "node.key", issued.key),
        "cert_file": write_certificates(folder / "node.pem", list(issued.chain)),
        "trust_anchor": write_certificates(folder / "root.pem", [pki.root.certificate]),
    }


def signing_settings(folder: Path, company_id: str, name: str, pki_name: str = "Test") -> Settings:
    """Settings of a node that can sign (its own fresh PKI, files in ``folder``), workers off: for services driven in
    process. The certificate is valid from an hour ago, the CAs from a day ago."""
    pki = make_pki(pki_name, at=datetime.now(UTC) - timedelta(days=1))
    issued = pki.company(company_id, "supplier", name=name, at=datetime.now(UTC) - timedelta(hours=1))
    files = write_node_files(pki, issued, folder)
    return Settings(
        company_id=company_id,
        company_name=name,
        data_dir=folder,
        run_workers=False,
        cert_file=files["cert_file"],
        key_file=files["key_file"],
        trust_anchor_files=[files["trust_anchor"]],
    )
