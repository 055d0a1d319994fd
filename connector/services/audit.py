"""Append-only, hash-chained audit log: every peer access and every attestation issued."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from ..storage.tables import AuditEntry, utcnow

GENESIS = "0" * 64


def _digest(prev: str, at: datetime, actor: str, action: str, subject: str, details: dict[str, Any]) -> str:
    body = json.dumps({"prev": prev, "at": at.isoformat(), "actor": actor, "action": action, "subject": subject,
                       "details": details}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def append(session: Session, actor: str, action: str, subject: str = "", **details: Any) -> AuditEntry:
    """Add an entry chained to the previous one, in the caller's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        # serialise appends so two transactions never chain to the same predecessor
        session.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    last = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(1)).first()
    prev = last.hash if last else GENESIS
    at = utcnow().replace(microsecond=utcnow().microsecond // 1000 * 1000)
    details = json.loads(json.dumps(details, default=str))
    entry = AuditEntry(at=at, actor=actor, action=action, subject=subject, details=details, prev_hash=prev,
                       hash=_digest(prev, at, actor, action, subject, details))
    session.add(entry)
    session.flush()
    return entry


@dataclass
class ChainCheck:
    valid: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None


def check_chain(session: Session) -> ChainCheck:
    """Recompute every hash; report the first entry that does not chain or whose content changed."""
    prev = GENESIS
    count = 0
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))):
        count += 1
        if entry.prev_hash != prev:
            return ChainCheck(False, count, entry.seq, "previous hash does not match (entry removed or reordered)")
        if _digest(prev, entry.at, entry.actor, entry.action, entry.subject, entry.details) != entry.hash:
            return ChainCheck(False, count, entry.seq, "entry content changed")
        prev = entry.hash
    return ChainCheck(True, count)
