"""Audit entries are written with the transaction that added them: together at its commit, never after a rollback."""

from __future__ import annotations

from sqlmodel import Session, select

from connector.services import audit
from connector.storage.tables import AuditEntry, Product


def _actions(engine) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEntry.action).order_by(AuditEntry.seq)))


def _valid(engine) -> audit.ChainCheck:
    with Session(engine) as session:
        return audit.check_chain(session)


def test_the_entries_of_a_transaction_are_written_in_order_at_its_commit(engine) -> None:
    with Session(engine) as session:
        audit.append(session, "a", "first", "s", n=1)
        audit.append(session, "a", "second", "s", n=2)
        assert _actions(engine) == []  # not before the commit
        session.commit()
        audit.append(session, "a", "third", "s")
        session.commit()
    assert _actions(engine) == ["first", "second", "third"]
    check = _valid(engine)
    assert check.valid and check.entries == 3, check


def test_a_rolled_back_transaction_leaves_no_entry(engine) -> None:
    with Session(engine) as session:
        audit.append(session, "a", "undone")
        session.rollback()
        audit.append(session, "a", "kept")
        session.commit()
    assert _actions(engine) == ["kept"]
    assert _valid(engine).valid


def test_a_rolled_back_savepoint_takes_its_entries_and_only_its_entries(engine) -> None:
    with Session(engine) as session:
        audit.append(session, "a", "before")
        try:
            with session.begin_nested():
                session.add(Product(product_ids=["urn:x:p"], name="p", declared_unit="kilogram"))
                audit.append(session, "a", "inside")
                raise RuntimeError("fails")
        except RuntimeError:
            pass
        with session.begin_nested():
            audit.append(session, "a", "released")
        audit.append(session, "a", "after")
        session.commit()
        assert session.exec(select(Product)).all() == []
    assert _actions(engine) == ["before", "released", "after"]
    check = _valid(engine)
    assert check.valid and check.entries == 3, check


def test_a_commit_with_a_savepoint_open_writes_its_entries(engine) -> None:
    with Session(engine) as session:
        audit.append(session, "a", "outer")
        session.begin_nested()
        audit.append(session, "a", "inner")
        session.commit()  # commits the savepoint, then the transaction
    assert _actions(engine) == ["outer", "inner"]
    assert _valid(engine).valid


def test_entries_chain_across_transactions_and_the_group_commit(engine) -> None:
    writer = audit.AuditWriter(engine)
    with Session(engine) as session:
        for i in range(3):
            audit.append(session, "a", "tx", str(i))
            audit.append(session, "a", "tx", str(i))
            session.commit()
            writer.append_blocking("b", "read", str(i))
    writer.close()
    check = _valid(engine)
    assert check.valid and check.entries == 9, check


def test_the_group_commit_keeps_every_character_of_what_it_writes(engine) -> None:
    """The PostgreSQL writer sends a batch as one JSON text: quotes, backslashes, line breaks, Japanese and an empty
    or absent value come back as they went in, and the chain checks."""
    odd = ['a "quoted" \\ back\\slash', "line\nbreak\ttab", "電池の炭素足跡", "", "{not json}", "🔋"]
    writer = audit.AuditWriter(engine)
    for i, text in enumerate(odd):
        writer.append_blocking(text or "-", "odd", text, text=text, n=i, nested={"k": [text, None, 1.5]})
    writer.close()
    with Session(engine) as session:
        rows = list(session.exec(select(AuditEntry).where(AuditEntry.action == "odd").order_by(AuditEntry.seq)))
    assert [r.subject for r in rows] == odd
    assert [r.details for r in rows] == [
        {"text": t, "n": i, "nested": {"k": [t, None, 1.5]}} for i, t in enumerate(odd)
    ]
    assert rows[0].at.tzinfo is not None
    check = _valid(engine)
    assert check.valid and check.entries == len(odd), check
