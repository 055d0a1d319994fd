"""Items a session's transaction collects for its commit, forgetting the ones added in a savepoint that rolls back.

The audit log writes a transaction's entries at its commit; the outbox hands a transaction's messages to the worker
after its commit. Both must lose what a rolled-back savepoint added (``attempt_fulfil`` runs in one) and everything
when the transaction rolls back, and keep what a released savepoint added. :class:`TransactionItems` keeps that list
in ``session.info`` and follows the session's transactions through SQLAlchemy's session events, listened to on
the session from its first item (:mod:`connector.storage.session_events`), not on the Session class.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, SessionTransaction

from .session_events import listen_once


class TransactionItems:
    """A per-session list under ``name`` in ``session.info``.

    :meth:`add` appends; a savepoint that rolls back truncates the list to its length when the savepoint began; the
    end of the root transaction (committed or rolled back) clears it, so the owner takes the items at the commit
    (``before_commit``: still in the transaction; ``after_commit``: once the database has them) with :meth:`take`.
    """

    def __init__(self, name: str) -> None:
        self._items = f"{name}.items"
        self._marks = f"{name}.savepoints"
        self._following = f"{name}.following"
        self._listeners = (
            ("after_transaction_create", self._begun),
            ("after_commit", self._released),
            ("after_transaction_end", self._ended),
        )

    def add(self, session: Session, item: Any) -> None:
        if self._following not in session.info:
            self._follow(session)
        session.info.setdefault(self._items, []).append(item)

    def _follow(self, session: Session) -> None:
        """Listen to the session's transactions from its first item on; the savepoints open already began with no
        item collected, so one that rolls back takes every item from here."""
        listen_once(session, self._following, self._listeners)
        marks = session.info.setdefault(self._marks, {})
        transaction = session.get_nested_transaction()
        while transaction is not None and transaction.nested:
            marks.setdefault(transaction, 0)
            transaction = transaction.parent

    def take(self, session: Session) -> list[Any]:
        """The items collected so far, removed from the session."""
        return session.info.pop(self._items, None) or []

    def pending(self, session: Session) -> list[Any]:
        """The items collected so far, left in place."""
        return session.info.get(self._items, [])

    def _begun(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            session.info.setdefault(self._marks, {})[transaction] = len(session.info.get(self._items, ()))

    def _released(self, session: Session) -> None:
        if session.in_nested_transaction():  # a savepoint released: its items stay, for the enclosing commit
            session.info.get(self._marks, {}).pop(session.get_nested_transaction(), None)

    def _ended(self, session: Session, transaction: SessionTransaction) -> None:
        if transaction.nested:
            mark = session.info.get(self._marks, {}).pop(transaction, None)
            if mark is not None:  # rolled back (a released savepoint was removed in _released)
                del session.info.get(self._items, [])[mark:]
        elif transaction.parent is None:  # taken at the commit, or rolled back: either way nothing is pending now
            session.info.pop(self._items, None)
            session.info.pop(self._marks, None)
