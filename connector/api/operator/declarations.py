"""The OEM's declarations and the verifier's checks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col
from starlette.concurrency import run_in_threadpool

from ...declaration import (
    ConformityInput,
    DeclarationInput,
    render_conformity_html,
    render_declaration_html,
    to_battery_pass,
    to_catenax_battery_pass,
)
from ...declaration.exports import catenax_left_to_merge
from ...errors import NotFound, ValidationFailed
from ...protocols import PeerError
from ...services import declaring
from ...storage import repositories as repo
from ...storage.tables import Attestation
from ...storage.tables import DeclarationRecord as DeclarationRow
from ..deps import ContextDep, EditorDep, VerifyDep, ViewerDep
from ..strict_body import StrictJsonRoute
from . import examples as ex
from .paging import PagingDep

router = APIRouter(tags=["declarations"], route_class=StrictJsonRoute)

CATENAX_PASSPORT_BODY = (
    "The automaker's io.catenax.battery.battery_pass 6.1.0 passport without the members the declaration owns "
    "(sustainability.carbonFootprint, conformity.declarationOfConformityId, specVersion; any given are replaced). "
    "Example: examples/nmc811-catenax-passport.json."
)


class DeclarationSummary(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    battery_model: str = Field(alias="batteryModel")
    pack_product_id: str = Field(alias="packProductId")
    created_at: Any = Field(alias="createdAt")
    document: dict[str, Any]
    signed: str | None = Field(None, description="the declaration VC, compact JWS")


def _summary(row: DeclarationRow) -> DeclarationSummary:
    return DeclarationSummary(
        id=row.id,
        battery_model=row.battery_model,
        pack_product_id=row.pack_product_id,
        created_at=row.created_at,
        document=row.document,
        signed=row.signed,
    )


@router.post(
    "/declarations",
    status_code=status.HTTP_201_CREATED,
    response_model=DeclarationSummary,
    response_model_by_alias=True,
)
def create_declaration(
    ctx: ContextDep, _: EditorDep, body: Annotated[DeclarationInput, Body(openapi_examples=ex.DECLARATION)]
) -> DeclarationSummary:
    """Issue the Art. 7 declaration from the attested pack footprint this node holds (oem nodes)."""
    return _summary(declaring.declare(ctx, body))


@router.get("/declarations", response_model=dict)
def list_declarations(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> dict[str, Any]:
    """List issued declarations."""
    items, total = repo.page(
        ctx.session,
        DeclarationRow,
        order=col(DeclarationRow.created_at).desc(),
        limit=paging.limit,
        offset=paging.offset,
    )
    paging.link(total)
    return {
        "items": [_summary(r).model_dump(mode="json", by_alias=True) for r in items],
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
    }


@router.get("/declarations/{declaration_id}", response_model=DeclarationSummary, response_model_by_alias=True)
def get_declaration(ctx: ContextDep, _: ViewerDep, declaration_id: str) -> DeclarationSummary:
    """Get a declaration: the document and its signed credential."""
    return _summary(declaring.get_declaration(ctx, declaration_id))


@router.get("/declarations/{declaration_id}/bundle")
def get_bundle(ctx: ContextDep, _: ViewerDep, declaration_id: str) -> JSONResponse:
    """The evidence bundle for the notified body (declaration, pack attestation, sealed evidence, CRLs)."""
    row = declaring.get_declaration(ctx, declaration_id)
    return JSONResponse(
        declaring.bundle_of(row), headers={"Content-Disposition": f'attachment; filename="bundle-{row.id}.json"'}
    )


@router.get("/declarations/{declaration_id}/html", response_class=HTMLResponse)
def get_html(ctx: ContextDep, _: ViewerDep, declaration_id: str) -> HTMLResponse:
    """The declaration as a printable page."""
    return HTMLResponse(render_declaration_html(declaring.document_of(declaring.get_declaration(ctx, declaration_id))))


@router.get("/declarations/{declaration_id}/battery-pass")
def get_battery_pass(ctx: ContextDep, _: ViewerDep, declaration_id: str) -> dict[str, Any]:
    """Battery Pass CarbonFootprintForBatteries 1.2.0 export."""
    return to_battery_pass(declaring.document_of(declaring.get_declaration(ctx, declaration_id)))


@router.get("/declarations/{declaration_id}/catenax")
def get_catenax(ctx: ContextDep, _: ViewerDep, declaration_id: str) -> JSONResponse:
    """The declaration's part of a Catena-X battery_pass 6.1.0 passport (specVersion, sustainability.carbonFootprint,
    conformity.declarationOfConformityId); the Catena-X-Left-To-Merge header lists the required members the
    automaker merges. POST the automaker's passport to this path for the whole aspect."""
    document = declaring.document_of(declaring.get_declaration(ctx, declaration_id))
    return JSONResponse(
        to_catenax_battery_pass(document),
        headers={"Catena-X-Left-To-Merge": ", ".join(catenax_left_to_merge(document))},
    )


@router.post("/declarations/{declaration_id}/catenax")
def merge_catenax(
    ctx: ContextDep,
    _: ViewerDep,
    declaration_id: str,
    passport: Annotated[dict[str, Any], Body(description=CATENAX_PASSPORT_BODY, openapi_examples=ex.CATENAX_PASSPORT)],
) -> dict[str, Any]:
    """The whole Catena-X battery_pass 6.1.0 aspect: the automaker's passport (the body) with the declaration's
    carbon footprint and DoC id merged in; 422 naming every required member still missing. Nothing is stored."""
    document = declaring.document_of(declaring.get_declaration(ctx, declaration_id))
    return to_catenax_battery_pass(document, passport=passport)


@router.post("/declarations/{declaration_id}/conformity", response_class=HTMLResponse)
def conformity(
    ctx: ContextDep,
    _: ViewerDep,
    declaration_id: str,
    body: Annotated[ConformityInput, Body(openapi_examples=ex.CONFORMITY)],
    request: Request,
) -> Any:
    """The Annex IX EU declaration of conformity (HTML, or JSON with Accept: application/json)."""
    doc = declaring.conformity(declaring.get_declaration(ctx, declaration_id), body)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(doc.model_dump(mode="json", by_alias=True))
    return HTMLResponse(render_conformity_html(doc))


@router.get("/declarations/{declaration_id}/check")
def self_check(ctx: ContextDep, _: ViewerDep, declaration_id: str) -> dict[str, Any]:
    """What this node can verify of its own bundle (signatures, chains, digests; evidence stays sealed)."""
    report = declaring.self_check(ctx, declaring.get_declaration(ctx, declaration_id))
    return report.model_dump(mode="json")


@router.post("/verify")
def verify(
    ctx: ContextDep,
    _: VerifyDep,
    body: dict[str, Any],
    require_attested: Annotated[
        bool,
        Query(
            alias="requireAttested",
            description="Make any input entered without an attestation, anywhere in the tree, a failure.",
        ),
    ] = False,
) -> dict[str, Any]:
    """Verify an evidence bundle with this verifier node's key; returns the full report (its ``attestedCoverage``,
    ``enteredInputs`` and ``fullyAttested`` say how much rests on attested values)."""
    return declaring.verify(ctx, body, require_attested=require_attested).model_dump(mode="json")


class CertifyBody(BaseModel):
    verifier_url: str = Field(alias="verifierUrl", pattern=r"^https?://")
    scope: str | None = None


@router.get("/attestations", response_model=dict)
def list_attestations(ctx: ContextDep, _: ViewerDep, paging: PagingDep) -> dict[str, Any]:
    """Attestations this node issued (to which customer, for which footprint, with which certifications)."""
    items, total = repo.page(
        ctx.session, Attestation, order=col(Attestation.created_at).desc(), limit=paging.limit, offset=paging.offset
    )
    paging.link(total)
    return {
        "items": [
            {
                "id": a.id,
                "footprintId": a.footprint_id,
                "audience": a.audience,
                "digest": a.digest,
                "verifierCount": len(a.verifiers),
                "certifications": len(a.certifications),
                "createdAt": a.created_at.isoformat(),
            }
            for a in items
        ],
        "total": total,
        "limit": paging.limit,
        "offset": paging.offset,
    }


@router.post("/attestations/{attestation_id}/certify", response_model=dict)
async def certify_attestation(
    request: Request,
    ctx: ContextDep,
    _: EditorDep,
    attestation_id: str,
    body: Annotated[CertifyBody, Body(openapi_examples=ex.CERTIFY)],
) -> dict[str, Any]:
    """Ask a verifier node to certify one of our attestations; the certification then travels downstream."""
    row = await run_in_threadpool(ctx.session.get, Attestation, attestation_id)
    if row is None:
        raise NotFound(f"attestation {attestation_id} not found")
    if not row.evidence:
        raise ValidationFailed("this attestation has no sealed evidence; a verifier has nothing to open")
    client = request.app.state.peer_client
    try:
        token = await client.request_certification(body.verifier_url.rstrip("/"), row.sd_jwt, row.evidence, body.scope)
    except PeerError as exc:
        raise ValidationFailed(f"the verifier refused or could not be reached: {exc}") from None
    await run_in_threadpool(declaring.store_certification, ctx, attestation_id, token)
    return {"attestationId": attestation_id, "certification": token}
