"""the protocol that reaches a partner, that a request travels by, and that sends an outbox message

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 05:00:00

Every existing row spoke PACT v3 (the only protocol before this revision), so the columns default to "pact" on the
server: rows written before the upgrade (partners, open requests, and queued outbox messages with their old PACT
kinds and bodies) read as PACT's, and nothing queued is stranded.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_TABLES = ("partner", "cfprequest", "outboxmessage")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None, recreate="never") as batch:
            batch.add_column(
                sa.Column("protocol", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False,
                          server_default="pact")
            )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("protocol")
