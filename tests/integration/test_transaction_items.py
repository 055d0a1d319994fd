"""connector.storage.transaction_items: a transaction's items follow its savepoints and end with it."""

from __future__ import annotations

from sqlalchemy import event, text
from sqlmodel import Session

from connector.storage.transaction_items import TransactionItems

ITEMS = TransactionItems("test.transaction-items")
TAKEN = "test.transaction-items.taken"


def _taken_at_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info[TAKEN] = ITEMS.take(session)


def _session(engine) -> Session:
    session = Session(engine)
    event.listen(session, "after_commit", _taken_at_commit)
    return session


def test_nested_savepoints_keep_what_was_released_and_drop_what_rolled_back(engine) -> None:
    with _session(engine) as session:
        session.exec(text("SELECT 1"))
        ITEMS.add(session, "a")
        with session.begin_nested():
            ITEMS.add(session, "b")
            try:
                with session.begin_nested():
                    ITEMS.add(session, "c")
                    raise RuntimeError("inner fails")
            except RuntimeError:
                pass
            assert ITEMS.pending(session) == ["a", "b"]
            ITEMS.add(session, "d")
        try:
            with session.begin_nested():
                ITEMS.add(session, "e")
                with session.begin_nested():
                    ITEMS.add(session, "f")  # released into a savepoint that then rolls back: gone with it
                raise RuntimeError("outer fails")
        except RuntimeError:
            pass
        ITEMS.add(session, "g")
        session.commit()
        assert session.info[TAKEN] == ["a", "b", "d", "g"]
        assert ITEMS.pending(session) == []


def test_a_rolled_back_transaction_leaves_nothing_for_the_next_one(engine) -> None:
    with _session(engine) as session:
        session.exec(text("SELECT 1"))
        ITEMS.add(session, "lost")
        session.rollback()
        assert ITEMS.pending(session) == []
        session.exec(text("SELECT 1"))
        ITEMS.add(session, "kept")
        session.commit()
        assert session.info[TAKEN] == ["kept"]


def test_the_first_item_inside_a_savepoint_goes_with_it(engine) -> None:
    # the session follows its transactions from its first item: savepoints open by then count too
    with _session(engine) as session:
        session.exec(text("SELECT 1"))
        try:
            with session.begin_nested():
                with session.begin_nested():
                    ITEMS.add(session, "inner")
                ITEMS.add(session, "outer")
                raise RuntimeError("outer fails")
        except RuntimeError:
            pass
        ITEMS.add(session, "kept")
        session.commit()
        assert session.info[TAKEN] == ["kept"]


def test_hooks_are_listened_to_on_the_session_not_the_session_class(engine) -> None:
    from connector.services import audit

    with Session(engine) as quiet, Session(engine) as auditing:
        audit.append(auditing, "test", "hooked")
        assert event.contains(auditing, "before_commit", audit._write_pending)
        assert not event.contains(quiet, "before_commit", audit._write_pending)
        assert not event.contains(Session, "before_commit", audit._write_pending)
        auditing.commit()
