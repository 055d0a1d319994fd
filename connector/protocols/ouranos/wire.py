"""JSON in and out of the DTS API: numbers read as ``Decimal`` and written as JSON numbers (exact, never through
float); duplicate members, NaN and Infinity refused; errors in DTS's ``{code, message, detail}`` form."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

from ...decimals import format_decimal

SOURCES = ("dataspace", "auth", "traceability")
_STATUS_CODES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "AccessDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "BadRequest",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


class DtsError(Exception):
    """An error answered in DTS's form: ``code`` is ``[<source>] <Status>``."""

    def __init__(
        self, status: int, message: str, *, source: str = "dataspace", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.source = status, message, source
        self.headers = headers or {}


def bad_request(message: str, source: str = "dataspace") -> DtsError:
    return DtsError(400, message, source=source)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate member in object")
    return out


def _constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def loads(raw: bytes) -> Any:
    """The request body, or a 400 in DTS's words."""
    if not raw.strip():
        raise bad_request("Validation failed, request body is empty")
    try:
        return json.loads(raw, parse_float=Decimal, object_pairs_hook=_pairs, parse_constant=_constant)
    except (ValueError, RecursionError) as exc:
        raise bad_request(f"Validation failed, {str(exc)[:200]}") from None


def dumps(body: Any) -> bytes:
    """Compact JSON with every Decimal as an exact number literal: each is written as a string marked with a nonce
    drawn for this call, and the marks are then unquoted (a client's text cannot carry a nonce it never saw)."""
    nonce = uuid.uuid4().hex
    text = json.dumps(_marked(body, nonce), ensure_ascii=False, separators=(",", ":"))
    if nonce in text:
        text = re.sub(f'"{nonce}:([^"]*)"', r"\1", text)
    return text.encode()


def _marked(value: Any, nonce: str) -> Any:
    if isinstance(value, Decimal):
        return f"{nonce}:{format_decimal(value)}"
    if isinstance(value, dict):
        return {k: _marked(v, nonce) for k, v in value.items()}
    if isinstance(value, list):
        return [_marked(v, nonce) for v in value]
    return value


def track() -> str:
    return str(uuid.uuid4())


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    out = {"x-track": track(), **(headers or {})}
    return Response(dumps(body), status_code=status, media_type="application/json", headers=out)


def error_response(exc: DtsError, data_target: str, method: str) -> Response:
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    tracked = track()
    body = {
        "code": f"[{exc.source}] {_STATUS_CODES.get(exc.status, 'BadRequest')}",
        "message": exc.message,
        "detail": f"id: {tracked}, timeStamp: {at}, dataTarget: {data_target}, method: {method}",
    }
    headers = {**exc.headers, "x-track": tracked}
    return Response(dumps(body), status_code=exc.status, media_type="application/json", headers=headers)
