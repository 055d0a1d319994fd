"""Signed-object checks: any JWS of the bundle (declaration credential, attestation, certification) check by check,
the certification credentials and their binding to the tree, and the CRLs a bundle carries.

Each check is reported under its own name so the report can say which failed: ``format``, ``alg/typ``,
``certificate chain`` (path to an anchor at the signing time), ``role``, ``revocation`` (CRLs at the signing time),
``signature``, ``validity`` (``iat``/``exp`` against ``at``), ``structure``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509

from ..attestation.certification_credential import CERTIFICATION_TYP, CertificationCheck, decode_certification
from ..attestation.jws import (
    ALLOWED_ALGS,
    CompactJws,
    checked_header,
    decode_compact,
    payload_object,
    verify_signature,
    x5c_chain,
)
from ..errors import ConnectorError, InvalidSignature, TrustError
from ..identity.ca import name_of
from ..identity.keys import PublicKey, load_crl
from ..identity.oids import Role
from ..identity.trust import CompanyIdentity
from .messages import MESSAGES, Said, said
from .report import CertificationResult, CertificationStatus, EvidenceStatus, VerificationNode
from .walk_context import WalkContext

_NAMES: dict[int, tuple[x509.Certificate, str, str]] = {}


def cert_names(cert: x509.Certificate) -> tuple[str, str]:
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
class SignedObject:
    """The outcome of :func:`check_signed`: ``ok`` when every check passed; the identity only from a valid chain."""

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


def check_signed(
    ctx: WalkContext,
    node: VerificationNode,
    token: str,
    *,
    typ: str,
    roles: Iterable[Role],
    require_exp: bool = False,
) -> SignedObject:
    """The JWS checks, each reported under its own name. The identity comes only from the validated chain."""
    try:
        jws = decode_compact(token)
    except InvalidSignature as exc:
        node.fail("format", exc.reason)
        return SignedObject(ok=False, payload={})
    try:
        payload = payload_object(jws)
    except InvalidSignature:
        node.fail("format", said("verify.format.payload-not-object"))
        return SignedObject(ok=False, payload={})
    if isinstance(payload.get("iss"), str):
        node.company = payload["iss"]  # claimed, replaced by the certificate's once the chain validates

    ok = _check_header(node, jws.header, typ)
    found = _header_chain(node, token, jws.header)
    if found is None:
        return SignedObject(ok=False, payload=payload)
    chain, leaf_key = found
    node.company_name = cert_names(chain[0])[0]
    ok = _check_signature(node, jws, chain[0], leaf_key) and ok
    iat, valid = _check_validity(ctx, node, payload, require_exp)
    ok = valid and ok
    if iat is None:
        node.fail("certificate chain", said("verify.chain.no-iat"))
        return SignedObject(ok=False, payload=payload)
    return _check_signer(ctx, node, payload, chain, iat, frozenset(roles), ok)


def _check_header(node: VerificationNode, header: dict[str, Any], typ: str) -> bool:
    """``alg/typ``: an allowed algorithm, no ``crit``, keys from ``x5c`` only, the expected ``typ``."""
    alg = header.get("alg")
    problems = []
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        allowed = ", ".join(sorted(ALLOWED_ALGS))
        problems.append(said("verify.alg-typ.alg-not-allowed", alg=repr(alg), allowed=allowed))
    if "crit" in header:
        problems.append(said("verify.alg-typ.crit"))
    problems += [said("verify.alg-typ.key-header", header=h) for h in ("jwk", "jku", "x5u") if h in header]
    actual_typ = header.get("typ")
    if not isinstance(actual_typ, str) or actual_typ.lower().removeprefix("application/") != typ:
        problems.append(said("verify.alg-typ.typ", typ=repr(actual_typ), expected=repr(typ)))
    if problems:
        node.fail("alg/typ", said("verify.alg-typ.failed", problems=problems))
        return False
    node.ok("alg/typ", said("verify.alg-typ.ok", alg=alg, typ=typ))
    return True


def _header_chain(
    node: VerificationNode, token: str, header: dict[str, Any]
) -> tuple[Sequence[x509.Certificate], PublicKey | None] | None:
    """The ``x5c`` chain and its leaf's key (None: type not supported); None (reported) when it cannot be read."""
    try:
        # A header that passes verify_jws's checks is parsed once per process (its chain then hits the trust
        # store's path cache by identity); any other is looked at member by member for the report.
        checked = checked_header(token.partition(".")[0])
        return checked.chain, checked.leaf_key
    except InvalidSignature:
        try:
            return x5c_chain(header.get("x5c"))
        except InvalidSignature as exc:
            node.fail("certificate chain", said("verify.chain.unreadable", reason=exc.reason))
            return None


def _check_signature(
    node: VerificationNode, jws: CompactJws, leaf: x509.Certificate, leaf_key: PublicKey | None
) -> bool:
    alg = jws.header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGS:
        node.fail("signature", said("verify.signature.alg-not-allowed"))
        return False
    if leaf_key is None:
        node.fail("signature", said("verify.signature.key-type"))
        return False
    try:
        verify_signature(alg, leaf_key, jws.signing_input, jws.signature)
    except InvalidSignature as exc:
        node.fail("signature", _signature_said(exc.reason))
        return False
    node.ok("signature", said("verify.signature.ok", signer=cert_names(leaf)[1]))
    return True


def _check_validity(
    ctx: WalkContext, node: VerificationNode, payload: dict[str, Any], require_exp: bool
) -> tuple[datetime | None, bool]:
    """``validity``: ``iat``/``nbf`` not in the future, ``exp`` not passed; returns the signing time and the verdict."""
    iat = _numeric(payload, "iat")
    exp = _numeric(payload, "exp")
    nbf = _numeric(payload, "nbf")
    skew = ctx.trust.clock_skew
    validity = []
    if iat is None:
        validity.append(said("verify.validity.no-iat"))
    elif iat > ctx.at + skew:
        validity.append(said("verify.validity.future", iat=iat.isoformat()))
    if nbf is None and payload.get("nbf") is not None:
        validity.append(said("verify.validity.no-nbf"))
    elif nbf is not None and nbf > ctx.at + skew:
        validity.append(said("verify.validity.not-yet", nbf=nbf.isoformat()))
    if exp is None and (require_exp or "exp" in payload):
        validity.append(said("verify.validity.no-exp"))
    elif exp is not None and exp <= ctx.at:
        validity.append(said("verify.validity.expired", exp=exp.isoformat(), at=ctx.at.isoformat()))
    if validity:
        node.fail("validity", said("verify.validity.failed", problems=validity))
        return iat, False
    issued = iat.isoformat() if iat else "?"
    if exp:
        node.ok("validity", said("verify.validity.ok-until", iat=issued, exp=exp.isoformat()))
    else:
        node.ok("validity", said("verify.validity.ok", iat=issued))
    return iat, True


def _check_signer(
    ctx: WalkContext,
    node: VerificationNode,
    payload: dict[str, Any],
    chain: Sequence[x509.Certificate],
    iat: datetime,
    roles: frozenset[Role],
    ok: bool,
) -> SignedObject:
    """``certificate chain`` at the signing time, ``role``, ``revocation`` and ``iss`` = the certificate's company."""
    try:
        identity = ctx.path_trust.validate(chain, at=iat, role=None)
    except TrustError as exc:
        node.fail("certificate chain", said("verify.chain.failed", iat=iat.isoformat(), reason=exc.reason))
        return SignedObject(ok=False, payload=payload, signed_at=iat)
    node.ok("certificate chain", said("verify.chain.ok", anchor=cert_names(identity.chain[-1])[1], iat=iat.isoformat()))
    node.company, node.company_name = identity.company_id, identity.name

    if identity.role not in roles:
        wanted = " or ".join(sorted(r.value for r in roles))
        node.fail("role", said("verify.role.wrong", role=identity.role.value, expected=wanted))
        ok = False
    else:
        node.ok("role", said("verify.role.ok", role=identity.role.value))
    try:
        ctx.trust.check_revocation(identity.chain, iat)
        node.ok("revocation", said("verify.revocation.ok", iat=iat.isoformat()))
    except TrustError as exc:
        node.fail("revocation", said("verify.revocation.failed", reason=exc.reason, iat=iat.isoformat()))
        ok = False
    if payload.get("iss") != identity.company_id:
        node.fail("structure", said("verify.structure.iss-not-company", iss=repr(payload.get("iss"))))
        ok = False
    return SignedObject(ok=ok, payload=payload, identity=identity, signed_at=iat)


def _signature_said(reason: str) -> Said:
    """``signature`` failing with the JWS module's ``reason``: the common "does not verify" has a code of its own (the
    same English), any other reason is carried in English."""
    if reason == MESSAGES["verify.signature.does-not-verify"]:
        return said("verify.signature.does-not-verify")
    return said("verify.signature.failed", reason=reason)


def bundle_crls(root: VerificationNode, pems: Sequence[str]) -> list[x509.CertificateRevocationList]:
    """The CRLs a bundle carries; one that cannot be read fails ``crls`` on ``root``."""
    out = []
    for i, pem in enumerate(pems):
        try:
            out.append(load_crl(pem.encode("ascii")))
        except (ConnectorError, UnicodeEncodeError):
            root.fail("crls", said("verify.crls.unreadable", index=i))
    return out


# --- certification credentials --------------------------------------------------------------------------------------

CertificationNode = tuple[int, VerificationNode, CertificationCheck | None]
"""A certification of the bundle: its index, its node, and its check when it verified on its own."""


def _certification_node(ctx: WalkContext, index: int, token: str) -> tuple[VerificationNode, CertificationCheck | None]:
    node = VerificationNode(kind="certification")
    node.digest = None
    signed = check_signed(ctx, node, token, typ=CERTIFICATION_TYP, roles=(Role.VERIFIER,), require_exp=True)
    payload = signed.payload
    node.attestation_id = payload["jti"] if isinstance(payload.get("jti"), str) else f"certification #{index}"
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
    node.ok("structure", said("verify.structure.certifies", company=check.certified_company, scope=check.payload.scope))
    return node, check


def check_certifications(ctx: WalkContext, tokens: Sequence[str]) -> list[CertificationNode]:
    """Each certification on its own; the valid ones are recorded in ``ctx.certs`` for the walk to bind."""
    out = []
    for i, token in enumerate(tokens):
        node, check = _certification_node(ctx, i, token)
        if check is not None:
            ctx.certs.setdefault(check.digest, []).append((check, node))
        out.append((i, node, check))
    return out


def _certification_result(
    index: int, node: VerificationNode, check: CertificationCheck | None, status: CertificationStatus, detail: str
) -> CertificationResult:
    p = check.payload if check else None
    return CertificationResult(
        index=index,
        status=status,
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


def settle_certifications(
    ctx: WalkContext, root: VerificationNode, certs: list[CertificationNode]
) -> list[CertificationResult]:
    """After the walk: each certification is valid (bound to an attestation of the tree), unbound (its attestation
    not visible) or invalid, with the ``binding`` check on its node."""
    attestations = [n for n in root.walk() if n.kind == "attestation"]
    visible = all(n.evidence is EvidenceStatus.OPENED for n in attestations)
    by_digest = {n.digest: n for n in attestations}
    results = []
    for i, node, check in certs:
        if check is None:
            results.append(_certification_result(i, node, None, "invalid", "; ".join(c.detail for c in node.failed())))
            continue
        if check.payload.jti in ctx.bound:
            certified = by_digest[check.digest]
            results.append(_certification_result(i, node, check, "valid", f"certifies {certified.label()}"))
            continue
        target = by_digest.get(check.digest)
        if target is not None:
            node.fail(
                "binding",
                said(
                    "verify.binding.not-issuer",
                    company=check.certified_company,
                    issuer=target.company,
                    attestation=target.attestation_id,
                ),
            )
        elif visible:
            node.fail("binding", said("verify.binding.no-match", digest=check.digest, company=check.certified_company))
        else:
            node.ok("binding", said("verify.binding.not-visible"))
            results.append(_certification_result(i, node, check, "unbound", node.checks[-1].detail))
            continue
        results.append(_certification_result(i, node, check, "invalid", node.failed()[-1].detail))
    return results
