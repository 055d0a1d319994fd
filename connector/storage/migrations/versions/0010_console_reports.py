"""the console's verification reports, kept in the database (decision 0031)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:00:00

One new table, empty after the upgrade: the reports made before it were kept only in a worker's memory and are gone
with the restart that runs the migration.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import connector.storage.tables

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('consolereport',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('created_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('made_by', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('bundle_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('anchors_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('certified', sa.Boolean(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('consolereport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consolereport_bundle_sha256'), ['bundle_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_consolereport_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consolereport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consolereport_created_at'))
        batch_op.drop_index(batch_op.f('ix_consolereport_bundle_sha256'))

    op.drop_table('consolereport')
