"""SQLAlchemy session events, listened to on the sessions that need them, never on the global ``Session`` class.

A listener on the class runs for every session of the process: with several nodes in one process (the in-process
test networks, ``connector demo``) each node's sessions would run every node's hooks. Listening on a session
instance keeps a hook with the session (so with the app, or the CLI command, that opened it), and a session no
use case asked for a hook pays nothing for it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

Listeners = Sequence[tuple[str, Callable[..., Any]]]
"""(event name, listener) pairs, as ``event.listen`` takes them."""


def listen_once(session: Session, key: str, listeners: Listeners) -> bool:
    """Attach ``listeners`` to ``session`` unless they were attached under ``key`` already; True when attached now.

    They stay for the session's life (its later transactions included) and go with it.
    """
    if key in session.info:
        return False
    for name, fn in listeners:
        event.listen(session, name, fn)
    session.info[key] = True
    return True
