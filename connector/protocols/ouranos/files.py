"""``GET /api/v1/datatransport/cfpCertificationFile?fileId=``: the content of a certification file listed by ``GET
?dataTarget=cfpCertification`` (DTS 3.0.0 lists files but has no route for their content; a platform serves them by
its own download URLs). Same credentials as every DTS call: the ``apiKey`` header and an operator's bearer token.

A file of ours is :mod:`.proof`'s: an attestation with its sealed evidence. A ``fileId`` is an attestation we
issued, or a supplier's footprint we hold with its attestation (issued to us)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ...storage.tables import Attestation, UpstreamFootprint
from . import proof
from .call import Call
from .mapping import require_uuid
from .server import _authenticate, _serve
from .wire import DtsError

router = APIRouter(include_in_schema=False)
PATH = "/api/v1/datatransport/cfpCertificationFile"


def _file(call: Call, request: Request) -> Response:
    _authenticate(call, request, bearer=True)
    file_id = require_uuid(call.query.get("fileId"), "fileId")
    session = call.ctx.session
    held = session.get(UpstreamFootprint, file_id)
    if held is not None and held.attestation:
        return _answer(proof.file_bytes(held.attestation, held.evidence, held.certifications))
    att = session.get(Attestation, file_id)
    if att is not None:
        return _answer(proof.file_bytes(att.sd_jwt, att.evidence, att.certifications))
    raise DtsError(404, f"Validation failed, fileId: file {file_id} does not exist.", source="traceability")


def _answer(body: bytes) -> Response:
    return Response(body, media_type=proof.MEDIA_TYPE)


@router.get(PATH)
async def certification_file(request: Request) -> Response:
    return await _serve(request, "cfpCertificationFile", _file)
