"""One DTS call as the handlers see it: the node context, the query, the body, and the caller's role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ...services.context import NodeContext
from .mapping import require_uuid
from .models import MAX_LIMIT
from .wire import DtsError, bad_request, loads

ROLES = ("viewer", "editor", "admin", "verifier")


@dataclass
class Call:
    ctx: NodeContext
    method: str
    target: str
    query: dict[str, str]
    raw: bytes
    base_url: str
    role: str = "viewer"
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> Any:
        return loads(self.raw)

    def model(self, model: type[Any], data: Any = None) -> Any:
        """The body (or ``data``) as ``model``; a 400 naming the first invalid field."""
        return parse(model, self.body() if data is None else data)

    def limit(self) -> int:
        raw = self.query.get("limit")
        if raw is None or raw == "":
            return MAX_LIMIT
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise bad_request(f"Validation failed, limit: must be an integer between 1 and {MAX_LIMIT}.")
        return int(raw)

    def flag(self, name: str) -> bool | None:
        raw = self.query.get(name)
        if raw is None or raw == "":
            return None
        if raw not in ("true", "false"):
            raise bad_request(f"Validation failed, {name}: must be true or false.")
        return raw == "true"

    def writes(self) -> None:
        """Writes need an editor (or admin) account."""
        if self.role not in ("editor", "admin"):
            raise DtsError(403, "You do not have the necessary privileges", source="auth")


def parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err.get("loc", ())) or "body"
        raise bad_request(f"Validation failed, {where}: {err.get('msg', 'invalid')}.") from None


def id_list(raw: str | None, name: str, most: int, *, required: bool) -> list[str]:
    """A comma-separated list of UUIDs (``traceIds``, ``operatorIds``)."""
    if raw is None or raw.strip() == "":
        if required:
            raise bad_request(f"Validation failed, {name}: cannot be blank.")
        return []
    items = [item.strip() for item in raw.split(",")]
    if len(items) > most:
        raise bad_request(f"Validation failed, {name}: at most {most} ids.")
    return [require_uuid(item, name) for item in items]
