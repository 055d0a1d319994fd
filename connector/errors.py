"""One error hierarchy. The web layer turns each into RFC 9457 problem+json (operator API) or a PACT error body."""

from __future__ import annotations

from typing import Any, ClassVar


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""

    status: ClassVar[int] = 400
    type_: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    pact_code: ClassVar[str] = "BadRequest"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ValidationFailed(ConnectorError):
    status = 422
    type_ = "validation-error"
    title = "Invalid input"


class UnitError(ValidationFailed):
    type_ = "unit-error"
    title = "Unknown or incompatible unit"


class TextWithNul(ConnectorError):
    """A text value holding U+0000: PostgreSQL cannot store it (nor compare with it), so no back end takes it. A 400
    (not a 422 naming fields): it is found in the query's parameters, where the field it came from is not known."""

    type_ = "text-with-nul"
    title = "Text contains a NUL character"

    def __init__(self) -> None:
        super().__init__("text must not contain the NUL character (U+0000)")


class CycleError(ValidationFailed):
    type_ = "bom-cycle"
    title = "Bill of materials would contain a cycle"


class NotFound(ConnectorError):
    status = 404
    type_ = "not-found"
    title = "Not found"
    pact_code = "NotFound"


class Conflict(ConnectorError):
    status = 409
    type_ = "conflict"
    title = "Conflict"


class Unauthenticated(ConnectorError):
    status = 401
    type_ = "unauthenticated"
    title = "Authentication required"
    pact_code = "AccessDenied"


class Forbidden(ConnectorError):
    status = 403
    type_ = "forbidden"
    title = "Forbidden"
    pact_code = "AccessDenied"


class MissingUpstream(ConnectorError):
    status = 409
    type_ = "missing-upstream"
    title = "An upstream footprint is missing"


class InvalidSignature(ConnectorError):
    """Every signature, certificate or token failure, deliberately without saying which check failed.

    The detailed reason is kept in ``reason`` for logs and verification reports; it never goes to a peer.
    """

    status = 400
    type_ = "invalid-signature"
    title = "Invalid signature or credential"

    def __init__(self, reason: str = "invalid") -> None:
        super().__init__("signature, certificate or credential check failed")
        self.reason = reason


class TrustError(InvalidSignature):
    """A certificate chain, role or revocation check failed."""


class Unavailable(ConnectorError):
    """The database could not be reached or lost the connection: retryable (the response says when)."""

    status = 503
    type_ = "unavailable"
    title = "Service unavailable"
    pact_code = "InternalError"
    retry_after = 2
