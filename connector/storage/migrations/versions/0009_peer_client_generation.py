"""a generation per PACT client credential, so rotating or revoking it refuses its access tokens (decision 0029)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:30:00

Existing credentials start at generation 1, never rotated. Access tokens issued before the upgrade carry no
generation and are refused for client_secret_basic: the peer asks for a new one (a 401 is what it gets when its
token expires anyway).
"""

import sqlalchemy as sa
from alembic import op

import connector.storage.tables

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('peerclient', schema=None, recreate="never") as batch:
        batch.add_column(sa.Column('generation', sa.Integer(), nullable=False, server_default='1'))
        batch.add_column(sa.Column('rotated_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('peerclient') as batch:
        batch.drop_column('rotated_at')
        batch.drop_column('generation')
