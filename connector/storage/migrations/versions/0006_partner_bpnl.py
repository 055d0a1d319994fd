"""a partner's Catena-X Business Partner Number (BPNL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 07:20:00

A Catena-X data plane names the calling company by its BPNL (the ``Edc-Bpn`` header); the PCF API finds the
partner, and so its grants, by it. Empty for every existing partner: none spoke Catena-X before this revision.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("partner", schema=None, recreate="never") as batch:
        batch.add_column(sa.Column("bpnl", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    op.create_index("ix_partner_bpnl", "partner", ["bpnl"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_partner_bpnl", table_name="partner")
    with op.batch_alter_table("partner") as batch:
        batch.drop_column("bpnl")
