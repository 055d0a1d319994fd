"""What a service call needs: the session (one transaction) and the node's settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session

from ..config import Settings


@dataclass
class NodeContext:
    session: Session
    settings: Settings

    @property
    def company_id(self) -> str:
        return self.settings.company_id

    @staticmethod
    def now() -> datetime:
        return datetime.now(UTC)
