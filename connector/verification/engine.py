"""The verifier: checks a whole evidence bundle, offline, and returns a report (never a bare bool).

For every signed object (the declaration, each attestation, each certification) the checks are run one by one so
the report can say which failed: ``alg/typ``, ``certificate chain`` (path to an anchor at the signing time),
``role``, ``revocation`` (CRLs at the signing time), ``signature``, ``validity`` (``iat``/``exp`` against ``at``),
``structure``. Then, per attestation: ``total``, ``audience`` (bound to the company that uses it), ``certification``,
and with the verifier's key ``evidence`` (opened?), ``evidence binding``, ``disclosures`` (every digest committed),
``input binding`` (each input's ``attestationDigest`` is a bundled upstream attestation), ``upstream values`` (the
disclosed upstream stages and unit are that attestation's clear claims), ``upstream binding`` (nothing bundled
unused), ``arithmetic`` (stages = own + Σ convert(quantity) × upstream, rounded with the declared rule), ``cycle``
(an attestation or a package id twice on one path). At the top: the declaration's ``pack binding``, ``pack product``,
``absolute stages``, ``per-kWh recompute``, ``declared certifications`` and ``packages`` (with everything opened,
every package of the bundle is referenced by the pack or an opened package: nothing bundled unused).

Evidence is flat (decision 0004, bundle v2): the bundle maps random package ids to packages, and each opened
package names its upstream attestations' packages by id; the walk follows the ids.

Pure: no I/O; the caller passes the trust store, the time and (optionally) the verifier's key.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any

from cryptography import x509
from pydantic import ValidationError

from ..aggregation.engine import combine_stages
from ..attestation.attestation import (
    ATTESTING_ROLES,
    CheckedPayload,
    attestation_digest,
    check_payload,
    open_disclosures,
    presented_disclosures,
)
from ..attestation.certification_credential import CERTIFICATION_TYP, CertificationCheck, decode_certification
from ..attestation.evidence import (
    Evidence,
    EvidenceContent,
    MalformedEvidence,
    NotARecipient,
    UpstreamPackage,
    evidence_of,
    open_evidence,
    recipients_of,
)
from ..attestation.jws import (
    ALLOWED_ALGS,
    checked_header,
    decode_compact,
    payload_object,
    verify_signature,
    x5c_chain,
)
from ..attestation.models import SD_JWT_TYP, AttestationClaims, SealedEvidence, StageValues
from ..decimals import EXACT, RoundingRule, format_decimal, parse_decimal
from ..declaration.compute import DECLARED_ROUNDING, SHARE_ROUNDING, compute_declaration
from ..declaration.models import Declaration, DeclarationInput, VerificationStatus
from ..declaration.signing import (
    DECLARATION_TYP,
    EvidenceBundle,
    parse_declaration_payload,
    token_digest,
)
from ..errors import ConnectorError, InvalidSignature, TrustError
from ..gc_pause import gc_paused
from ..identity.ca import company_id_of, name_of
from ..identity.keys import PrivateKey, certificate_thumbprint, load_crl
from ..identity.oids import Role
from ..identity.trust import CompanyIdentity, TrustStore
from ..prevalidated import instance
from ..stages import STAGES
from ..strict_json import strict_json_loads
from ..units import convert
from .report import (
    CertificationResult,
    EvidenceStatus,
    InputSummary,
    VerificationNode,
    VerificationReport,
    pack_node,
    unpack_node,
)

MAX_DEPTH = 32
"""Deeper evidence trees are refused: real battery chains have 5-8 tiers."""
VISITS_SLACK = 256
VISITS_PER_PACKAGE = 16
"""The walk visits at most this many attestations per bundled package (plus :data:`VISITS_SLACK`): flat evidence is a graph, and a
package reached from several parents (one supplier attestation used by two products of its customer that both end
in the pack) is verified once per path. Honest sharing stays far below this; without a bound, a few thousand crafted
packages naming the same packages again at every level would cost width^depth visits. With it, a bundle costs at
most this many times an honest bundle of as many packages."""

PARALLEL_MIN_ATTESTATIONS = 200
"""Below about this many packages in the bundle, it is verified in this process (see ``workers``)."""

VerifierCert = x509.Certificate | Sequence[x509.Certificate]


# --- one signed object, check by check ----------------------------------------------------------------------------


_NAMES: dict[int, tuple[x509.Certificate, str, str]] = {}


def _names(cert: x509.Certificate) -> tuple[str, str]:
    """(name_of, RFC 4514 subject) of a certificate, remembered: a bundle names the same few certificates per
    attestation (x5c leaf, anchor), and formatting a Name costs more than checking a signature's bookkeeping.

    Keyed by the object's identity (the remembered x5c chains hand out the same objects), not by its DER, which a
    dict lookup would hash on every call; the entry holds the certificate, so its id cannot be reused meanwhile."""
    hit = _NAMES.get(id(cert))
    if hit is None or hit[0] is not cert:
        if len(_NAMES) >= 4096:
            _NAMES.clear()
        hit = _NAMES[id(cert)] = (cert, name_of(cert), cert.subject.rfc4514_string())
    return hit[1], hit[2]


@dataclass
class _Signed:
    ok: bool
    payload: dict[str, Any]
    identity: CompanyIdentity | None = None
    signed_at: datetime | None = None


def _numeric(payload: dict[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass
class _Ctx:
    trust: TrustStore
    path_trust: TrustStore
    at: datetime
    key: PrivateKey | None = None
    cert: x509.Certificate | None = None
    verifier_id: str | None = None
    packages: Mapping[str, SealedEvidence | dict[str, Any]] = field(default_factory=dict)
    """The bundle's evidence packages by id (flat)."""
    certs: dict[str, list[tuple[CertificationCheck, VerificationNode]]] = field(default_factory=dict)
    bound: set[str] = field(default_factory=set)
    claims: dict[str, AttestationClaims] = field(default_factory=dict)
    workers: int = 1
    visits: int = 0
    """Attestations visited so far (see :data:`VISITS_PER_PACKAGE`)."""
    bindings: list[tuple[str, int, str]] = field(default_factory=list)
    """(digest, index in ``certs[digest]``, detail) of each certification bound, in walk order (parallel merge)."""
    opened: dict[str, EvidenceContent | InvalidSignature] = field(default_factory=dict)
    """Each package opened once per walk (by id), or why it could not be: the map does not change during a walk, and
    a package named from many places (shared suppliers, or a crafted bundle naming one big package again and again)
    must not be decrypted and parsed once per mention."""

    def open_package(self, package_id: str, package: SealedEvidence | dict[str, Any]) -> EvidenceContent:
        """:func:`open_evidence` of a bundled package, remembered (the outcome, content or error) by id."""
        known = self.opened.get(package_id)
        if known is None:
            assert self.key is not None and self.cert is not None
            try:
                known = open_evidence(package, self.key, self.cert)
            except InvalidSignature as exc:  # NotARecipient included
                known = exc
            self.opened[package_id] = known
        if isinstance(known, InvalidSignature):
            raise known
        return known

    def signed(
        self, node: VerificationNode, token: str, *, typ: str, roles: Iterable[Role], require_exp: bool = False
    ) -> _Signed:
        """The JWS checks, each reported under its own name. The identity comes only from the validated chain."""
        roles = frozenset(roles)
        try:
            jws = decode_compact(token)
        except InvalidSignature as exc:
            node.fail("format", exc.reason)
            return _Signed(ok=False, payload={})
        try:
            payload = payload_object(jws)
        except InvalidSignature:
            node.fail("format", "JWS payload is not a JSON object")
            return _Signed(ok=False, payload={})
        if isinstance(payload.get("iss"), str):
            node.company = payload["iss"]  # claimed, replaced by the certificate's once the chain validates
        ok = True

        header = jws.header
        alg = header.get("alg")
        problems = []
        if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
            problems.append(f"alg {alg!r} not allowed (allowed: {', '.join(sorted(ALLOWED_ALGS))})")
        if "crit" in header:
            problems.append("crit header not supported")
        problems += [f"{h} header not accepted: keys come from x5c only" for h in ("jwk", "jku", "x5u") if h in header]
        actual_typ = header.get("typ")
        if not isinstance(actual_typ, str) or actual_typ.lower().removeprefix("application/") != typ:
            problems.append(f"typ {actual_typ!r}, expected {typ!r}")
        if problems:
            node.fail("alg/typ", "; ".join(problems))
            ok = False
        else:
            node.ok("alg/typ", f"{alg}, {typ}")

        try:
            # A header that passes verify_jws's checks is parsed once per process (its chain then hits the trust
            # store's path cache by identity); any other is looked at member by member for the report.
            checked = checked_header(token.partition(".")[0])
            chain, leaf_key = checked.chain, checked.leaf_key
        except InvalidSignature:
            try:
                chain, leaf_key = x5c_chain(header.get("x5c"))
            except InvalidSignature as exc:
                node.fail("certificate chain", exc.reason)
                return _Signed(ok=False, payload=payload)
        node.company_name = _names(chain[0])[0]

        if isinstance(alg, str) and alg in ALLOWED_ALGS:
            if leaf_key is None:
                node.fail("signature", "x5c leaf key type not supported")
                ok = False
            else:
                try:
                    verify_signature(alg, leaf_key, jws.signing_input, jws.signature)
                    node.ok("signature", f"by the x5c leaf ({_names(chain[0])[1]})")
                except InvalidSignature as exc:
                    node.fail("signature", exc.reason)
                    ok = False
        else:
            node.fail("signature", "not checked: algorithm not allowed")
            ok = False

        iat = _numeric(payload, "iat")
        exp = _numeric(payload, "exp")
        nbf = _numeric(payload, "nbf")
        skew = self.trust.clock_skew
        validity = []
        if iat is None:
            validity.append("no integer iat")
        elif iat > self.at + skew:
            validity.append(f"issued in the future (iat {iat.isoformat()})")
        if nbf is None and payload.get("nbf") is not None:
            validity.append("no integer nbf")
        elif nbf is not None and nbf > self.at + skew:
            validity.append(f"not yet valid (nbf {nbf.isoformat()})")
        if exp is None and (require_exp or "exp" in payload):
            validity.append("no integer exp")
        elif exp is not None and exp <= self.at:
            validity.append(f"expired at {exp.isoformat()} (checked at {self.at.isoformat()})")
        if validity:
            node.fail("validity", "; ".join(validity))
            ok = False
        else:
            until = f" until {exp.isoformat()}" if exp else ""
            node.ok("validity", f"issued {iat.isoformat() if iat else '?'}{until}")

        if iat is None:
            node.fail("certificate chain", "not checked: no signing time (iat)")
            return _Signed(ok=False, payload=payload)
        try:
            identity = self.path_trust.validate(chain, at=iat, role=None)
        except TrustError as exc:
            node.fail("certificate chain", f"at the signing time {iat.isoformat()}: {exc.reason}")
            return _Signed(ok=False, payload=payload, signed_at=iat)
        node.ok("certificate chain", f"to {_names(identity.chain[-1])[1]} at {iat.isoformat()}")
        node.company, node.company_name = identity.company_id, identity.name

        if identity.role not in roles:
            wanted = " or ".join(sorted(r.value for r in roles))
            node.fail("role", f"certificate role is {identity.role.value}, expected {wanted}")
            ok = False
        else:
            node.ok("role", identity.role.value)
        try:
            self.trust.check_revocation(identity.chain, iat)
            node.ok("revocation", f"not revoked at {iat.isoformat()}")
        except TrustError as exc:
            node.fail("revocation", f"{exc.reason}, signed at {iat.isoformat()}")
            ok = False
        if payload.get("iss") != identity.company_id:
            node.fail("structure", f"iss {payload.get('iss')!r} is not the certificate's company id")
            ok = False
        return _Signed(ok=ok, payload=payload, identity=identity, signed_at=iat)


# --- attestations ---------------------------------------------------------------------------------------------------


def _peek_claims(payload: dict[str, Any]) -> AttestationClaims | None:
    subject = payload.get("credentialSubject")
    if not isinstance(subject, dict):
        return None
    data = {k: v for k, v in subject.items() if k != "_sd"}
    try:
        return AttestationClaims.model_validate({**data, "issuer": payload.get("iss"), "audience": payload.get("aud")})
    except (ValidationError, ConnectorError):
        return None


def _peek(node: VerificationNode, issuer_jwt: str) -> None:
    """Name an attestation that is not verified (cycle, visit budget) from its unverified payload, for the report."""
    try:
        payload = strict_json_loads(decode_compact(issuer_jwt).payload)
        node.company = payload.get("iss") if isinstance(payload, dict) else None
        _fill(node, payload if isinstance(payload, dict) else {}, None)
    except (InvalidSignature, ValueError, UnicodeDecodeError):
        pass


def _fill(node: VerificationNode, payload: dict[str, Any], claims: AttestationClaims | None) -> None:
    if isinstance(payload.get("jti"), str):
        node.attestation_id = payload["jti"]
    if isinstance(payload.get("aud"), str):
        node.audience = payload["aud"]
    if claims is not None:
        node.footprint_id = claims.footprint_id
        node.product_ids = list(claims.product_ids)
        node.declared_unit = claims.declared_unit
        node.stages = {s.value: format_decimal(v) for s, v in claims.stages.as_dict().items()}
        node.total = format_decimal(claims.total)


def _stage_text(values: StageValues | dict[Any, Decimal]) -> str:
    items = values.as_dict() if isinstance(values, StageValues) else values
    return ", ".join(f"{getattr(s, 'value', s)}={format_decimal(v)}" for s, v in items.items())


def _check_total(
    node: VerificationNode, payload: dict[str, Any], claims: AttestationClaims | None, checked: bool = False
) -> bool:
    """The ``total`` check; ``checked``: ``claims`` passed check_payload, which refuses a total that is not the sum."""
    if checked and claims is not None:
        node.ok("total", f"{format_decimal(claims.total)} = sum of the four stages")
        return True
    if claims is not None:  # validated from this very subject: its stages and total are the same values
        stages, total = claims.stages, claims.total
    else:
        subject = payload.get("credentialSubject")
        try:
            stages = StageValues.model_validate(subject["stages"])  # type: ignore[index]
            total = parse_decimal(subject["total"], field="total")  # type: ignore[index]
        except (TypeError, KeyError, ValidationError, ConnectorError):
            node.fail("total", "stages or total missing or malformed")
            return False
    if stages.total() != total:
        node.fail(
            "total", f"total {format_decimal(total)} is not the sum of the stages {format_decimal(stages.total())}"
        )
        return False
    node.ok("total", f"{format_decimal(total)} = sum of the four stages")
    return True


def _attestation(
    ctx: _Ctx,
    sd_jwt: str,
    package_id: str | None,
    *,
    used_by: str | None,
    user: str,
    path: tuple[str, ...],
    ids: tuple[str, ...] = (),
    digest: str | None = None,
) -> VerificationNode:
    """Verify one attestation and (with the key) the subtree below its package ``package_id`` (an id in
    ``ctx.packages``, or None when it has no evidence). ``path``: the digests above it; ``ids``: their package ids;
    ``digest``: :func:`attestation_digest` of ``sd_jwt`` when the caller has it."""
    node = VerificationNode(kind="attestation")
    node.package = package_id
    if digest is None:
        try:
            digest = attestation_digest(sd_jwt)
        except (InvalidSignature, AttributeError):
            node.fail("format", "not an SD-JWT attestation")
            return node
    node.digest = digest
    issuer_jwt = sd_jwt.split("~", 1)[0]

    if digest in path or (package_id is not None and package_id in ids):
        _peek(node, issuer_jwt)
        if digest in path:
            node.fail(
                "cycle", f"attestation {digest} appears twice on one path of the evidence tree (used again by {user})"
            )
        else:
            node.fail(
                "cycle",
                f"evidence package {package_id} is referenced twice on one path of the evidence tree (again by {user})",
            )
        return node
    if len(path) >= MAX_DEPTH:
        node.fail("depth", f"evidence tree deeper than {MAX_DEPTH} tiers")
        return node
    ctx.visits += 1
    if ctx.visits > VISITS_PER_PACKAGE * len(ctx.packages) + VISITS_SLACK:
        _peek(node, issuer_jwt)
        node.fail(
            "visits",
            f"the evidence graph reaches more than {VISITS_PER_PACKAGE} attestations per bundled "
            f"package ({len(ctx.packages)} packages): packages named again and again from many paths; not "
            "verified further",
        )
        return node

    signed = ctx.signed(node, issuer_jwt, typ=SD_JWT_TYP, roles=ATTESTING_ROLES, require_exp=True)

    # What verify_attestation(sd_jwt, audience=None) checks, without repeating the JWS checks ``signed`` just made
    # (signature, alg/typ, times, chain with role and CRLs at iat, iss = the certificate's company): each signature
    # and chain is verified once per attestation, and the disclosures below are checked against the same result.
    checked: CheckedPayload | None = None
    structure_error: str | None = None
    if signed.ok:
        assert signed.identity is not None
        try:
            _, embedded = presented_disclosures(sd_jwt)
            checked = check_payload(signed.payload, signed.identity, at=ctx.at, audience=None)
            open_disclosures(checked, embedded)
        except InvalidSignature as exc:
            checked, structure_error = None, exc.reason
    # The clear claims for the report: validated by check_payload, or read leniently when it failed
    claims = checked.claims if checked is not None else _peek_claims(signed.payload)
    _fill(node, signed.payload, claims)
    total_ok = _check_total(node, signed.payload, claims, checked=checked is not None)
    if checked is not None:
        node.ok("structure", "W3C VC 2.0 CfpAttestation, SD-JWT")
    elif structure_error is not None and (total_ok or not structure_error.startswith("clear claims: total")):
        node.fail("structure", structure_error)
    if claims is not None:
        ctx.claims[digest] = claims

    company = node.company or "?"
    audience = signed.payload.get("aud")
    if used_by is not None:
        if audience == used_by:
            node.ok("audience", f"issued to {audience}, used by {user}")
        else:
            node.fail(
                "audience",
                f"issued to {audience!r} but used by {user} ({used_by}): "
                "an attestation may only be used by the company it was issued to",
            )

    for index, (check, cert_node) in enumerate(ctx.certs.get(digest, [])):
        if signed.identity is not None and check.certified_company == signed.identity.company_id:
            node.certified = True
            node.certified_by.append(check.verifier.company_id)
            ctx.bound.add(check.payload.jti)
            cert_node.ok("binding", f"certifies {check.certified_company}, attestation {node.attestation_id}")
            ctx.bindings.append((digest, index, cert_node.checks[-1].detail))
            node.ok(
                "certification",
                f"certified by {check.verifier.name} ({check.verifier.company_id}) until "
                f"{check.expires_at.isoformat()}, scope: {check.payload.scope}",
            )

    if ctx.key is None or ctx.cert is None:
        node.evidence = EvidenceStatus.NOT_OPENED
        return node
    package = ctx.packages.get(package_id) if package_id is not None else None
    if package is None:
        why = (
            f"no evidence package for this attestation of {company}"
            if package_id is None
            else f"its evidence package {package_id} is not in the bundle"
        )
        if node.certified:
            node.evidence = EvidenceStatus.CERTIFIED_NOT_OPENED
            node.ok("evidence", f"{why}; trusted on its certification")
        else:
            node.evidence = EvidenceStatus.MISSING
            node.fail("evidence", f"evidence missing: {why}")
        return node
    try:
        content = ctx.open_package(package_id, package)  # type: ignore[arg-type]  # not None: found in the map
    except NotARecipient as exc:
        try:
            names = ", ".join(recipients_of(package)) or "unnamed recipients"
            if isinstance(package, SealedEvidence):
                thumbs = [r.header.get("x5t#S256") for r in package.recipients]
            else:
                thumbs = [r.get("header", {}).get("x5t#S256") for r in package.get("recipients", [])]
        except (InvalidSignature, AttributeError):
            names, thumbs = "unnamed recipients", []
        if certificate_thumbprint(ctx.cert) in thumbs and not node.certified:
            node.evidence = EvidenceStatus.FAILED
            node.fail(
                "evidence", f"evidence of {company} is sealed to this verifier but cannot be decrypted: {exc.reason}"
            )
            return node
        if node.certified:
            node.evidence = EvidenceStatus.CERTIFIED_NOT_OPENED
            node.ok("evidence", f"sealed for {names}; trusted on its certification")
        else:
            node.evidence = EvidenceStatus.SEALED_FOR_ANOTHER_VERIFIER
            node.fail(
                "evidence", f"evidence sealed for another verifier ({names}), not for {ctx.verifier_id}: {exc.reason}"
            )
        return node
    except InvalidSignature as exc:
        node.evidence = EvidenceStatus.FAILED
        node.fail("evidence", f"evidence package of {company} cannot be read: {exc.reason}")
        return node
    node.evidence = EvidenceStatus.OPENED
    node.ok("evidence", "opened")

    if content.attestation.split("~", 1)[0] == issuer_jwt:  # the same issuer JWT: the same digest, no hashing
        content_digest = digest
    else:
        try:
            content_digest = attestation_digest(content.attestation)
        except InvalidSignature:
            content_digest = "?"
    if content_digest != digest:
        node.fail("evidence binding", f"the evidence package is for attestation {content_digest}, not this one")
        return node
    node.ok("evidence binding", "the package holds this attestation")

    upstream: dict[str, UpstreamPackage] = {}
    order: list[str] = []
    problems: list[str] = []
    for item in content.upstream:
        try:
            d = attestation_digest(item.attestation)
        except InvalidSignature:
            problems.append("an upstream entry is not an SD-JWT")
            continue
        if d in upstream:
            problems.append(f"upstream attestation {d} bundled twice")
            continue
        upstream[d] = item
        order.append(d)

    used: set[str] = set()
    here = (*path, digest)
    here_ids = (*ids, package_id)
    label = f"{node.company_name or company}"
    kw = {"used_by": node.company, "user": label, "path": here, "ids": here_ids}
    # Below the root of a large tree the subtrees are verified in worker processes, started now so that they work
    # while this process checks the root's own disclosures (9,999 of them for a pack with 9,999 inputs)
    pool = _Pool.start(ctx, [(d, upstream[d]) for d in order], kw) if _parallel_here(ctx, here, order) else None
    try:
        hidden, visiting = _disclosed(node, checked, sd_jwt, content, problems, upstream, order)
    except BaseException:
        if pool is not None:
            pool.pool.shutdown(cancel_futures=True)
        raise
    done = pool.finish() if pool is not None else None
    if done is not None:
        subtrees = _merge(ctx, _in_walk_order(visiting, dict(zip(order, done, strict=True))))
    else:
        subtrees = (_attestation(ctx, upstream[d].attestation, upstream[d].package, digest=d, **kw) for d in visiting)
    if hidden is not None:
        assert claims is not None
        node.own_emissions = {s.value: format_decimal(v) for s, v in hidden.own_emissions.as_dict().items()}
        node.inputs = []
        for i, inp in enumerate(hidden.inputs):
            item = upstream.get(inp.attestation_digest)
            summary = instance(
                InputSummary,
                {  # validated values, built as report.unpack_node builds them
                    "attestation_digest": inp.attestation_digest,
                    "quantity": format_decimal(inp.quantity),
                    "unit": inp.unit,
                    "declared_unit": inp.declared_unit,
                    "company": None,
                },
            )
            node.inputs.append(summary)
            if item is None:
                node.fail(
                    "input binding",
                    f"input {i} ({format_decimal(inp.quantity)} {inp.unit}) names upstream "
                    f"attestation {inp.attestation_digest}, which is not in the evidence",
                )
                continue
            used.add(inp.attestation_digest)
            child = next(subtrees)
            node.children.append(child)
            summary.__dict__["company"] = child.company
            node.ok("input binding", f"input {i} is attestation {child.attestation_id} of {child.company}")
            up = ctx.claims.get(inp.attestation_digest)
            if up is None:
                node.fail("upstream values", f"input {i}: the upstream attestation's claims cannot be read")
            elif up.stages != inp.upstream or up.declared_unit != inp.declared_unit:
                node.fail(
                    "upstream values",
                    f"input {i} uses {_stage_text(inp.upstream)} per {inp.declared_unit}, but {child.company}'s "
                    f"attestation says {_stage_text(up.stages)} per {up.declared_unit}",
                )
            else:
                node.ok("upstream values", f"input {i} matches {child.company}'s clear claims")
        _arithmetic(node, claims, hidden)

    for d in order:
        if d in used:
            continue
        child = next(subtrees)
        node.children.append(child)
        if hidden is not None:
            node.fail(
                "upstream binding",
                f"upstream attestation {child.attestation_id} of {child.company} is in the "
                "evidence but no input uses it (swapped or extra attestation)",
            )
    return node


def _disclosed(
    node: VerificationNode,
    checked: CheckedPayload | None,
    sd_jwt: str,
    content: EvidenceContent,
    problems: list[str],
    upstream: dict[str, UpstreamPackage],
    order: list[str],
) -> tuple[Any, list[str]]:
    """The hidden claims the package's disclosures open (None if they cannot be trusted) with the ``disclosures``
    and ``upstream binding`` checks, and the digests of the subtrees below in the order the walk visits them: the
    inputs found, then the bundled ones no input uses."""
    hidden = None
    if checked is not None:
        try:
            _, given = presented_disclosures(sd_jwt, content.disclosures)
            hidden = open_disclosures(checked, given)
            node.ok("disclosures", f"{len(content.disclosures)} disclosures, each committed in the attestation")
        except InvalidSignature as exc:
            node.fail("disclosures", exc.reason)
    # else: the attestation already failed; its disclosures cannot be trusted to mean anything, so not opened
    for problem in problems:
        node.fail("upstream binding", problem)
    visiting = (
        [i.attestation_digest for i in hidden.inputs if i.attestation_digest in upstream] if hidden is not None else []
    )
    named = {i.attestation_digest for i in hidden.inputs} if hidden is not None else set()
    visiting += [d for d in order if d not in named]
    return hidden, visiting


def _parallel_here(ctx: _Ctx, here: tuple[str, ...], items: list[str]) -> bool:
    """Whether the subtrees below ``here`` go to worker processes: below the root only (one split, no nested
    pools), with more than one worker and subtree, for a bundle of about :data:`PARALLEL_MIN_ATTESTATIONS` packages."""
    return len(here) == 1 and ctx.workers > 1 and len(items) > 1 and len(ctx.packages) >= PARALLEL_MIN_ATTESTATIONS


def _in_walk_order(visiting: list[str], done: dict[str, _Visit]) -> list[_Visit]:
    """The verified subtrees in the order the walk visits them (a subtree visited twice: a copy the second time)."""
    seen: set[str] = set()
    out = []
    for d in visiting:
        node, claims, bindings = done[d]
        out.append((node.model_copy(deep=True), claims, bindings) if d in seen else done[d])
        seen.add(d)
    return out


_Visit = tuple[VerificationNode, AttestationClaims | None, list[tuple[str, int, str]]]
_Item = tuple[str, UpstreamPackage]
"""A subtree to verify: its attestation's digest (the parent computed it) and the upstream entry."""
_JOB: tuple[_Ctx, list[_Item], dict[str, Any], Any, int] | None = None
"""What the forked workers verify (inherited, not pickled: trust store, key and packages stay in memory), with the
shared counter from which every process claims the next chunk of items, and the chunk size."""
CHUNKS_PER_WORKER = 16
"""Items are claimed in about this many chunks per process: small enough that a loaded core or a larger subtree
does not leave the other cores idle at the end, large enough that claiming costs nothing."""


def _visit(ctx: _Ctx, item: _Item, kw: dict[str, Any]) -> _Visit:
    """Verify one subtree as the sequential walk would: its node, its root's claims (all the parent reads of
    ``ctx.claims``) and the certifications it bound."""
    ctx.bindings = []
    digest, entry = item
    node = _attestation(ctx, entry.attestation, entry.package, digest=digest, **kw)
    return node, (ctx.claims.get(node.digest) if node.digest else None), ctx.bindings


def _claimed(counter: Any, chunk: int, total: int) -> Iterator[int]:
    """The indexes of the items this process verifies: chunk after chunk, claimed from the shared counter."""
    while True:
        with counter.get_lock():
            start = counter.value
            counter.value = start + chunk
        if start >= total:
            return
        yield from range(start, min(start + chunk, total))


def _visit_claimed() -> bytes:
    """In a worker: verify the chunks it claims; the results packed compactly (plain tuples, one pickle) so that the
    parent rebuilds the nodes without pickle walking thousands of pydantic models one by one."""
    assert _JOB is not None
    ctx, items, kw, counter, chunk = _JOB
    out = []
    for index in _claimed(counter, chunk, len(items)):
        node, claims, bindings = _visit(ctx, items[index], kw)
        out.append((index, pack_node(node), claims, bindings))  # a claims model pickles ~6x faster than it re-validates
    return pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class _Pool:
    """Subtrees verified in this process and ``ctx.workers - 1`` forked ones, each claiming chunks of items from a
    shared counter until none is left (so a process that is slowed down, or got larger subtrees, simply takes fewer).
    :meth:`start` forks the workers; :meth:`finish` takes this process's part of the work and collects the rest."""

    ctx: _Ctx
    items: list[_Item]
    kw: dict[str, Any]
    counter: Any
    chunk: int
    pool: ProcessPoolExecutor
    futures: list[Any]

    @classmethod
    def start(cls, ctx: _Ctx, items: list[_Item], kw: dict[str, Any]) -> _Pool | None:
        """None without the ``fork`` start method."""
        global _JOB
        try:
            context = multiprocessing.get_context("fork")
        except ValueError:
            return None
        chunk = max(1, len(items) // (ctx.workers * CHUNKS_PER_WORKER))
        counter = context.Value("q", 0)
        _JOB = (ctx, items, kw, counter, chunk)
        try:
            pool = ProcessPoolExecutor(max_workers=ctx.workers - 1, mp_context=context)
            futures = [pool.submit(_visit_claimed) for _ in range(ctx.workers - 1)]
        finally:
            _JOB = None
        return cls(ctx, items, kw, counter, chunk, pool, futures)

    def finish(self) -> list[_Visit] | None:
        """Every item's visit, in item order; None when that cannot give the sequential result: a subtree hit the
        depth limit (its claims could then depend on sibling subtrees) or the visit budget (counted per process)."""
        ctx, items = self.ctx, self.items
        claims, bindings, bound, visits_before = ctx.claims, ctx.bindings, set(ctx.bound), ctx.visits
        cert_checks = [(cert_node, len(cert_node.checks)) for pairs in ctx.certs.values() for _, cert_node in pairs]
        results: list[_Visit | None] = [None] * len(items)
        with self.pool:
            try:
                ctx.claims = dict(claims)
                for index in _claimed(self.counter, self.chunk, len(items)):
                    results[index] = _visit(ctx, items[index], self.kw)
            finally:
                # the certifications this process bound are bound again by the merge, in walk order
                ctx.claims, ctx.bindings, ctx.bound = claims, bindings, bound
                ctx.visits = visits_before  # the sequential re-walk (when this returns None) counts from here
                for cert_node, count in cert_checks:
                    del cert_node.checks[count:]
            for future in self.futures:
                for index, packed, claim, bound_here in pickle.loads(future.result()):  # noqa: S301 - our own fork
                    results[index] = (unpack_node(packed), claim, bound_here)
        visits = [v for v in results if v is not None]
        if len(visits) != len(items) or any(
            n.failed("depth") or n.failed("visits") for v in visits for n in v[0].walk()
        ):
            return None
        return visits


def _merge(ctx: _Ctx, visits: Iterable[_Visit]) -> Iterator[VerificationNode]:
    """The nodes of ``visits``, each with what its subtree recorded applied here as the walk would have (its root's
    claims, the certifications it bound)."""
    for node, claims, bindings in visits:
        if claims is not None and node.digest:
            ctx.claims[node.digest] = claims
        for digest, index, detail in bindings:
            check, cert_node = ctx.certs[digest][index]
            ctx.bound.add(check.payload.jti)
            cert_node.ok("binding", detail)
            ctx.bindings.append((digest, index, detail))
        yield node


def _workers(workers: int | None) -> int:
    """``None``: every core, when forking is safe (no other thread in this process: a server verifies in one)."""
    if workers is None:
        return (os.cpu_count() or 1) if threading.active_count() == 1 else 1
    if workers < 1:
        raise ValueError("workers must be at least 1")
    return workers


def _arithmetic(node: VerificationNode, claims: AttestationClaims, hidden: Any) -> None:
    try:
        rule = RoundingRule.parse(claims.rounding)
        inputs = [(convert(i.quantity, i.unit, i.declared_unit), i.upstream.as_dict()) for i in hidden.inputs]
        expected = combine_stages(hidden.own_emissions.as_dict(), inputs, rule)
    except ConnectorError as exc:
        node.fail("arithmetic", f"cannot recompute: {exc.detail}")
        return
    stated = claims.stages.as_dict()
    wrong = [
        f"{s.value}: stated {format_decimal(stated[s])}, recomputed {format_decimal(expected[s])}"
        for s in STAGES
        if stated[s] != expected[s]
    ]
    if wrong:
        node.fail("arithmetic", "stages are not own + sum(quantity x upstream) with " + f"{rule}: " + "; ".join(wrong))
        return
    total = sum(expected.values(), Decimal(0))
    if total != claims.total:
        node.fail("arithmetic", f"total {format_decimal(claims.total)} is not {format_decimal(total)}")
        return
    node.ok("arithmetic", f"own + {len(hidden.inputs)} input(s), {rule}: total {format_decimal(total)}")


# --- certifications -------------------------------------------------------------------------------------------------


def _certification_node(ctx: _Ctx, index: int, token: str) -> tuple[VerificationNode, CertificationCheck | None]:
    node = VerificationNode(kind="certification")
    node.digest = None
    signed = ctx.signed(node, token, typ=CERTIFICATION_TYP, roles=(Role.VERIFIER,), require_exp=True)
    payload = signed.payload
    node.attestation_id = payload.get("jti") if isinstance(payload.get("jti"), str) else f"certification #{index}"
    if isinstance(payload.get("sub"), str):
        node.digest = payload["sub"]
    if isinstance(payload.get("footprintId"), str):
        node.footprint_id = payload["footprintId"]
    if isinstance(payload.get("certifiedCompany"), str):
        node.audience = payload["certifiedCompany"]
    if not signed.ok:
        return node, None
    try:
        check = decode_certification(token, ctx.trust, at=ctx.at)
    except InvalidSignature as exc:
        node.fail("structure", exc.reason)
        return node, None
    node.ok("structure", f"certifies {check.certified_company}, scope {check.payload.scope}")
    return node, check


def _certification_result(
    index: int, node: VerificationNode, check: CertificationCheck | None, status: str, detail: str
) -> CertificationResult:
    p = check.payload if check else None
    return CertificationResult(
        index=index,
        status=status,  # type: ignore[arg-type]
        verifier=node.company,
        verifier_name=node.company_name,
        certified_company=p.certified_company if p else node.audience,
        attestation_digest=node.digest,
        footprint_id=node.footprint_id,
        scope=p.scope if p else None,
        issued_at=check.issued_at if check else None,
        expires_at=check.expires_at if check else None,
        detail=detail,
    )


# --- the declaration ------------------------------------------------------------------------------------------------


def _declaration_input(d: Declaration) -> DeclarationInput:
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


def _declaration_figures(root: VerificationNode, d: Declaration, pack: AttestationClaims) -> None:
    stated = pack.stages.as_dict()
    wrong = [
        f"{s.value}: declared {format_decimal(d.stage(s).absolute_kg_co2e)} kg, pack attestation "
        f"{format_decimal(stated[s])}"
        for s in STAGES
        if d.stage(s).absolute_kg_co2e != stated[s]
    ]
    if d.absolute_carbon_footprint.value != pack.total:
        wrong.append(
            f"total: declared {format_decimal(d.absolute_carbon_footprint.value)} kg, pack attestation "
            f"{format_decimal(pack.total)}"
        )
    if len(d.stages) != len(STAGES):
        wrong.append(f"{len(d.stages)} stages declared, expected {len(STAGES)}")
    if wrong:
        root.fail("absolute stages", "; ".join(wrong))
    else:
        root.ok(
            "absolute stages",
            f"= the pack attestation's stages (total {format_decimal(pack.total)} kg CO2e per {pack.declared_unit})",
        )

    try:
        recomputed = compute_declaration(_declaration_input(d), stated, at=d.issued_at, declaration_id=d.id)
    except (ValidationError, ConnectorError) as exc:
        detail = exc.detail if isinstance(exc, ConnectorError) else exc.errors()[0]["msg"]
        root.fail("per-kWh recompute", f"the declaration's own inputs do not recompute: {detail}")
        return
    problems = []
    if d.rounding != str(DECLARED_ROUNDING):
        problems.append(f"rounding {d.rounding!r}, expected {DECLARED_ROUNDING}")
    if d.functional_unit.total_energy_kwh != recomputed.functional_unit.total_energy_kwh:
        problems.append(
            f"total energy {format_decimal(d.functional_unit.total_energy_kwh)} kWh, recomputed "
            f"{format_decimal(recomputed.functional_unit.total_energy_kwh)}"
        )
    for name, mine, theirs in [("carbonFootprint", d.carbon_footprint, recomputed.carbon_footprint)]:
        if (mine.value, mine.exact_value) != (theirs.value, theirs.exact_value):
            problems.append(f"{name} {format_decimal(mine.value)}, recomputed {format_decimal(theirs.value)}")
    for s in STAGES:
        mine, theirs = d.stage(s), recomputed.stage(s)
        if (mine.value, mine.exact_value) != (theirs.value, theirs.exact_value):
            problems.append(
                f"{s.value} {format_decimal(mine.value)} kg CO2e/kWh, recomputed {format_decimal(theirs.value)}"
            )
    energy = recomputed.functional_unit.total_energy_kwh
    total_abs = d.absolute_carbon_footprint.value
    with localcontext(EXACT):
        for c in d.supplier_contributions:
            per_kwh = DECLARED_ROUNDING.apply(c.kg_co2e / energy)
            share = SHARE_ROUNDING.apply(c.kg_co2e * 100 / total_abs) if total_abs else Decimal(0)
            if c.kg_co2e_per_kwh != per_kwh or c.share_percent != share:
                problems.append(
                    f"supplier contribution {c.company_name}: {format_decimal(c.kg_co2e_per_kwh)} "
                    f"kg CO2e/kWh ({format_decimal(c.share_percent)} %), recomputed "
                    f"{format_decimal(per_kwh)} ({format_decimal(share)} %)"
                )
    if problems:
        root.fail("per-kWh recompute", "; ".join(problems))
    else:
        root.ok(
            "per-kWh recompute",
            f"{format_decimal(d.carbon_footprint.value)} kg CO2e/kWh over {format_decimal(energy)} kWh",
        )


def _declared_certifications(root: VerificationNode, d: Declaration, results: list[CertificationResult]) -> None:
    backed = {r.certified_company for r in results if r.status in ("valid", "unbound")}
    missing = [
        f"tier {c.tier} {c.company_name} ({c.company_id or 'no company id'}) by {c.verifier}"
        for c in d.certifications
        if c.tier > 0 and c.status is VerificationStatus.VALID and c.company_id not in backed
    ]
    if missing:
        root.fail(
            "declared certifications",
            "listed as valid without a valid certification credential in the bundle: " + "; ".join(missing),
        )
    elif d.certifications:
        root.ok("declared certifications", f"{len(d.certifications)} listed, each valid one backed by a credential")


# --- entry points ---------------------------------------------------------------------------------------------------


def _leaf(cert: VerifierCert | None) -> x509.Certificate | None:
    if cert is None or isinstance(cert, x509.Certificate):
        return cert
    return cert[0] if cert else None


def _context(
    trust: TrustStore,
    at: datetime,
    verifier_key: PrivateKey | None,
    verifier_cert: VerifierCert | None,
    crls: Iterable[x509.CertificateRevocationList],
) -> _Ctx:
    if at.tzinfo is None:
        raise InvalidSignature("verification time must be timezone-aware")
    full = trust.with_crls(crls)
    path_trust = full.without_crls()  # revocation is checked (and reported) separately; shares the path cache
    leaf = _leaf(verifier_cert)
    if (verifier_key is None) != (leaf is None):
        raise ValueError("give both the verifier key and its certificate, or neither")
    return _Ctx(
        trust=full,
        path_trust=path_trust,
        at=at,
        key=verifier_key,
        cert=leaf,
        verifier_id=company_id_of(leaf) if leaf is not None else None,
    )


def _certifications(ctx: _Ctx, tokens: Sequence[str]) -> list[tuple[int, VerificationNode, CertificationCheck | None]]:
    out = []
    for i, token in enumerate(tokens):
        node, check = _certification_node(ctx, i, token)
        if check is not None:
            ctx.certs.setdefault(check.digest, []).append((check, node))
        out.append((i, node, check))
    return out


def _settle_certifications(
    ctx: _Ctx, root: VerificationNode, certs: list[tuple[int, VerificationNode, CertificationCheck | None]]
) -> list[CertificationResult]:
    attestations = [n for n in root.walk() if n.kind == "attestation"]
    visible = all(n.evidence is EvidenceStatus.OPENED for n in attestations)
    by_digest = {n.digest: n for n in attestations}
    results = []
    for i, node, check in certs:
        if check is None:
            results.append(_certification_result(i, node, None, "invalid", "; ".join(c.detail for c in node.failed())))
            continue
        if check.payload.jti in ctx.bound:
            target = by_digest[check.digest]
            results.append(_certification_result(i, node, check, "valid", f"certifies {target.label()}"))
            continue
        target = by_digest.get(check.digest)
        if target is not None:
            node.fail(
                "binding",
                f"certifiedCompany {check.certified_company} is not the issuer {target.company} of "
                f"attestation {target.attestation_id}",
            )
        elif visible:
            node.fail(
                "binding",
                f"certifies attestation digest {check.digest} of {check.certified_company}, which "
                "matches no attestation in the bundle",
            )
        else:
            node.ok("binding", "its attestation is not visible (evidence not opened): not bound, not trusted")
            results.append(_certification_result(i, node, check, "unbound", node.checks[-1].detail))
            continue
        results.append(_certification_result(i, node, check, "invalid", node.failed()[-1].detail))
    return results


def verify_bundle(
    bundle: EvidenceBundle | dict[str, Any] | str | bytes,
    trust: TrustStore,
    *,
    at: datetime,
    verifier_key: PrivateKey | None = None,
    verifier_cert: VerifierCert | None = None,
    crls: Iterable[x509.CertificateRevocationList] = (),
    workers: int | None = None,
) -> VerificationReport:
    """Verify an evidence bundle offline and return the full report (``report.valid`` is the verdict).

    Without ``verifier_key`` (the OEM checking what it holds) the declaration, the pack attestation and the
    certifications are checked and every attestation shows evidence ``not opened``. With the verifier's key and
    certificate every evidence package is opened and the whole chain is recomputed; an attestation covered by a
    valid certification may stay unopened (``certified, not opened``). CRLs from the bundle and ``crls`` are used,
    at each object's signing time.

    ``workers``: with more than one, the subtrees under the pack attestation of a large opened bundle (about
    :data:`PARALLEL_MIN_ATTESTATIONS` or more) are verified in that many forked processes and merged in order; the
    report is the same as with ``workers=1`` (sequential). ``None`` (default): ``os.cpu_count()`` when this process
    has no other thread (forking a threaded process is unsafe, e.g. in the server), else 1. Without the ``fork``
    start method it is always sequential.

    Example::

        report = verify_bundle(Path("bundle.json").read_text(), TrustStore([root]), at=datetime.now(UTC),
                               verifier_key=nb_key, verifier_cert=nb_cert)
        print(report.summary())            # "valid" or "INVALID: 2 failure(s)"
        for failure in report.failures:
            print(failure.line())          # company, attestation, check, why

    The cyclic garbage collector is paused meanwhile: a large bundle is millions of live objects, which each full
    collection would walk again (a fifth of the time of a 10,000-attestation bundle), and the walk makes no cycles.
    """
    with gc_paused():
        return _verify_bundle(
            bundle, trust, at=at, verifier_key=verifier_key, verifier_cert=verifier_cert, crls=crls, workers=workers
        )


def _verify_bundle(
    bundle: EvidenceBundle | dict[str, Any] | str | bytes,
    trust: TrustStore,
    *,
    at: datetime,
    verifier_key: PrivateKey | None,
    verifier_cert: VerifierCert | None,
    crls: Iterable[x509.CertificateRevocationList],
    workers: int | None,
) -> VerificationReport:
    ctx = _context(trust, at, verifier_key, verifier_cert, ())
    root = VerificationNode(kind="declaration")
    try:
        parsed = bundle if isinstance(bundle, EvidenceBundle) else EvidenceBundle.from_json(bundle)
    except ConnectorError as exc:
        root.kind = "bundle"
        root.fail("format", exc.detail)
        return VerificationReport.from_tree(root, at=at, verifier=ctx.verifier_id, certifications=[])
    bundle_crls = []
    for i, pem in enumerate(parsed.crls):
        try:
            bundle_crls.append(load_crl(pem.encode("ascii")))
        except (ConnectorError, UnicodeEncodeError):
            root.fail("crls", f"bundled CRL #{i} cannot be read")
    ctx = _context(trust, at, verifier_key, verifier_cert, [*bundle_crls, *crls])
    ctx.workers = _workers(workers)

    certs = _certifications(ctx, parsed.certifications)

    signed = ctx.signed(root, parsed.declaration, typ=DECLARATION_TYP, roles=(Role.OEM,))
    payload = signed.payload
    root.digest = token_digest(parsed.declaration)
    if isinstance(payload.get("jti"), str):
        root.attestation_id = payload["jti"]
    declaration: Declaration | None = None
    pack_digest: str | None = None
    try:
        declaration, pack_digest = parse_declaration_payload(payload)
        issuer_ok = payload.get("issuer") == payload.get("iss") and declaration.issuer_company_id in (
            None,
            payload.get("iss"),
        )
        if issuer_ok:
            root.ok("structure", "W3C VC 2.0 BatteryCarbonFootprintDeclaration")
        else:
            root.fail("structure", "issuer, iss and issuerCompanyId differ")
        root.product_ids = [declaration.battery_model.pack_product_id]
        root.footprint_id = declaration.id
    except InvalidSignature as exc:
        root.fail("structure", exc.reason)

    oem = signed.identity.company_id if signed.identity else payload.get("iss")
    ctx.packages = parsed.packages
    pack = _attestation(
        ctx,
        parsed.pack.attestation,
        parsed.pack.package,
        used_by=oem if isinstance(oem, str) else None,
        user=f"the declaration issuer {root.company_name or oem}",
        path=(),
    )
    root.children.append(pack)

    if pack_digest is not None:
        if pack_digest == pack.digest:
            root.ok("pack binding", f"packAttestationDigest = digest of {pack.company_name}'s attestation")
        else:
            root.fail(
                "pack binding",
                f"packAttestationDigest {pack_digest} is not the bundled pack attestation's digest {pack.digest}",
            )
    pack_claims = ctx.claims.get(pack.digest or "")
    if declaration is not None and pack_claims is not None:
        product = declaration.battery_model.pack_product_id
        if product in pack_claims.product_ids:
            root.ok("pack product", f"{product} is the attested product")
        else:
            root.fail(
                "pack product",
                f"declared pack product {product} is not among the attestation's productIds {pack_claims.product_ids}",
            )
        _declaration_figures(root, declaration, pack_claims)
    elif declaration is not None:
        root.fail("absolute stages", "not checked: the pack attestation's claims cannot be read")

    _check_packages(ctx, root, pack)
    for _, node, _ in certs:
        root.children.append(node)
    results = _settle_certifications(ctx, root, certs)
    if declaration is not None:
        _declared_certifications(root, declaration, results)
    return VerificationReport.from_tree(root, at=at, verifier=ctx.verifier_id, certifications=results)


_HIDING = frozenset(
    {
        EvidenceStatus.NOT_OPENED,
        EvidenceStatus.CERTIFIED_NOT_OPENED,
        EvidenceStatus.SEALED_FOR_ANOTHER_VERIFIER,
        EvidenceStatus.FAILED,
    }
)
"""A package of these was not read: the ids it names are unknown."""


def _check_packages(ctx: _Ctx, on: VerificationNode, top: VerificationNode) -> None:
    """``packages``: every package in the map is one the walk reached from ``top`` (nothing bundled unused). With a
    package left unopened its references are unknown, so the others are then reported as not checked, not failed."""
    if not ctx.packages:
        return
    nodes = [n for n in top.walk() if n.kind == "attestation"]
    referenced = {n.package for n in nodes if n.package is not None}
    unreferenced = [pid for pid in ctx.packages if pid not in referenced]
    hidden = sum(1 for n in nodes if n.evidence in _HIDING and n.package in ctx.packages)
    count = f"{len(ctx.packages)} package(s)"
    if not unreferenced:
        on.ok("packages", f"{count}, each referenced by the tree")
    elif hidden:
        on.ok(
            "packages",
            f"{count}; {len(unreferenced)} not referenced by any package opened, {hidden} package(s) "
            "not opened: not checked",
        )
    else:
        shown = ", ".join(unreferenced[:5]) + (", ..." if len(unreferenced) > 5 else "")
        on.fail(
            "packages",
            f"{len(unreferenced)} of {count} referenced by no attestation of the tree (bundled unused): {shown}",
        )


def verify_attestation_tree(
    attestation: str,
    evidence: Evidence | dict[str, Any] | None,
    trust: TrustStore,
    *,
    at: datetime,
    verifier_key: PrivateKey | None = None,
    verifier_cert: VerifierCert | None = None,
    audience: str | None = None,
    certifications: Sequence[str] = (),
    crls: Iterable[x509.CertificateRevocationList] = (),
) -> VerificationReport:
    """Verify one attestation and (with the key) its whole evidence subtree: the report's root is that attestation.

    ``evidence`` is the attestation's :class:`~connector.attestation.evidence.Evidence` (its package id and every
    package of its tree). ``audience``, when given, is the company that uses the attestation (checked like any
    audience binding). Used by :func:`connector.certification.certify` and by a node checking an attestation it
    received. Sequential (no worker processes).
    """
    ctx = _context(trust, at, verifier_key, verifier_cert, crls)
    certs = _certifications(ctx, certifications)
    package_id: str | None = None
    malformed: str | None = None
    if evidence is not None:
        try:
            tree = evidence_of(evidence)
            ctx.packages, package_id = tree.packages, tree.package
        except MalformedEvidence as exc:
            malformed = exc.detail
    root = _attestation(ctx, attestation, package_id, used_by=audience, user=audience or "its holder", path=())
    if malformed is not None and ctx.key is not None:
        root.checks = [c for c in root.checks if c.name != "evidence"]  # not "missing": there, but unreadable
        root.evidence = EvidenceStatus.FAILED
        root.fail("evidence", malformed)
    _check_packages(ctx, root, root)
    for _, node, _ in certs:
        root.children.append(node)
    results = _settle_certifications(ctx, root, certs)
    return VerificationReport.from_tree(root, at=at, verifier=ctx.verifier_id, certifications=results)
