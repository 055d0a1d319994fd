"""The verifier's entry points: :func:`verify_bundle` checks a declaration's whole evidence bundle offline and
:func:`verify_attestation_tree` one attestation with its evidence; both return a report (never a bare bool).

The checks live by what they check: :mod:`.signed_objects` (any JWS, certifications, CRLs),
:mod:`.attestation_check` (one attestation and its evidence), :mod:`.tree_walk` (packages, upstream links, worker
processes), :mod:`.reachability` (nothing bundled unused) and :mod:`.declaration_figures` (the declaration's numbers).
Pure: no I/O; the caller passes the trust store, the time and (optionally) the verifier's key.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from cryptography import x509

from ..attestation.evidence import Evidence, MalformedEvidence, evidence_of
from ..declaration.models import Declaration
from ..declaration.signing import DECLARATION_TYP, EvidenceBundle, parse_declaration_payload, token_digest
from ..errors import ConnectorError, InvalidSignature
from ..gc_pause import gc_paused
from ..identity.keys import PrivateKey
from ..identity.oids import Role
from ..identity.trust import TrustStore
from .declaration_figures import check_declared_certifications, check_pack
from .entered import require_attested_at_top
from .messages import said
from .reachability import check_packages
from .report import EvidenceStatus, VerificationNode, VerificationReport
from .signed_objects import SignedObject, bundle_crls, check_certifications, check_signed, settle_certifications
from .tree_walk import PARALLEL_MIN_ATTESTATIONS, Position, walk_attestation
from .walk_context import VerifierCert, WalkContext, new_context, worker_count

__all__ = ["PARALLEL_MIN_ATTESTATIONS", "VerifierCert", "verify_attestation_tree", "verify_bundle"]


def verify_bundle(
    bundle: EvidenceBundle | dict[str, Any] | str | bytes,
    trust: TrustStore,
    *,
    at: datetime,
    verifier_key: PrivateKey | None = None,
    verifier_cert: VerifierCert | None = None,
    crls: Iterable[x509.CertificateRevocationList] = (),
    workers: int | None = None,
    require_attested: bool = False,
) -> VerificationReport:
    """Verify an evidence bundle offline and return the full report (``report.valid`` is the verdict).

    Without ``verifier_key`` (the OEM checking what it holds) the declaration, the pack attestation and the
    certifications are checked and every attestation shows evidence ``not opened``. With the verifier's key and
    certificate every evidence package is opened and the whole chain is recomputed; an attestation covered by a
    valid certification may stay unopened (``certified, not opened``). CRLs from the bundle and ``crls`` are used,
    at each object's signing time.

    Entered inputs (issue 17) are listed with their provenance and source document, and the pack's attested coverage
    is recomputed; ``require_attested=True`` makes any entered input anywhere in the tree a failure (``attested``).

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
            bundle,
            trust,
            at=at,
            verifier_key=verifier_key,
            verifier_cert=verifier_cert,
            crls=crls,
            workers=workers,
            require_attested=require_attested,
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
    require_attested: bool,
) -> VerificationReport:
    ctx = new_context(trust, at, verifier_key, verifier_cert, ())
    root = VerificationNode(kind="declaration")
    try:
        parsed = bundle if isinstance(bundle, EvidenceBundle) else EvidenceBundle.from_json(bundle)
    except ConnectorError as exc:
        root.kind = "bundle"
        root.fail("format", exc.detail)
        return VerificationReport.from_tree(root, at=at, verifier=ctx.verifier_id, certifications=[])
    ctx = new_context(trust, at, verifier_key, verifier_cert, [*bundle_crls(root, parsed.crls), *crls])
    ctx.workers = worker_count(workers)
    ctx.require_attested = require_attested

    certs = check_certifications(ctx, parsed.certifications)
    signed, declaration, pack_digest = _check_declaration(ctx, root, parsed.declaration)

    oem = signed.identity.company_id if signed.identity else signed.payload.get("iss")
    ctx.packages = parsed.packages
    pack = walk_attestation(
        ctx,
        parsed.pack.attestation,
        parsed.pack.package,
        Position(
            used_by=oem if isinstance(oem, str) else None, user=f"the declaration issuer {root.company_name or oem}"
        ),
    )
    root.children.append(pack)
    require_attested_at_top(ctx, pack)
    check_pack(root, declaration, pack_digest, pack, ctx.claims.get(pack.digest or ""))

    check_packages(ctx, root, pack)
    root.children.extend(node for _, node, _ in certs)
    results = settle_certifications(ctx, root, certs)
    if declaration is not None:
        check_declared_certifications(root, declaration, results)
    return VerificationReport.from_tree(
        root, at=at, verifier=ctx.verifier_id, certifications=results, require_attested=require_attested
    )


def _check_declaration(
    ctx: WalkContext, root: VerificationNode, token: str
) -> tuple[SignedObject, Declaration | None, str | None]:
    """The declaration credential: its signed-object checks and ``structure``; the declaration and the pack
    attestation digest it names (None when it cannot be read)."""
    signed = check_signed(ctx, root, token, typ=DECLARATION_TYP, roles=(Role.OEM,))
    payload = signed.payload
    root.digest = token_digest(token)
    if isinstance(payload.get("jti"), str):
        root.attestation_id = payload["jti"]
    try:
        declaration, pack_digest = parse_declaration_payload(payload)
    except InvalidSignature as exc:
        root.fail("structure", exc.reason)
        return signed, None, None
    issuer_ok = payload.get("issuer") == payload.get("iss") and declaration.issuer_company_id in (
        None,
        payload.get("iss"),
    )
    if issuer_ok:
        root.ok("structure", said("verify.structure.declaration"))
    else:
        root.fail("structure", said("verify.structure.issuer-differs"))
    root.product_ids = [declaration.battery_model.pack_product_id]
    root.footprint_id = declaration.id
    return signed, declaration, pack_digest


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
    require_attested: bool = False,
) -> VerificationReport:
    """Verify one attestation and (with the key) its whole evidence subtree: the report's root is that attestation.

    ``evidence`` is the attestation's :class:`~connector.attestation.evidence.Evidence` (its package id and every
    package of its tree). ``audience``, when given, is the company that uses the attestation (checked like any
    audience binding). Used by :func:`connector.certification.certify` and by a node checking an attestation it
    received. Sequential (no worker processes).
    """
    ctx = new_context(trust, at, verifier_key, verifier_cert, crls)
    ctx.require_attested = require_attested
    certs = check_certifications(ctx, certifications)
    package_id: str | None = None
    malformed: str | None = None
    if evidence is not None:
        try:
            tree = evidence_of(evidence)
            ctx.packages, package_id = tree.packages, tree.package
        except MalformedEvidence as exc:
            malformed = exc.detail
    root = walk_attestation(ctx, attestation, package_id, Position(used_by=audience, user=audience or "its holder"))
    if malformed is not None and ctx.key is not None:
        root.checks = [c for c in root.checks if c.name != "evidence"]  # not "missing": there, but unreadable
        root.evidence = EvidenceStatus.FAILED
        root.fail("evidence", malformed)
    require_attested_at_top(ctx, root)
    check_packages(ctx, root, root)
    root.children.extend(node for _, node, _ in certs)
    results = settle_certifications(ctx, root, certs)
    return VerificationReport.from_tree(
        root, at=at, verifier=ctx.verifier_id, certifications=results, require_attested=require_attested
    )
