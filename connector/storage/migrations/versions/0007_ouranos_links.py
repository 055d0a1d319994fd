"""what an Ouranos platform calls our requests and products (decision 0022)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 07:40:00

One new table, empty after the upgrade: no partner spoke Ouranos before this revision.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import connector.storage.tables

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ouranoslink',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('platform_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('local_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('remote_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('trace_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('created_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_url', 'kind', 'local_id', name='uq_ouranoslink')
    )
    with op.batch_alter_table('ouranoslink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ouranoslink_local_id'), ['local_id'], unique=False)


def downgrade() -> None:
    op.drop_table('ouranoslink')
