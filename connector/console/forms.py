"""Running a console form: the use case in the request's transaction, its refusal shown on the page, an audit entry.

A service's refusal (``ConnectorError``) or a body that does not validate rolls the transaction back and comes back
to the form as a message next to the field it names; nothing half-done is committed. Every change a user makes is
audited under the user's name (``user:<login>``), beside the entries the use case writes itself.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConnectorError, InvalidValue
from ..services import audit
from .i18n import N_, Labels, Message
from .session import Viewer

T = TypeVar("T")


@dataclass
class Outcome:
    """What a form produced: the value, or the message and the per-field messages to show (translated when the page
    is rendered: :class:`Message`, or a console msgid)."""

    value: Any = None
    error: Message | str | None = None
    fields: dict[str, Message | str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


PYDANTIC: dict[str, str] = {
    "missing": N_("Required."),
    "decimal_string": N_("A decimal number with a dot, e.g. 12.5 (no exponent)."),
    "decimal_parsing": N_("Not a decimal number."),
    "decimal_type": N_("Not a decimal number."),
    "decimal_max_digits": N_("At most %(max_digits)s digits."),
    "decimal_max_places": N_("At most %(decimal_places)s decimal places."),
    "greater_than": N_("Must be greater than %(gt)s."),
    "greater_than_equal": N_("Must be %(ge)s or more."),
    "less_than": N_("Must be less than %(lt)s."),
    "less_than_equal": N_("Must be %(le)s or less."),
    "string_too_long": N_("At most %(max_length)s characters."),
    "string_too_short": N_("At least %(min_length)s character(s)."),
    "string_pattern_mismatch": N_("Not in the expected format."),
    "string_type": N_("Must be text."),
    "too_long": N_("At most %(max_length)s items."),
    "too_short": N_("At least %(min_length)s item(s)."),
    "enum": N_("Must be one of %(expected)s."),
    "literal_error": N_("Must be one of %(expected)s."),
    "int_parsing": N_("Not a whole number."),
    "bool_parsing": N_("Must be yes or no."),
    "url_parsing": N_("Not a valid URL."),
    "url_scheme": N_("The URL must start with %(expected_schemes)s."),
    "url_type": N_("Not a valid URL."),
    "date_parsing": N_("Not a date (YYYY-MM-DD)."),
    "date_from_datetime_parsing": N_("Not a date (YYYY-MM-DD)."),
    "datetime_parsing": N_("Not a date and time."),
    "datetime_from_date_parsing": N_("Not a date and time."),
    "timezone_aware": N_("Give the time zone."),
    "extra_forbidden": N_("Not expected here."),
}
"""pydantic's error types (``err["type"]``) the console translates, each with the ``ctx`` params pydantic gives it;
another type is shown in pydantic's English."""


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not isinstance(p, int))


def pydantic_message(err: Mapping[str, Any]) -> Message:
    """One pydantic error in the reader's language: by its ``type``; a validator's :class:`InvalidValue` by its code."""
    english = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    ctx = err.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, InvalidValue):
        return Message(code=cause.code, params=cause.params, fallback=english)
    kind = str(err.get("type", ""))
    if kind in PYDANTIC:
        return Message(PYDANTIC[kind], params={k: v for k, v in ctx.items() if k != "error"}, fallback=english)
    return Message(fallback=english)


def validation_fields(exc: ValidationError) -> dict[str, Message | str]:
    out: dict[str, Message | str] = {}
    for err in exc.errors():
        out.setdefault(_field_name(tuple(err.get("loc", ()))) or "_", pydantic_message(err))
    return out


def core_message(exc: ConnectorError) -> Message:
    """A service's refusal: translated by its code, else its English ``detail``."""
    return Message(code=exc.code, params=exc.params, fallback=exc.detail)


def core_fields(exc: ConnectorError) -> dict[str, Message | str]:
    """The fields a refusal names: next to each, its item's English, or in another language the refusal translated."""
    return {
        str(e["field"]): Message(code=exc.code, params=exc.params, fallback=str(e.get("message") or exc.detail))
        for e in exc.errors
        if isinstance(e, dict) and e.get("field")
    }


def parse(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    return model.model_validate({k: v for k, v in data.items() if v not in ("", None)})


def _shown(fields: dict[str, Message | str], shown: Collection[str] | None) -> dict[str, Message | str]:
    """Messages for fields the form has no input for go to the form's own line (``_``), labelled."""
    if shown is None:
        return fields
    out = {k: v for k, v in fields.items() if k in shown}
    rest = tuple((k, v) for k, v in fields.items() if k not in shown)
    if rest:
        out["_"] = Message(parts=rest)
    return out


def act(
    viewer: Viewer,
    action: str,
    subject: str,
    run: Callable[[], T],
    shown: Collection[str] | None = None,
    *,
    contained: bool = False,
    **details: Any,
) -> Outcome:
    """Run ``run`` in the request's transaction; audit it as ``console.<action>`` by the user, or roll it back.

    ``shown``: the form's field names; a refusal naming another field is shown on the form's own line.
    ``contained``: a later step of a request that already did (and audited) something that must stay: ``run`` goes
    in a savepoint, so a refusal undoes only what ``run`` did, and is itself audited as ``console.<action>.failed``
    (with the refusal's code and English reason) beside the request's earlier entries."""
    session = viewer.ctx.session
    try:
        if contained:
            with session.begin_nested():
                value = run()
        else:
            value = run()
    except ValidationError as exc:
        _undo(viewer, action, subject, contained, "validation", str(exc))
        fields = validation_fields(exc)
        named = Labels(k for k in fields if k != "_")
        error = Message(N_("Some fields need attention: %(fields)s."), params={"fields": named}) if named else None
        error = error or Message(N_("Some fields need attention."))
        return Outcome(error=error, fields=_shown(fields, shown))
    except ConnectorError as exc:
        _undo(viewer, action, subject, contained, exc.code, exc.detail)
        return Outcome(error=core_message(exc), fields=_shown(core_fields(exc), shown))
    audit.append(session, viewer.actor, f"console.{action}", subject, **details)
    return Outcome(value=value)


def _undo(viewer: Viewer, action: str, subject: str, contained: bool, code: str, reason: str) -> None:
    """A refusal: the whole transaction rolled back; or, ``contained``, only the savepoint (already rolled back on
    leaving it), and the refusal audited."""
    if not contained:
        viewer.ctx.session.rollback()
        return
    audit.append(viewer.ctx.session, viewer.actor, f"console.{action}.failed", subject, code=code, reason=reason[:1000])


NOTICES = {
    "saved": N_("Saved."),
    "accepted": N_("Request accepted."),
    "rejected": N_("Request rejected."),
    "fulfilled": N_("Footprint sent to the customer."),
    "cancelled": N_("Request cancelled."),
    "resent": N_("Request sent again."),
    "requested": N_("Requests sent to the suppliers."),
    "issued": N_("A new footprint version was issued."),
    "unchanged": N_("Nothing changed since the active version: no new version."),
    "granted": N_("Grant added."),
    "revoked": N_("Grant withdrawn."),
    "unlinked": N_("Remembered link removed: later trades for the part wait for you again."),
    "declared": N_("Declaration issued."),
    "certified": N_("Certification received."),
    "deleted": N_("Deleted."),
}
