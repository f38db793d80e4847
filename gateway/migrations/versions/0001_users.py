"""users table and the crm_common infrastructure tables (outbox, processed_events, audit_log,
job_runs)

Revision ID: 0001_users
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op
from crm_common.db import BigId, UTCDateTime
from crm_common.migrations import create_infra_tables, drop_infra_tables

revision = "0001_users"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_infra_tables()
    op.create_table(
        "users",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("username_key", sa.String(100), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("is_department_head", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("language", sa.String(8), nullable=False, server_default="en"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("username_key", name="uq_users_username_key"),
    )
    op.create_index("ix_users_customer_id", "users", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_users_customer_id", table_name="users")
    op.drop_table("users")
    drop_infra_tables()
