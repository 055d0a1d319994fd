"""Running a console form: the use case in the request's transaction, its refusal shown on the page, an audit entry.

A service's refusal (``ConnectorError``) or a body that does not validate rolls the transaction back and comes back
to the form as a message next to the field it names; nothing half-done is committed. Every change a user makes is
audited under the user's name (``user:<login>``), beside the entries the use case writes itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ..errors import ConnectorError
from ..services import audit
from .i18n import N_
from .session import Viewer

T = TypeVar("T")


@dataclass
class Outcome:
    """What a form produced: the value, or the message and the per-field messages to show."""

    value: Any = None
    error: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return parts[0] if parts else ""


def validation_fields(exc: ValidationError) -> dict[str, str]:
    out: dict[str, str] = {}
    for err in exc.errors():
        name = _field_name(tuple(err.get("loc", ())))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        out.setdefault(name or "_", message)
    return out


def parse(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    return model.model_validate({k: v for k, v in data.items() if v not in ("", None)})


def act(viewer: Viewer, action: str, subject: str, run: Callable[[], T], **details: Any) -> Outcome:
    """Run ``run`` in the request's transaction; audit it as ``console.<action>`` by the user, or roll it back."""
    session = viewer.ctx.session
    try:
        value = run()
    except ValidationError as exc:
        session.rollback()
        return Outcome(error=N_("Some fields need attention."), fields=validation_fields(exc))
    except ConnectorError as exc:
        session.rollback()
        fields = {
            str(e.get("field")): str(e.get("message")) for e in exc.errors if isinstance(e, dict) and e.get("field")
        }
        return Outcome(error=exc.detail, fields=fields)
    audit.append(session, viewer.actor, f"console.{action}", subject, **details)
    return Outcome(value=value)


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
