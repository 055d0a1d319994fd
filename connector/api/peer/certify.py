"""Per-tier certification: a supplier asks a verifier node to open its evidence and certify one attestation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ...protocols.pact.deps import CallerDep
from ...services import declaring
from ..deps import ContextDep
from ..strict_body import StrictJsonRoute

router = APIRouter(tags=["peer: certification"], route_class=StrictJsonRoute)


class CertificationRequestMessage(BaseModel):
    attestation: str = Field(min_length=1, description="the SD-JWT to certify (issued by the caller)")
    evidence: dict[str, Any] = Field(description="its evidence package, sealed to this verifier")
    scope: str | None = Field(None, max_length=300)


@router.post("/peer/v1/certifications", summary="Certify an attestation (verifier nodes)")
def certify(ctx: ContextDep, caller: CallerDep, body: CertificationRequestMessage) -> dict[str, str]:
    """Open the caller's evidence, verify its whole subtree and return a signed certification credential."""
    token = declaring.certify_for(ctx, caller.company_id, body.attestation, body.evidence, body.scope)
    return {"certification": token}
