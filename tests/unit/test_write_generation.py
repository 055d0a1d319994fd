"""The process-wide write generation (storage/write_generation.py, decision 0026): every committed write that may
change an answer moves it, whether an ORM flush, a Core statement on a session's connection or on a bare
connection wrote it; a rolled-back write, the audit log (both its writers) and a read do not."""

from __future__ import annotations

import concurrent.futures
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.protocols.pact import cache as pact_cache
from connector.services import audit
from connector.storage import requests as request_rows
from connector.storage import write_generation
from connector.storage.answer_cache import AnswerCache
from connector.storage.tables import CfpRequest, Product, utcnow

_PRODUCT = Product.__table__  # type: ignore[attr-defined]


def _product(engine: Engine) -> str:
    with Session(engine) as session:
        product = Product(product_ids=["urn:x:p"], name="p", declared_unit="kilogram")
        session.add(product)
        session.commit()
        return product.id


def _outgoing(engine: Engine) -> str:
    with Session(engine) as session:
        req = CfpRequest(direction="outgoing", event_id="ev-1", company_id="urn:x:supplier")
        session.add(req)
        session.commit()
        return req.event_id


def test_a_request_failed_through_the_raw_connection_moves_it(engine: Engine) -> None:
    # the known miss: fail_request is a Core UPDATE on the session's connection, which no ORM session event saw
    event_id = _outgoing(engine)
    cache: AnswerCache[str] = AnswerCache(ttl=3600)
    cache.put("status", "pending", write_generation.generation())
    with Session(engine) as session:
        assert request_rows.fail_request(session, event_id, "could not be delivered", utcnow()) is not None
        assert cache.get("status") == "pending"  # not before the commit
        session.commit()
    assert cache.get("status") is None
    with Session(engine) as session:
        assert session.exec(select(CfpRequest.state)).one() == "failed"


def test_a_core_update_on_a_bare_connection_moves_it_at_commit(engine: Engine) -> None:
    product_id = _product(engine)
    before = write_generation.generation()
    with engine.connect() as conn:
        conn.execute(update(_PRODUCT).where(_PRODUCT.c.id == product_id).values(name="q"))
        assert write_generation.generation() == before
        conn.commit()
        assert write_generation.generation() > before
    before = write_generation.generation()
    with engine.begin() as conn:
        conn.execute(text("UPDATE product SET name = 'r'"))
    assert write_generation.generation() > before
    before = write_generation.generation()
    with engine.begin() as conn:
        conn.exec_driver_sql('DELETE FROM "grant"')
    assert write_generation.generation() > before


def test_a_rolled_back_core_write_does_not_move_it(engine: Engine) -> None:
    product_id = _product(engine)
    before = write_generation.generation()
    with engine.connect() as conn:
        conn.execute(update(_PRODUCT).where(_PRODUCT.c.id == product_id).values(name="q"))
        conn.rollback()
        conn.execute(select(Product.name)).all()
        conn.commit()  # a later transaction that only read: the rolled-back write is forgotten
    with engine.connect() as conn:
        conn.execute(text("UPDATE product SET name = 'r'"))
    # closed without a commit: rolled back
    with Session(engine) as session:
        request_rows.fail_request(session, "no-such-event", "r", utcnow())
        session.rollback()
    assert write_generation.generation() == before


def test_a_connection_invalidated_after_a_write_still_rolls_back_and_closes(engine: Engine) -> None:
    # the rollback event fires on the invalidated connection: its listener must not try to reach the DBAPI connection
    # (Connection.info would reconnect, or raise PendingRollbackError mid-transaction)
    with engine.connect() as conn:
        conn.execute(text("UPDATE product SET name = 'x'"))
        conn.invalidate()
    with Session(engine) as session:
        session.execute(text("UPDATE product SET name = 'x'"))
        session.connection().invalidate()
        session.rollback()
        assert session.exec(select(Product)).all() == []  # usable again, on a new connection


def test_reads_and_writes_to_ignored_tables_do_not_move_it(engine: Engine) -> None:
    _product(engine)
    before = write_generation.generation()
    with Session(engine) as session:
        session.exec(select(Product)).all()
        session.commit()
        audit.append(session, "me", "something", "")  # the session's own audit entry, written at its commit
        session.commit()
    with engine.begin() as conn:
        conn.execute(text("SELECT name FROM product")).all()
    writer = audit.AuditWriter(engine)  # the group commit: raw psycopg on PostgreSQL, driver SQL on SQLite
    writer.append_blocking("a", "pact.get", "s")
    with engine.connect() as conn:
        audit._write_batch(
            conn, [audit._Pending("a", "pact.get", str(i), {}, concurrent.futures.Future()) for i in range(3)]
        )
    writer.close()
    with Session(engine) as session:
        assert audit.check_chain(session).entries == 5
    assert write_generation.generation() == before


def test_orm_writes_move_it_at_commit(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(Product(product_ids=["urn:x:p"], name="p", declared_unit="kilogram"))
        session.flush()
        before = write_generation.generation()
        session.commit()
        assert write_generation.generation() > before
        before = write_generation.generation()
        session.execute(update(Product).values(name="bulk"))  # ORM-enabled bulk UPDATE
        session.commit()
        assert write_generation.generation() > before


@pytest.mark.parametrize("bare", [False, True])
def test_an_answer_read_while_the_commit_is_under_way_is_not_kept(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, bare: bool
) -> None:
    # a reader that takes the generation after the commit began but reads before the database committed reads the
    # old rows: the generation must move again once the commit is done
    _product(engine)
    cache: AnswerCache[str] = AnswerCache(ttl=3600)
    real = engine.dialect.do_commit
    during: list[int] = []

    def commit(dbapi_conn: Any) -> None:
        during.append(write_generation.generation())  # what a reader starting now takes
        real(dbapi_conn)

    monkeypatch.setattr(engine.dialect, "do_commit", commit)
    if bare:
        with engine.begin() as conn:
            conn.execute(text("UPDATE product SET name = 'new'"))
    else:
        with Session(engine) as session:
            session.execute(text("UPDATE product SET name = 'new'"))
            session.commit()
    cache.put("k", "old", during[-1])
    assert cache.get("k") is None


def test_the_pact_cache_counts_on_the_same_generation(engine: Engine) -> None:
    cache = pact_cache.ReadCache(ttl=3600)
    cache.put("k", b"v", pact_cache.generation(), 1)
    assert pact_cache.generation() == write_generation.generation()
    with engine.begin() as conn:
        conn.execute(text("UPDATE product SET name = 'x'"))
    assert cache.get("k") is None


@pytest.mark.parametrize(
    ("sql", "writes"),
    [
        ("SELECT 1", False),
        ("  select * from product for update", False),
        ("BEGIN IMMEDIATE", False),
        ("SAVEPOINT sa_savepoint_1", False),
        ("RELEASE SAVEPOINT sa_savepoint_1", False),
        ("ROLLBACK TO SAVEPOINT sa_savepoint_1", False),
        ("PRAGMA foreign_keys=ON", False),
        ("INSERT INTO auditentry (at) VALUES (?)", False),
        ('insert into "auditentry" (at) values (%s)', False),
        ("DELETE FROM outboxmessage WHERE id = ?", False),
        ("UPDATE inboxevent SET x = 1", False),
        ("INSERT OR IGNORE INTO usedassertion (jti) VALUES (?)", False),
        ("WITH last AS (SELECT 1) SELECT * FROM last", False),
        ("INSERT INTO product (id) VALUES (?)", True),
        ('UPDATE public."cfprequest" SET state = %s', True),
        ('delete from "grant"', True),
        ("UPDATE OR REPLACE product SET name = ?", True),
        ('WITH gone AS (DELETE FROM "grant" RETURNING id) SELECT count(*) FROM gone', True),
        ("CREATE TABLE t (x int)", True),
        ("TRUNCATE product", True),
        ("-- a comment\nUPDATE product SET name = 'x'", True),
    ],
)
def test_text_statements_are_read_from_their_first_words(sql: str, writes: bool) -> None:
    assert write_generation.writes_relevant(sql) is writes
