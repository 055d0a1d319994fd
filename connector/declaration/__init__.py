"""The OEM's Art. 7 carbon footprint declaration, its declaration of conformity and passport exports. Pure."""

from .compute import (
    DECLARED_ROUNDING,
    compute_declaration,
    declared_coverage,
    performance_class,
    total_energy_kwh,
    verification_status,
)
from .doc import ConformityInput, DeclarationOfConformity, build_declaration_of_conformity, render_conformity_text
from .exports import to_battery_pass, to_catenax_battery_pass
from .html import render_conformity_html, render_declaration_html
from .models import (
    ART7_ITEMS,
    DEFAULT_CYCLES_PER_YEAR,
    AttestedCoverage,
    CertificationInput,
    Declaration,
    DeclarationInput,
    EnteredSupplier,
    PerformanceClassScheme,
    SupplierContributionInput,
    VerificationStatus,
)

__all__ = [
    "ART7_ITEMS",
    "DECLARED_ROUNDING",
    "DEFAULT_CYCLES_PER_YEAR",
    "AttestedCoverage",
    "CertificationInput",
    "ConformityInput",
    "Declaration",
    "DeclarationInput",
    "DeclarationOfConformity",
    "EnteredSupplier",
    "PerformanceClassScheme",
    "SupplierContributionInput",
    "VerificationStatus",
    "build_declaration_of_conformity",
    "compute_declaration",
    "declared_coverage",
    "performance_class",
    "render_conformity_html",
    "render_conformity_text",
    "render_declaration_html",
    "to_battery_pass",
    "to_catenax_battery_pass",
    "total_energy_kwh",
    "verification_status",
]
