"""The certification file that carries a footprint's proof over Ouranos (decisions 0021 and 0022).

Ouranos values are not signed. Next to them, a connector node lists a ``cfpCertification`` file of media type
:data:`MEDIA_TYPE` (one constant, ``cfp.MEDIA_TYPE``, for the server and the client): a JSON object
``{"mediaType": MEDIA_TYPE, "productFootprint": <PACT v3 ProductFootprint>}``, the footprint as the reader's company
gets it over PACT, whose extension carries the signed attestation addressed to it and the sealed evidence. A reader
that holds the file verifies it as it verifies a PACT answer; one that finds none takes the values as entered.
"""

from __future__ import annotations

from typing import Any

from ...strict_json import canonical_json, strict_json_loads
from .. import adapter
from .cfp import MEDIA_TYPE

__all__ = ["MEDIA_TYPE", "file_bytes", "read_file", "rendered", "stages_of"]


def rendered(ctx: Any, footprint: Any, product: Any, audience: str, *, fresh: bool = False) -> dict[str, Any]:
    """The footprint as ``audience`` gets it over PACT, attested to it (through the registry: one protocol's folder
    never imports another's)."""
    return adapter("pact").footprint_document(ctx, footprint, product, audience, fresh=fresh)


def stages_of(document: dict[str, Any]) -> dict[str, Any]:
    """The per-stage values our extension of a ProductFootprint carries (empty when it has none)."""
    for ext in document.get("extensions") or []:
        data = ext.get("data") if isinstance(ext, dict) else None
        if isinstance(data, dict) and isinstance(data.get("stages"), dict):
            return data["stages"]
    return {}


def file_bytes(document: dict[str, Any]) -> bytes:
    return canonical_json({"mediaType": MEDIA_TYPE, "productFootprint": document})


def read_file(raw: bytes) -> dict[str, Any]:
    """The ProductFootprint a certification file carries; ValueError when it is not one of ours."""
    body = strict_json_loads(raw)
    if not isinstance(body, dict) or body.get("mediaType") != MEDIA_TYPE:
        raise ValueError(f"not a {MEDIA_TYPE} file")
    document = body.get("productFootprint")
    if not isinstance(document, dict):
        raise ValueError("the file carries no productFootprint object")
    return document
