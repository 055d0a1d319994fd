"""The certification file that carries a footprint's proof over Ouranos (decisions 0021 and 0022).

Ouranos values are not signed. Next to them, a connector node lists ``cfpCertification`` files of media type
:data:`MEDIA_TYPE` (one constant, ``cfp.MEDIA_TYPE``, for the server and the client), each a JSON object
``{"sdJwt": <the SD-JWT attestation>, "evidence": <the sealed evidence bundle or null>, "certifications": [...]}``:
an attestation issued to the reader's company. A reader that verifies one whose values are the platform's keeps
the value attested, exact, with its evidence; one that finds none takes the values as entered.
"""

from __future__ import annotations

from typing import Any

from ...strict_json import strict_json_loads
from .cfp import MEDIA_TYPE

__all__ = ["MEDIA_TYPE", "read_file"]


def read_file(raw: bytes) -> dict[str, Any]:
    """A certification file of ours; ValueError when it is not one."""
    body = strict_json_loads(raw)
    if not isinstance(body, dict) or not isinstance(body.get("sdJwt"), str) or not body["sdJwt"]:
        raise ValueError(f"not a {MEDIA_TYPE} file: no sdJwt")
    if not isinstance(body.get("certifications", []), list):
        raise ValueError(f"not a {MEDIA_TYPE} file: certifications is not a list")
    return {
        "sdJwt": body["sdJwt"],
        "evidence": body.get("evidence"),
        "certifications": body.get("certifications") or [],
    }
