"""A verifier checking a bundle someone handed over (the console's upload), optionally against trust anchors given
with it, and certifying the pack attestation it carries."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from ..certification import certify
from ..declaration.signing import EvidenceBundle
from ..errors import ConnectorError, ValidationFailed
from ..identity import TrustStore, load_certificates
from ..verification import VerificationReport, verify_bundle
from . import audit
from .context import NodeContext
from .declaring import NotConfigured

MAX_BUNDLE_BYTES = 50 * 1024 * 1024


def parse_bundle(raw: bytes) -> EvidenceBundle:
    if len(raw) > MAX_BUNDLE_BYTES:
        raise ValidationFailed(
            "the bundle is larger than %(mib)s MiB",
            code="bundle.too-large",
            params={"mib": MAX_BUNDLE_BYTES // (1024 * 1024)},
        )
    try:
        return EvidenceBundle.model_validate(json.loads(raw))
    except (ValueError, ValidationError, RecursionError) as exc:  # RecursionError: JSON nested too deep
        raise ValidationFailed(
            "this file is not an evidence bundle (JSON with declaration, pack and packages)",
            code="bundle.not-a-bundle",
            errors=[{"field": "bundle", "message": str(exc).splitlines()[0][:300]}],
        ) from None


def _trust(ctx: NodeContext, anchors_pem: bytes | None) -> TrustStore:
    identity = ctx.identity
    if anchors_pem:
        try:
            anchors = load_certificates(anchors_pem)
        except (ValueError, ConnectorError):
            raise ValidationFailed(
                "the trust anchors are not PEM certificates",
                code="bundle.anchors-not-pem",
                errors=[{"field": "anchors", "message": "not PEM"}],
            ) from None
        return TrustStore(anchors, identity.crls if identity else (), clock_skew=ctx.settings.clock_skew)
    if identity is None or identity.trust is None:
        raise NotConfigured("this node has no trust anchors: upload the dataspace's root certificate with the bundle")
    return identity.trust


def _verifier_key(ctx: NodeContext) -> tuple[Any, Any]:
    identity = ctx.identity
    if identity is not None and identity.can_sign and identity.role == "verifier":
        return identity.key, identity.chain[0]
    return None, None


def verify_upload(ctx: NodeContext, raw: bytes, anchors_pem: bytes | None, actor: str) -> VerificationReport:
    """Verify an uploaded bundle; a verifier node opens the evidence sealed to it, any other node checks signatures."""
    bundle = parse_bundle(raw)
    key, cert = _verifier_key(ctx)
    report = verify_bundle(
        bundle,
        _trust(ctx, anchors_pem),
        at=ctx.now(),
        verifier_key=key,
        verifier_cert=cert,
        crls=ctx.identity.crls if ctx.identity else (),
        workers=1,
    )
    audit.append(
        ctx.session,
        actor,
        "bundle.verified",
        report.root.attestation_id or "",
        valid=report.valid,
        failures=len(report.failures),
    )
    return report


def certify_pack(ctx: NodeContext, raw: bytes, anchors_pem: bytes | None, actor: str, scope: str | None) -> str:
    """Certify the bundle's pack attestation with this verifier node's key (its evidence opened and re-checked)."""
    bundle = parse_bundle(raw)
    key, _ = _verifier_key(ctx)
    if key is None or ctx.identity is None:
        raise NotConfigured("only a node holding a verifier-role certificate can certify")
    if not bundle.pack.package or bundle.pack.package not in bundle.packages:
        raise ValidationFailed(
            "the pack attestation has no evidence package in this bundle", code="bundle.no-pack-evidence"
        )
    evidence = {
        "package": bundle.pack.package,
        "packages": {k: v.model_dump(mode="json", exclude_none=True) for k, v in bundle.packages.items()},
    }
    kwargs: dict[str, Any] = {"scope": scope} if scope else {}
    token = certify(
        bundle.pack.attestation,
        evidence,
        key,
        ctx.identity.chain,
        _trust(ctx, anchors_pem),
        at=ctx.now(),
        crls=ctx.identity.crls,
        **kwargs,
    )
    audit.append(ctx.session, actor, "attestation.certified", bundle.pack.attestation.split(".", 1)[0][:64])
    return token
