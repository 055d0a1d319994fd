"""The Catena-X PCF API as the node serves it: what its requests may carry (limits, patterns, our header of
verifiers) and the OpenAPI description of each route (parameters, the 202s, the error bodies), for router.py."""

from __future__ import annotations

import re
from typing import Any

X_VERIFIERS = "x-cfpconnector-verifiers"
"""Our query parameter (repeatable) naming the verifiers a customer wants the evidence sealed to: each a certificate
chain PEM, base64url-encoded. Another Catena-X provider ignores it; the data plane passes query parameters on."""
VERIFIERS_MAX = 8
VERIFIER_BYTES_MAX = 16_384

BPNL = re.compile(r"^BPNL[0-9A-Z]{12}$")
REQUEST_ID = re.compile(r"^[A-Za-z0-9:._-]{1,200}$")
MESSAGE_MAX = 250


def param(name: str, where: str, description: str, required: bool = False, **schema: Any) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": {"type": "string", **schema}}  # fmt: skip


ERROR_BODY = {
    "application/json": {
        "schema": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
        }
    }
}
ERRORS = {
    str(status): {"description": description, "content": ERROR_BODY}
    for status, description in (
        (400, "BadRequest: a missing or repeated Edc-Bpn, a bad requestId, part id, dataModelVersion or body"),
        (401, "AccessDenied: the data plane's proxy secret is missing or wrong"),
        (403, "AccessDenied: the BPNL is no partner of this node"),
        (404, "NotFound: no such product or request for this partner (not granted reads as missing)"),
        (413, "BadRequest: the body is over the node's limit"),
    )
}
HEADERS = [
    param("X-Api-Key", "header", "the proxy secret the data plane sends (header name: catenax.api_key_header)"),
    param("Edc-Bpn", "header", "the caller's BPNL, set by the EDC data plane", pattern="^BPNL[0-9A-Za-z]{12}$"),
]
VERSION = param("dataModelVersion", "query", "io.catenax.pcf version of the answer (9.0.0)")
REQUEST_ID_PATH = param("requestId", "path", "the customer's request id", True, pattern=REQUEST_ID.pattern)
PRODUCT_PATH = param("productId", "path", "the product (part) id", True)
ASK = [
    param("message", "query", "a message to the supplier", maxLength=MESSAGE_MAX),
    {
        **param(X_VERIFIERS, "query", f"verifiers to seal the evidence to: base64url PEM chains, ≤ {VERIFIERS_MAX}"),
        "schema": {"type": "array", "items": {"type": "string"}, "maxItems": VERIFIERS_MAX},
    },
]
PCF_BODY = {
    "required": True,
    "content": {"application/json": {"schema": {"type": "object", "description": "an io.catenax.pcf PCF"}}},
}


def doc(ok: int, ok_description: str, params: list[dict[str, Any]], body: bool = False) -> dict[str, Any]:
    extra: dict[str, Any] = {
        "parameters": [*params, *HEADERS],
        "responses": {str(ok): {"description": ok_description}, **ERRORS},
    }
    if body:
        extra["requestBody"] = PCF_BODY
    return extra


PART = [
    param("manufacturerPartId", "query", "the part, by the supplier's number (or customerPartId)"),
    param("customerPartId", "query", "the part, by the customer's number"),
]
