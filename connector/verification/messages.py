"""The verifier's sentences by stable code (decision 0033): each check's ``detail`` is built from an English template
here and the check keeps the ``code`` and ``params`` it was built from, so that a reader in another language (the
console's Japanese pages) can say the same sentence from them.

A param is a string (an identifier, a number as the report prints it) or a list of phrases (each its own code and
params) that English joins with ``"; "``. The English ``detail`` is exactly what it was before the codes existed.
A check made with plain text (``node.fail(name, "...")``) has no code: it reads in English everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MESSAGES: dict[str, str] = {
    # format, structure
    "verify.format.not-sd-jwt": "not an SD-JWT attestation",
    "verify.format.payload-not-object": "JWS payload is not a JSON object",
    "verify.structure.attestation": "W3C VC 2.0 CfpAttestation, SD-JWT",
    "verify.structure.declaration": "W3C VC 2.0 BatteryCarbonFootprintDeclaration",
    "verify.structure.issuer-differs": "issuer, iss and issuerCompanyId differ",
    "verify.structure.iss-not-company": "iss %(iss)s is not the certificate's company id",
    "verify.structure.certifies": "certifies %(company)s, scope %(scope)s",
    # alg/typ
    "verify.alg-typ.ok": "%(alg)s, %(typ)s",
    "verify.alg-typ.failed": "%(problems)s",
    "verify.alg-typ.alg-not-allowed": "alg %(alg)s not allowed (allowed: %(allowed)s)",
    "verify.alg-typ.crit": "crit header not supported",
    "verify.alg-typ.key-header": "%(header)s header not accepted: keys come from x5c only",
    "verify.alg-typ.typ": "typ %(typ)s, expected %(expected)s",
    # signature
    "verify.signature.ok": "by the x5c leaf (%(signer)s)",
    "verify.signature.alg-not-allowed": "not checked: algorithm not allowed",
    "verify.signature.key-type": "x5c leaf key type not supported",
    "verify.signature.does-not-verify": "signature does not verify",
    "verify.signature.failed": "%(reason)s",
    # validity
    "verify.validity.ok": "issued %(iat)s",
    "verify.validity.ok-until": "issued %(iat)s until %(exp)s",
    "verify.validity.failed": "%(problems)s",
    "verify.validity.no-iat": "no integer iat",
    "verify.validity.future": "issued in the future (iat %(iat)s)",
    "verify.validity.no-nbf": "no integer nbf",
    "verify.validity.not-yet": "not yet valid (nbf %(nbf)s)",
    "verify.validity.no-exp": "no integer exp",
    "verify.validity.expired": "expired at %(exp)s (checked at %(at)s)",
    # certificate chain, role, revocation
    "verify.chain.ok": "to %(anchor)s at %(iat)s",
    "verify.chain.no-iat": "not checked: no signing time (iat)",
    "verify.chain.failed": "at the signing time %(iat)s: %(reason)s",
    "verify.chain.unreadable": "%(reason)s",
    "verify.role.ok": "%(role)s",
    "verify.role.wrong": "certificate role is %(role)s, expected %(expected)s",
    "verify.revocation.ok": "not revoked at %(iat)s",
    "verify.revocation.failed": "%(reason)s, signed at %(iat)s",
    "verify.crls.unreadable": "bundled CRL #%(index)s cannot be read",
    # total, arithmetic
    "verify.total.ok": "%(total)s = sum of the four stages",
    "verify.total.malformed": "stages or total missing or malformed",
    "verify.total.not-sum": "total %(total)s is not the sum of the stages %(sum)s",
    "verify.arithmetic.ok": "own + %(inputs)s input(s), %(rule)s: total %(total)s",
    "verify.arithmetic.cannot-recompute": "cannot recompute: %(reason)s",
    "verify.arithmetic.stages": "stages are not own + sum(quantity x upstream) with %(rule)s: %(stages)s",
    "verify.arithmetic.stage": "%(stage)s: stated %(stated)s, recomputed %(recomputed)s",
    "verify.arithmetic.total": "total %(stated)s is not %(recomputed)s",
    # audience, certification
    "verify.audience.ok": "issued to %(audience)s, used by %(user)s",
    "verify.audience.wrong": "issued to %(audience)s but used by %(user)s (%(company)s): "
    "an attestation may only be used by the company it was issued to",
    "verify.binding.certifies": "certifies %(company)s, attestation %(attestation)s",
    "verify.binding.not-issuer": "certifiedCompany %(company)s is not the issuer %(issuer)s of attestation "
    "%(attestation)s",
    "verify.binding.no-match": "certifies attestation digest %(digest)s of %(company)s, which matches no attestation "
    "in the bundle",
    "verify.binding.not-visible": "its attestation is not visible (evidence not opened): not bound, not trusted",
    "verify.certification.ok": "certified by %(verifier)s (%(company)s) until %(until)s, scope: %(scope)s",
    # the tree: inputs bound to upstream attestations
    "verify.input-binding.ok": "input %(index)s is attestation %(attestation)s of %(company)s",
    "verify.input-binding.not-bundled": "input %(index)s (%(quantity)s %(unit)s) names upstream attestation "
    "%(digest)s, which is not in the evidence",
    "verify.upstream-values.ok": "input %(index)s matches %(company)s's clear claims",
    "verify.upstream-values.unreadable": "input %(index)s: the upstream attestation's claims cannot be read",
    "verify.upstream-values.differ": "input %(index)s uses %(used)s per %(unit)s, but %(company)s's attestation says "
    "%(stated)s per %(stated_unit)s",
    "verify.upstream-binding.unused": "upstream attestation %(attestation)s of %(company)s is in the evidence but no "
    "input uses it (swapped or extra attestation)",
    "verify.cycle.attestation": "attestation %(digest)s appears twice on one path of the evidence tree (used again "
    "by %(user)s)",
    "verify.cycle.package": "evidence package %(package)s is referenced twice on one path of the evidence tree (again "
    "by %(user)s)",
    "verify.depth.too-deep": "evidence tree deeper than %(tiers)s tiers",
    "verify.visits.too-many": "the evidence graph reaches more than %(per)s attestations per bundled package "
    "(%(packages)s packages): packages named again and again from many paths; not verified further",
    "verify.packages.ok": "%(count)s package(s), each referenced by the tree",
    "verify.packages.not-checked": "%(count)s package(s); %(unreferenced)s not referenced by any package opened, "
    "%(hidden)s package(s) not opened: not checked",
    "verify.packages.unused": "%(unused)s of %(count)s package(s) referenced by no attestation of the tree (bundled "
    "unused): %(shown)s",
    # evidence
    "verify.evidence.opened": "opened",
    "verify.evidence.unreadable": "evidence package of %(company)s cannot be read: %(reason)s",
    "verify.evidence.no-package": "no evidence package for this attestation of %(company)s",
    "verify.evidence.package-not-bundled": "its evidence package %(package)s is not in the bundle",
    "verify.evidence.certified": "%(why)s; trusted on its certification",
    "verify.evidence.missing": "evidence missing: %(why)s",
    "verify.evidence.undecryptable": "evidence of %(company)s is sealed to this verifier but cannot be decrypted: "
    "%(reason)s",
    "verify.evidence.sealed-certified": "sealed for %(names)s; trusted on its certification",
    "verify.evidence.sealed-for-another": "evidence sealed for another verifier (%(names)s), not for %(verifier)s: "
    "%(reason)s",
    "verify.evidence-binding.ok": "the package holds this attestation",
    "verify.evidence-binding.other": "the evidence package is for attestation %(digest)s, not this one",
    "verify.disclosures.ok": "%(count)s disclosures, each committed in the attestation",
    # coverage, entered inputs
    "verify.coverage.ok": "%(total)s %% attested, %(entered)s entered input(s) in the tree",
    "verify.coverage.cannot-recompute": "cannot recompute: %(reason)s",
    "verify.coverage.no-claim": "no attestedCoverage claim, but it rests on entered values: %(recomputed)s",
    "verify.coverage.differs": "attestedCoverage claims %(claimed)s, recomputed %(recomputed)s",
    "verify.coverage.entered-differs": "enteredInputs claims %(claimed)s, recomputed %(recomputed)s",
    "verify.entered.input": "input %(index)s (%(quantity)s %(unit)s) is an entered value, not attested: "
    "%(kind)s, supplier %(supplier)s, entered by %(by)s at %(at)s",
    "verify.attested.entered-input": "input %(index)s (%(quantity)s %(unit)s) is an entered value (%(kind)s, "
    "supplier %(supplier)s, entered by %(by)s at %(at)s); attested inputs are required",
    "verify.attested.entered-below": "%(count)s entered input(s) in the tree below (its enteredInputs claim); "
    "attested inputs are required",
    "verify.document.none": "input %(index)s (%(quantity)s %(unit)s): no source document was recorded",
    "verify.document.not-sealed": "input %(index)s (%(quantity)s %(unit)s): only the digest %(digest)s of its source "
    "document is known (not sealed)",
    "verify.document.unreadable": "input %(index)s (%(quantity)s %(unit)s): %(reason)s",
    "verify.document.mismatch": "input %(index)s (%(quantity)s %(unit)s): the sealed source document hashes to "
    "%(actual)s, not its digest %(digest)s",
    "verify.document.ok": "input %(index)s (%(quantity)s %(unit)s): source document (%(media)s, %(size)s bytes) "
    "matches %(digest)s",
    "verify.documents.unnamed": "the evidence holds a document %(digest)s that no entered input names",
    # the declaration's figures and certifications
    "verify.pack-binding.ok": "packAttestationDigest = digest of %(company)s's attestation",
    "verify.pack-binding.other": "packAttestationDigest %(digest)s is not the bundled pack attestation's digest "
    "%(bundled)s",
    "verify.pack-product.ok": "%(product)s is the attested product",
    "verify.pack-product.other": "declared pack product %(product)s is not among the attestation's productIds %(ids)s",
    "verify.absolute-stages.ok": "= the pack attestation's stages (total %(total)s kg CO2e per %(unit)s)",
    "verify.absolute-stages.unreadable": "not checked: the pack attestation's claims cannot be read",
    "verify.absolute-stages.failed": "%(problems)s",
    "verify.absolute-stages.stage": "%(stage)s: declared %(declared)s kg, pack attestation %(pack)s",
    "verify.absolute-stages.total": "total: declared %(declared)s kg, pack attestation %(pack)s",
    "verify.absolute-stages.count": "%(count)s stages declared, expected %(expected)s",
    "verify.declared-certifications.ok": "%(count)s listed, each valid one backed by a credential",
    "verify.declared-certifications.unbacked": "listed as valid without a valid certification credential in the "
    "bundle: %(entries)s",
    "verify.declared-certifications.entry": "tier %(tier)s %(company)s (%(id)s) by %(verifier)s",
    "verify.per-kwh.ok": "%(footprint)s kg CO2e/kWh over %(energy)s kWh",
    "verify.per-kwh.cannot-recompute": "the declaration's own inputs do not recompute: %(reason)s",
    "verify.per-kwh.failed": "%(problems)s",
    "verify.per-kwh.rounding": "rounding %(rounding)s, expected %(expected)s",
    "verify.per-kwh.energy": "total energy %(stated)s kWh, recomputed %(recomputed)s",
    "verify.per-kwh.footprint": "carbonFootprint %(stated)s, recomputed %(recomputed)s",
    "verify.per-kwh.stage": "%(stage)s %(stated)s kg CO2e/kWh, recomputed %(recomputed)s",
    "verify.per-kwh.contribution": "supplier contribution %(company)s: %(stated)s kg CO2e/kWh (%(share)s %%), "
    "recomputed %(recomputed)s (%(recomputed_share)s %%)",
    # declared coverage
    "verify.declared-coverage.ok": "%(total)s %% attested, as the pack attestation claims",
    "verify.declared-coverage.none": "the declaration states no coverage; the pack is %(total)s %% attested",
    "verify.declared-coverage.failed": "%(problems)s",
    "verify.declared-coverage.stage": "%(stage)s %(declared)s %% (pack: %(pack)s %%)",
    "verify.declared-coverage.total": "total %(declared)s %% (pack: %(pack)s %%)",
    "verify.declared-coverage.entered": "%(declared)s entered values below tier 1 (pack: %(pack)s)",
    "verify.declared-coverage.fully-attested": "fullyAttested %(value)s",
}
"""code -> English template (``%(name)s`` params; a literal percent sign is ``%%``). The console's catalog holds
each code's Japanese under the same code (its ``msgctxt``), with this template as its ``msgid``."""


@dataclass(frozen=True, slots=True)
class Said:
    """A sentence of :data:`MESSAGES`: its code and params (strings, or lists of phrases as plain dicts)."""

    code: str
    params: dict[str, Any]

    @property
    def text(self) -> str:
        return english(self.code, self.params)


def said(code: str, **params: object) -> Said:
    """The sentence ``code`` with ``params``: each a string (``str()`` of what is given, as an f-string would print
    it) or, for a list of :class:`Said`, the list of their phrases."""
    values: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, list | tuple) and value and all(isinstance(p, Said) for p in value):
            values[name] = [{"code": p.code, "params": p.params} for p in value]
        else:
            values[name] = str(value)
    if code not in MESSAGES:
        raise KeyError(code)
    return Said(code, values)


def english(code: str, params: Mapping[str, Any] | None) -> str:
    """The English sentence of ``code`` with ``params`` (a list param joined with ``"; "``)."""
    template = MESSAGES[code]
    if not params:
        return template
    values = {
        k: "; ".join(english(p["code"], p.get("params")) for p in v) if isinstance(v, list) else v
        for k, v in params.items()
    }
    return template % values
