"""The Alembic migrations build exactly the tables the code declares, on both back ends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel


def test_migrations_match_the_tables(engine):
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, SQLModel.metadata)
    assert diff == [], diff


def test_upgrade_is_idempotent(engine):
    from connector.storage.db import create_schema

    create_schema(engine)
    create_schema(engine)
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert versions == ["0010"]  # one row at head, not one per run
    assert {"product", "footprint", "outboxmessage", "auditentry"} <= set(inspect(engine).get_table_names())


def test_part_links_migration_goes_down_and_up(engine):
    """Migration 0008 (decision 0028): its downgrade drops the table and nothing else; the upgrade rebuilds it as
    the code declares it."""
    from alembic import command
    from sqlalchemy import inspect

    from connector.storage.migrate import alembic_config

    config = alembic_config(engine)
    before = set(inspect(engine).get_table_names())
    assert "partlink" in before
    command.downgrade(config, "0007")
    later = {"consolereport"}  # the tables of later migrations go with it (0010)
    assert set(inspect(engine).get_table_names()) == before - {"partlink"} - later
    command.upgrade(config, "head")
    assert set(inspect(engine).get_table_names()) == before
    test_migrations_match_the_tables(engine)


def test_console_reports_migration_goes_down_and_up(engine):
    """Migration 0010 (decision 0031): its downgrade drops the reports' table and nothing else; the upgrade rebuilds
    it as the code declares it."""
    from alembic import command
    from sqlalchemy import inspect

    from connector.storage.migrate import alembic_config

    config = alembic_config(engine)
    before = set(inspect(engine).get_table_names())
    assert "consolereport" in before
    command.downgrade(config, "0009")
    assert set(inspect(engine).get_table_names()) == before - {"consolereport"}
    command.upgrade(config, "head")
    assert set(inspect(engine).get_table_names()) == before
    test_migrations_match_the_tables(engine)
