"""Alembic environment: runs on the engine handed over in ``config.attributes``."""

from alembic import context
from sqlmodel import SQLModel

from connector.storage import accounts, console_reports, ouranos_links, part_links, tables  # noqa: F401

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=False,
    )
    context.run_migrations()
