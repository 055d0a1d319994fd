"""remembered links from a platform's part to one of our products (decision 0028)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:15:00

One new table, empty after the upgrade: a link is remembered from the operator's next link of a held trade on.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import connector.storage.tables

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('partlink',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('platform_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('trace_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('company_id', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('parts_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('product_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('verifier_certs', sa.JSON(), nullable=False),
    sa.Column('created_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_url', 'trace_id', name='uq_partlink')
    )
    with op.batch_alter_table('partlink', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partlink_product_id'), ['product_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('partlink', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partlink_product_id'))

    op.drop_table('partlink')
