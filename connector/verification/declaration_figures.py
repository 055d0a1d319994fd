"""The declaration figures: the declaration credential's numbers against the pack attestation and its own inputs.

``pack binding`` (``packAttestationDigest`` is the bundled pack attestation's), ``pack product``, ``absolute stages``
(= the pack attestation's stages and total), ``per-kWh recompute`` (functional unit, per-kWh stages and supplier
contributions recomputed from the declaration's own inputs) and ``declared certifications`` (each tier listed as
certified is backed by a valid credential in the bundle).
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from pydantic import ValidationError

from ..aggregation import claimed_coverage, claimed_entered
from ..attestation.models import AttestationClaims
from ..decimals import EXACT, format_decimal
from ..declaration.compute import DECLARED_ROUNDING, SHARE_ROUNDING, compute_declaration
from ..declaration.models import Declaration, DeclarationInput, VerificationStatus
from ..errors import ConnectorError
from ..stages import STAGES
from .messages import Said, said
from .report import CertificationResult, VerificationNode


def check_pack(
    root: VerificationNode,
    declaration: Declaration | None,
    pack_digest: str | None,
    pack: VerificationNode,
    pack_claims: AttestationClaims | None,
) -> None:
    """``pack binding``, then (with the declaration) ``pack product`` and the figures."""
    if pack_digest is not None:
        if pack_digest == pack.digest:
            root.ok("pack binding", said("verify.pack-binding.ok", company=pack.company_name))
        else:
            root.fail("pack binding", said("verify.pack-binding.other", digest=pack_digest, bundled=pack.digest))
    if declaration is None:
        return
    if pack_claims is None:
        root.fail("absolute stages", said("verify.absolute-stages.unreadable"))
        return
    product = declaration.battery_model.pack_product_id
    if product in pack_claims.product_ids:
        root.ok("pack product", said("verify.pack-product.ok", product=product))
    else:
        root.fail("pack product", said("verify.pack-product.other", product=product, ids=pack_claims.product_ids))
    check_figures(root, declaration, pack_claims)
    check_declared_coverage(root, declaration, pack_claims)


def check_declared_coverage(root: VerificationNode, d: Declaration, pack: AttestationClaims) -> None:
    """``declared coverage``: the declaration's attested coverage is the pack attestation's claim, and its deeper
    tiers count is the pack attestation's entered inputs (declarations made before issue 17 state none: not checked
    unless the pack rests on entered values)."""
    coverage, entered = claimed_coverage(pack), claimed_entered(pack)
    declared = d.attested_coverage
    if declared is None:
        if coverage.full and entered == 0:
            return
        root.fail("declared coverage", said("verify.declared-coverage.none", total=coverage.total))
        return
    stages = {c.stage: c.percent for c in declared.stages}
    problems = [
        said("verify.declared-coverage.stage", stage=s.value, declared=stages.get(s), pack=coverage.stages[s])
        for s in STAGES
        if stages.get(s) != coverage.stages[s]
    ]
    if declared.total != coverage.total:
        problems.append(said("verify.declared-coverage.total", declared=declared.total, pack=coverage.total))
    if declared.entered_deeper_tiers != entered:
        problems.append(said("verify.declared-coverage.entered", declared=declared.entered_deeper_tiers, pack=entered))
    full = coverage.full and entered == 0 and not declared.entered_tier1
    if declared.fully_attested != full:
        problems.append(said("verify.declared-coverage.fully-attested", value=declared.fully_attested))
    if problems:
        root.fail("declared coverage", said("verify.declared-coverage.failed", problems=problems))
    else:
        root.ok("declared coverage", said("verify.declared-coverage.ok", total=format_decimal(declared.total)))


def declaration_input(d: Declaration) -> DeclarationInput:
    """The inputs a declaration was computed from, as the declaration states them."""
    fu = d.functional_unit
    return DeclarationInput(
        issuer_company_id=d.issuer_company_id,
        manufacturer=d.manufacturer,
        battery_model=d.battery_model.model_id,
        battery_category=d.battery_model.category,
        vehicle_category=d.battery_model.vehicle_category,
        plant=d.manufacturing_plant,
        pack_product_id=d.battery_model.pack_product_id,
        usable_energy_kwh=fu.usable_energy_kwh,
        cycles_per_year=fu.cycles_per_year,
        cycles_override_reason=fu.cycles_override_reason,
        service_life_years=fu.service_life_years,
        declaration_of_conformity_id=d.declaration_of_conformity_id,
        study_url=d.study_url,
        methodology=d.methodology,
        methodology_url=d.methodology_url,
        declaration_url=d.declaration_url,
    )


def check_figures(root: VerificationNode, d: Declaration, pack: AttestationClaims) -> None:
    _check_absolute_stages(root, d, pack)
    _check_per_kwh(root, d, pack)


def _check_absolute_stages(root: VerificationNode, d: Declaration, pack: AttestationClaims) -> None:
    stated = pack.stages.as_dict()
    wrong = [
        said(
            "verify.absolute-stages.stage",
            stage=s.value,
            declared=format_decimal(d.stage(s).absolute_kg_co2e),
            pack=format_decimal(stated[s]),
        )
        for s in STAGES
        if d.stage(s).absolute_kg_co2e != stated[s]
    ]
    if d.absolute_carbon_footprint.value != pack.total:
        declared = format_decimal(d.absolute_carbon_footprint.value)
        wrong.append(said("verify.absolute-stages.total", declared=declared, pack=format_decimal(pack.total)))
    if len(d.stages) != len(STAGES):
        wrong.append(said("verify.absolute-stages.count", count=len(d.stages), expected=len(STAGES)))
    if wrong:
        root.fail("absolute stages", said("verify.absolute-stages.failed", problems=wrong))
    else:
        root.ok(
            "absolute stages",
            said("verify.absolute-stages.ok", total=format_decimal(pack.total), unit=pack.declared_unit),
        )


def _check_per_kwh(root: VerificationNode, d: Declaration, pack: AttestationClaims) -> None:
    try:
        recomputed = compute_declaration(
            declaration_input(d), pack.stages.as_dict(), at=d.issued_at, declaration_id=d.id
        )
    except (ValidationError, ConnectorError) as exc:
        detail = exc.detail if isinstance(exc, ConnectorError) else exc.errors()[0]["msg"]
        root.fail("per-kWh recompute", said("verify.per-kwh.cannot-recompute", reason=detail))
        return
    problems = []
    if d.rounding != str(DECLARED_ROUNDING):
        problems.append(said("verify.per-kwh.rounding", rounding=repr(d.rounding), expected=DECLARED_ROUNDING))
    energy = recomputed.functional_unit.total_energy_kwh
    if d.functional_unit.total_energy_kwh != energy:
        stated = format_decimal(d.functional_unit.total_energy_kwh)
        problems.append(said("verify.per-kwh.energy", stated=stated, recomputed=format_decimal(energy)))
    mine, theirs = d.carbon_footprint, recomputed.carbon_footprint
    if (mine.value, mine.exact_value) != (theirs.value, theirs.exact_value):
        pair = {"stated": format_decimal(mine.value), "recomputed": format_decimal(theirs.value)}
        problems.append(said("verify.per-kwh.footprint", **pair))
    for s in STAGES:
        stage, again = d.stage(s), recomputed.stage(s)
        if (stage.value, stage.exact_value) != (again.value, again.exact_value):
            pair = {"stated": format_decimal(stage.value), "recomputed": format_decimal(again.value)}
            problems.append(said("verify.per-kwh.stage", stage=s.value, **pair))
    problems += _contribution_problems(d, energy)
    if problems:
        root.fail("per-kWh recompute", said("verify.per-kwh.failed", problems=problems))
    else:
        footprint = format_decimal(d.carbon_footprint.value)
        root.ok("per-kWh recompute", said("verify.per-kwh.ok", footprint=footprint, energy=format_decimal(energy)))


def _contribution_problems(d: Declaration, energy: Decimal) -> list[Said]:
    """Each supplier contribution's per-kWh value and share, recomputed over ``energy``."""
    problems = []
    total_abs = d.absolute_carbon_footprint.value
    with localcontext(EXACT):
        for c in d.supplier_contributions:
            per_kwh = DECLARED_ROUNDING.apply(c.kg_co2e / energy)
            share = SHARE_ROUNDING.apply(c.kg_co2e * 100 / total_abs) if total_abs else Decimal(0)
            if c.kg_co2e_per_kwh != per_kwh or c.share_percent != share:
                problems.append(
                    said(
                        "verify.per-kwh.contribution",
                        company=c.company_name,
                        stated=format_decimal(c.kg_co2e_per_kwh),
                        share=format_decimal(c.share_percent),
                        recomputed=format_decimal(per_kwh),
                        recomputed_share=format_decimal(share),
                    )
                )
    return problems


def check_declared_certifications(root: VerificationNode, d: Declaration, results: list[CertificationResult]) -> None:
    backed = {r.certified_company for r in results if r.status in ("valid", "unbound")}
    missing = [
        said(
            "verify.declared-certifications.entry",
            tier=c.tier,
            company=c.company_name,
            id=c.company_id or "no company id",
            verifier=c.verifier,
        )
        for c in d.certifications
        if c.tier > 0 and c.status is VerificationStatus.VALID and c.company_id not in backed
    ]
    if missing:
        root.fail("declared certifications", said("verify.declared-certifications.unbacked", entries=missing))
    elif d.certifications:
        root.ok("declared certifications", said("verify.declared-certifications.ok", count=len(d.certifications)))
