"""customers: archive (archived_at, archived_by) and the red list's reason, who and when

Revision ID: 0002_archive_red_list
Revises: 0001_initial
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from crm_common.db import UTCDateTime

revision = "0002_archive_red_list"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("archived_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("archived_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("red_list_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("red_listed_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("red_listed_by", sa.String(100), nullable=True))
    op.create_index("ix_customers_archived_at", "customers", ["archived_at"])


def downgrade() -> None:
    op.drop_index("ix_customers_archived_at", table_name="customers")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("red_listed_by")
        batch.drop_column("red_listed_at")
        batch.drop_column("red_list_reason")
        batch.drop_column("archived_by")
        batch.drop_column("archived_at")
