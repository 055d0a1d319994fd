"""The Art. 7 declaration: pack footprint per stage divided by the total energy over the service life."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, localcontext

from ..decimals import EXACT, RoundingRule
from ..errors import ValidationFailed
from ..stages import STAGES, Stage, stage_map, stage_total
from .models import (
    STAGE_TITLES,
    AbsoluteFootprint,
    AttestedCoverage,
    BatteryModelInfo,
    CarbonFootprint,
    Certification,
    CertificationInput,
    Declaration,
    DeclarationInput,
    EnteredSupplier,
    FunctionalUnit,
    PerformanceClassResult,
    PerformanceClassScheme,
    PerformanceClassStatus,
    StageCoverage,
    StageFootprint,
    SupplierContribution,
    SupplierContributionInput,
    VerificationStatus,
)

DECLARED_ROUNDING = RoundingRule(6)
"""Declared kg CO2e/kWh figures: 6 decimal places, half-even (docs/decisions/0003-declaration-functional-unit.md)."""

SHARE_ROUNDING = RoundingRule(2)

_NAMESPACE = uuid.UUID("5b0c7a8e-2f43-4e59-9d0b-6f1d3c2a7e10")

NO_CLASSES_NOTE = (
    "No carbon footprint performance classes have been published yet (Regulation (EU) 2023/1542 Art. 7(2), "
    "Annex II point 8): the performance class is not yet defined."
)


def total_energy_kwh(inp: DeclarationInput) -> Decimal:
    """E_total = usable energy at beginning of life x full equivalent cycles per year x service life in years."""
    return EXACT.multiply(EXACT.multiply(inp.usable_energy_kwh, inp.effective_cycles_per_year), inp.service_life_years)


def performance_class(value: Decimal, scheme: PerformanceClassScheme | None) -> PerformanceClassResult:
    """The class whose inclusive upper bound first holds ``value``; "not yet defined" without a scheme."""
    if scheme is None:
        return PerformanceClassResult(
            performance_class=None, status=PerformanceClassStatus.NOT_YET_DEFINED, note=NO_CLASSES_NOTE
        )
    for boundary in scheme.boundaries:
        if boundary.up_to_kg_co2e_per_kwh is None or value <= boundary.up_to_kg_co2e_per_kwh:
            return PerformanceClassResult(
                performance_class=boundary.performance_class,
                status=PerformanceClassStatus.ASSIGNED,
                note=f"Class from configured boundaries ({scheme.source}), applied to the declared value.",
                scheme_source=scheme.source,
            )
    worst = scheme.boundaries[-1]
    raise ValidationFailed(
        f"declared footprint {value} kg CO2e/kWh is above the worst class {worst.performance_class!r} "
        f"(up to {worst.up_to_kg_co2e_per_kwh}) of {scheme.source!r}",
        errors=[{"field": "performanceClasses", "message": "value above every configured boundary"}],
    )


def verification_status(certifications: Iterable[CertificationInput | Certification]) -> VerificationStatus:
    """invalid if any certification is invalid; valid if there is at least one and all are valid."""
    statuses = [c.status for c in certifications]
    if VerificationStatus.INVALID in statuses:
        return VerificationStatus.INVALID
    if statuses and all(s is VerificationStatus.VALID for s in statuses):
        return VerificationStatus.VALID
    return VerificationStatus.NOT_VERIFIED


def compute_declaration(
    inp: DeclarationInput,
    pack_stages: Mapping[Stage, Decimal],
    *,
    supplier_contributions: Iterable[SupplierContributionInput] = (),
    certifications: Iterable[CertificationInput] = (),
    at: datetime,
    declaration_id: str | None = None,
    attested_coverage: AttestedCoverage | None = None,
) -> Declaration:
    """Compute the Art. 7(1) declaration from the declared product's footprint per stage (kg CO2e per battery).

    ``E_total = usable kWh x cycles per year x years``; each stage and the total are divided by it exactly, then
    rounded once, independently, to 6 decimal places half-even for the declared figure (the exact quotient is
    kept beside it), so the declared stages need not add up to the declared total in the last digit. Supplier
    lines give each direct supplier's contribution; certifications give the verification status;
    ``attested_coverage`` (see :func:`declared_coverage`) how much of it rests on attested values.

    Example::

        inp = DeclarationInput.model_validate(fixture["declaration"])   # 75 kWh, M1 (60 cycles), 8 years
        decl = compute_declaration(inp, {Stage.MAIN_PRODUCTION: Decimal("3600")}, at=datetime.now(UTC))
        decl.functional_unit.total_energy_kwh   # Decimal('36000')
        decl.carbon_footprint.value             # Decimal('0.100000')
        decl.model_dump(mode="json", by_alias=True)  # the credentialSubject of the signed declaration

    Raises ``ValidationFailed`` for a naive ``at``, an unknown stage, or a total above every configured class.
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValidationFailed("at: must be timezone-aware", errors=[{"field": "at", "message": "naive datetime"}])
    try:
        absolute = stage_map(pack_stages.items())
    except ValueError as exc:
        raise ValidationFailed(f"pack_stages: {exc}", errors=[{"field": "packStages", "message": str(exc)}]) from None
    total_abs = stage_total(absolute)
    energy = total_energy_kwh(inp)

    with localcontext(EXACT):
        per_kwh = {s: absolute[s] / energy for s in STAGES}
        total_exact = total_abs / energy

    declared_total = DECLARED_ROUNDING.apply(total_exact)
    stages = tuple(
        StageFootprint(
            stage=s,
            title=STAGE_TITLES[s],
            value=DECLARED_ROUNDING.apply(per_kwh[s]),
            exact_value=per_kwh[s],
            absolute_kg_co2e=absolute[s],
        )
        for s in STAGES
    )
    certs = tuple(Certification(**c.model_dump()) for c in certifications)
    return Declaration(
        id=declaration_id or _declaration_id(inp, at),
        issued_at=at,
        issuer_company_id=inp.issuer_company_id or inp.manufacturer.company_id,
        methodology=inp.methodology,
        methodology_url=inp.methodology_url,
        manufacturer=inp.manufacturer,
        battery_model=BatteryModelInfo(
            model_id=inp.battery_model,
            category=inp.battery_category,
            vehicle_category=inp.vehicle_category,
            pack_product_id=inp.pack_product_id,
        ),
        manufacturing_plant=inp.plant,
        carbon_footprint=CarbonFootprint(value=declared_total, exact_value=total_exact),
        stages=stages,
        declaration_of_conformity_id=inp.declaration_of_conformity_id,
        study_url=inp.study_url,
        declaration_url=inp.declaration_url,
        absolute_carbon_footprint=AbsoluteFootprint(value=total_abs),
        functional_unit=FunctionalUnit(
            usable_energy_kwh=inp.usable_energy_kwh,
            cycles_per_year=inp.effective_cycles_per_year,
            cycles_per_year_basis="default"
            if inp.effective_cycles_per_year == inp.default_cycles_per_year
            else "override",
            cycles_override_reason=inp.cycles_override_reason,
            service_life_years=inp.service_life_years,
            total_energy_kwh=energy,
        ),
        rounding=str(DECLARED_ROUNDING),
        performance_class=performance_class(declared_total, inp.performance_classes),
        supplier_contributions=tuple(_contribution(c, total_abs, energy) for c in supplier_contributions),
        certifications=certs,
        verification_status=verification_status(certs),
        attested_coverage=attested_coverage,
    )


def declared_coverage(
    stages: Mapping[Stage, Decimal],
    total: Decimal,
    *,
    entered_tier1: Iterable[EnteredSupplier] = (),
    entered_deeper_tiers: int = 0,
) -> AttestedCoverage:
    """The declaration's coverage section from the pack attestation's coverage (percent per stage and overall)."""
    tier1 = tuple(entered_tier1)
    full = not tier1 and entered_deeper_tiers == 0 and total == 100 and all(stages[s] == 100 for s in STAGES)
    return AttestedCoverage(
        stages=tuple(StageCoverage(stage=s, percent=stages[s]) for s in STAGES),
        total=total,
        fully_attested=full,
        entered_tier1=tier1,
        entered_deeper_tiers=entered_deeper_tiers,
    )


def _contribution(c: SupplierContributionInput, total_abs: Decimal, energy: Decimal) -> SupplierContribution:
    with localcontext(EXACT):
        kg = c.quantity * c.kg_co2e_per_declared_unit
        share = kg * 100 / total_abs if total_abs else Decimal(0)
        per_kwh = kg / energy
    return SupplierContribution(
        company_name=c.company_name,
        company_id=c.company_id,
        product_id=c.product_id,
        product_name=c.product_name,
        quantity=c.quantity,
        declared_unit=c.declared_unit,
        kg_co2e=kg,
        kg_co2e_per_kwh=DECLARED_ROUNDING.apply(per_kwh),
        share_percent=SHARE_ROUNDING.apply(share),
    )


def _declaration_id(inp: DeclarationInput, at: datetime) -> str:
    # Deterministic, so computing the same declaration twice gives the same id (and the same signed bytes).
    key = "|".join((inp.manufacturer.company_id, inp.battery_model, inp.plant.name, inp.plant.country, at.isoformat()))
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, key)}"
