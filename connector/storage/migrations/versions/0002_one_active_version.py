"""one active version per product, one open request per line, outbox lease holders, idempotent responses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 04:20:00

Unique indexes rather than constraints: SQLite adds an index in place, while a constraint would make Alembic rebuild
the table (dropping the old one cascades to the rows that reference it). A database that already holds a fork from
before (two Active footprints of one product, or two with one version number, or two pending requests of one line)
is mended first, so the indexes can be built: the newest Active footprint stays Active, the others are Deprecated;
a repeated version number moves after the product's highest; the newest pending request of a line stays open.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import connector.storage.tables

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _mend_forks() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, product_id, version, status FROM footprint "
                                "ORDER BY product_id, created_at DESC, id DESC")).all()
    seen_active: set[str] = set()
    highest: dict[str, int] = {}
    for row in rows:
        highest[row.product_id] = max(highest.get(row.product_id, 0), row.version)
    used: set[tuple[str, int]] = set()
    for row in reversed(rows):  # oldest first: the first holder of a version number keeps it
        if (row.product_id, row.version) in used:
            highest[row.product_id] += 1
            conn.execute(sa.text("UPDATE footprint SET version = :v WHERE id = :i"),
                         {"v": highest[row.product_id], "i": row.id})
            used.add((row.product_id, highest[row.product_id]))
        else:
            used.add((row.product_id, row.version))
    for row in rows:  # newest first: the newest Active one stays Active
        if row.status == "Active":
            if row.product_id in seen_active:
                conn.execute(sa.text("UPDATE footprint SET status = 'Deprecated' WHERE id = :i"), {"i": row.id})
            seen_active.add(row.product_id)
    open_lines: set[str] = set()
    for row in conn.execute(sa.text("SELECT id, bom_line_id FROM cfprequest WHERE direction = 'outgoing' AND "
                                    "state = 'pending' AND bom_line_id IS NOT NULL ORDER BY created_at DESC, id DESC")):
        if row.bom_line_id in open_lines:
            conn.execute(sa.text("UPDATE cfprequest SET state = 'cancelled', reason = :r WHERE id = :i"),
                         {"i": row.id, "r": "superseded by a newer request for the same line (upgrade 0002)"})
        open_lines.add(row.bom_line_id)


def upgrade() -> None:
    _mend_forks()
    active = sa.text("status = 'Active'")
    open_outgoing = sa.text("direction = 'outgoing' AND state = 'pending'")
    op.create_index('uq_footprint_version', 'footprint', ['product_id', 'version'], unique=True)
    op.create_index('uq_footprint_active', 'footprint', ['product_id'], unique=True,
                    postgresql_where=active, sqlite_where=active)
    op.create_index('uq_cfprequest_open_line', 'cfprequest', ['bom_line_id'], unique=True,
                    postgresql_where=open_outgoing, sqlite_where=open_outgoing)
    with op.batch_alter_table('outboxmessage', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.create_table('idempotentresponse',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_index(op.f('ix_idempotentresponse_created_at'), 'idempotentresponse', ['created_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_idempotentresponse_created_at'), table_name='idempotentresponse')
    op.drop_table('idempotentresponse')
    with op.batch_alter_table('outboxmessage', schema=None) as batch_op:
        batch_op.drop_column('holder')
    op.drop_index('uq_cfprequest_open_line', table_name='cfprequest')
    op.drop_index('uq_footprint_active', table_name='footprint')
    op.drop_index('uq_footprint_version', table_name='footprint')
