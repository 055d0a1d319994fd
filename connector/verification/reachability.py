"""Reachability: ``packages``, every evidence package of the bundle is reached by the tree walk (nothing bundled
unused; an unopened package's references are unknown, so then the others are not checked rather than failed)."""

from __future__ import annotations

from .messages import said
from .report import EvidenceStatus, VerificationNode
from .walk_context import WalkContext

_HIDING = frozenset(
    {
        EvidenceStatus.NOT_OPENED,
        EvidenceStatus.CERTIFIED_NOT_OPENED,
        EvidenceStatus.SEALED_FOR_ANOTHER_VERIFIER,
        EvidenceStatus.FAILED,
    }
)
"""A package of these was not read: the ids it names are unknown."""


def check_packages(ctx: WalkContext, on: VerificationNode, top: VerificationNode) -> None:
    """``packages``: every package in the map is one the walk reached from ``top`` (nothing bundled unused). With a
    package left unopened its references are unknown, so the others are then reported as not checked, not failed."""
    if not ctx.packages:
        return
    nodes = [n for n in top.walk() if n.kind == "attestation"]
    referenced = {n.package for n in nodes if n.package is not None}
    unreferenced = [pid for pid in ctx.packages if pid not in referenced]
    hidden = sum(1 for n in nodes if n.evidence in _HIDING and n.package in ctx.packages)
    count = len(ctx.packages)
    if not unreferenced:
        on.ok("packages", said("verify.packages.ok", count=count))
    elif hidden:
        on.ok(
            "packages", said("verify.packages.not-checked", count=count, unreferenced=len(unreferenced), hidden=hidden)
        )
    else:
        shown = ", ".join(unreferenced[:5]) + (", ..." if len(unreferenced) > 5 else "")
        on.fail("packages", said("verify.packages.unused", unused=len(unreferenced), count=count, shown=shown))
