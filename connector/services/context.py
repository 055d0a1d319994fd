"""What a service call needs: the session (one transaction), the node's settings and identity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from ..config import Settings

if TYPE_CHECKING:
    from .identity import NodeIdentity


@dataclass
class NodeContext:
    session: Session
    settings: Settings
    identity: NodeIdentity | None = None

    @property
    def company_id(self) -> str:
        return self.settings.company_id

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
