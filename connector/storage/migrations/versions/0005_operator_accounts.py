"""operator accounts: the node's users (login, role, Argon2id password hash, lockout) and their login tokens

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 07:00:00

Two new tables, empty after the upgrade: API keys keep working as before, and users are added with
`connector user add` (docs/operator-guide.md, "Users and roles").
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import connector.storage.tables

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('operatoruser',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('login', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('display_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', connector.storage.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operatoruser', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_operatoruser_login'), ['login'], unique=True)

    op.create_table('usertoken',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('user_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('family', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=True),
    sa.Column('rotated_at', connector.storage.tables.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['operatoruser.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('usertoken', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_usertoken_family'), ['family'], unique=False)
        batch_op.create_index(batch_op.f('ix_usertoken_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_usertoken_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('usertoken')
    op.drop_table('operatoruser')
