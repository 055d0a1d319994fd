"""A PostgreSQL transaction that only read ends with COMMIT, so psycopg keeps its prepared statements
(storage/prepared.py, decision 0032); one that wrote, failed or changed a setting is really rolled back."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from connector.storage.tables import Product

_PRODUCT = Product.__table__  # type: ignore[attr-defined]


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    return engine


def _names(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.execute(select(_PRODUCT.c.name).order_by(_PRODUCT.c.name)).scalars())


def _add(session: Session, name: str) -> None:
    session.add(Product(product_ids=[], name=name, declared_unit="kilogram"))
    session.flush()


def test_reads_closed_without_commit_keep_the_prepared_statements(pg: Engine) -> None:
    seen = []
    for _ in range(30):  # psycopg prepares a statement on its fifth run on a connection (the pool holds a few)
        with Session(pg) as session:
            session.execute(select(_PRODUCT.c.id).where(_PRODUCT.c.name == "x")).all()
            seen.append(session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one())
        # the session ends its transaction with a rollback, which psycopg would follow with DEALLOCATE ALL
    assert min(seen[-5:]) >= 1, seen


def test_an_orm_write_is_rolled_back(pg: Engine) -> None:
    with Session(pg) as session:
        _add(session, "kept")
        session.commit()
    with Session(pg) as session:
        _add(session, "dropped")
        session.rollback()
    with Session(pg) as session:
        _add(session, "dropped on close")
    assert _names(pg) == ["kept"]


def test_a_text_write_is_rolled_back(pg: Engine) -> None:
    with Session(pg) as session:
        _add(session, "kept")
        session.commit()
    with pg.connect() as conn:
        conn.execute(text("UPDATE product SET name = 'changed'"))
        conn.rollback()
        conn.exec_driver_sql("UPDATE product SET name = 'changed again'")
    assert _names(pg) == ["kept"]


def test_a_write_in_a_released_savepoint_is_rolled_back(pg: Engine) -> None:
    with Session(pg) as session:
        with session.begin_nested():
            _add(session, "nested")
        session.execute(select(_PRODUCT.c.id)).all()
        session.rollback()
    assert _names(pg) == []


def test_a_setting_is_undone(pg: Engine) -> None:
    with pg.connect() as conn:
        before = conn.exec_driver_sql("SHOW statement_timeout").scalar_one()
        conn.commit()
        conn.exec_driver_sql("SET statement_timeout = 12345")
        conn.rollback()
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar_one() == before


def test_a_failed_transaction_is_rolled_back_and_the_connection_serves_again(pg: Engine) -> None:
    with Session(pg) as session:
        with pytest.raises(DBAPIError):
            session.execute(text("SELECT 1 / 0")).all()
        session.rollback()
        assert session.execute(text("SELECT 2")).scalar_one() == 2
