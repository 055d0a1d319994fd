"""What the end-to-end tests on PostgreSQL share: a fresh schema per node, dropped after the test."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import text

from connector.storage.db import make_engine
from tests.conftest import PG_URL, _require_backend


@pytest.fixture
def pg_schema_url() -> Iterator[Callable[[], str]]:
    """A maker of database URLs, each on a new PostgreSQL schema (skips the test without PostgreSQL)."""
    _require_backend("postgresql")
    made: list[str] = []

    def make() -> str:
        schema = "mp_" + uuid.uuid4().hex[:12]
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        made.append(schema)
        return f"{PG_URL}?options=-csearch_path%3D{schema}"

    yield make
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        for schema in made:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()
