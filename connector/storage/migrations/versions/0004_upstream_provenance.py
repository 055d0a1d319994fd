"""where an upstream value came from: its basis (attested or entered) and, for an entered one, its provenance

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 06:50:00

Before this revision a held upstream footprint was either received from a peer with a verified attestation or
recorded by hand without one; the basis of each existing row follows from whether it carries an attestation. The
provenance columns of an entered value (the kind of source, the source document and its SHA-256, who entered it)
stay empty for the rows recorded before: nothing was kept then, and the verifier shows them as entered with no
document.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("upstreamfootprint", schema=None, recreate="never") as batch:
        batch.add_column(
            sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default="attested")
        )
        batch.add_column(sa.Column("source_kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch.add_column(sa.Column("document_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("document_media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch.add_column(sa.Column("entered_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.execute("UPDATE upstreamfootprint SET basis = 'entered' WHERE attestation IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("upstreamfootprint") as batch:
        for name in ("entered_by", "document_media_type", "document", "document_sha256", "source_kind", "basis"):
            batch.drop_column(name)
