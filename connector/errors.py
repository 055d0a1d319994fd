"""One error hierarchy. The web layer turns each into RFC 9457 problem+json (operator API) or a PACT error body.

An error may carry a stable machine ``code`` and its ``params``: then ``detail`` is an English template
(``"product %(product)s not found"``) formatted with the params. The operator API shows the English ``detail`` as
before; the browser console translates by the code (its catalog holds each code's Japanese) and falls back to the
English for a code it does not know. :class:`InvalidValue` is the same for a pydantic validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


def _render(template: str, params: Mapping[str, Any] | None) -> str:
    return template % dict(params) if params else template


class InvalidValue(ValueError):
    """A validator's refusal with a code and params: pydantic reports it as ``value_error`` (the API's message is
    ``"Value error, " + str(exc)``, unchanged), and keeps this exception in the error's ``ctx["error"]``, where the
    console reads the code."""

    def __init__(self, template: str, *, code: str, params: Mapping[str, Any] | None = None) -> None:
        self.code = code
        self.params = dict(params or {})
        super().__init__(_render(template, params))


class ConnectorError(Exception):
    """Base of every error the connector raises on purpose."""

    status: ClassVar[int] = 400
    type_: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    pact_code: ClassVar[str] = "BadRequest"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        """``detail`` is the English message; with ``params`` it is a ``%(name)s`` template formatted with them.
        ``code`` names the message for translation (no code: the class's ``type_``, which a console cannot
        translate with params, so it shows the English)."""
        detail = _render(detail, params)
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.code = code or self.type_
        self.params = dict(params or {})


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
