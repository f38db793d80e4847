"""tasks.close_reason and tasks.close_note: why a task closed ("paid", "voided" by billing's
events; the reason finance gives when closing an unpaid invoice's collection task)

Revision ID: 0003_task_close_reason
Revises: 0002_task_reference
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_task_close_reason"
down_revision = "0002_task_reference"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("close_reason", sa.String(length=30), nullable=True))
        batch.add_column(sa.Column("close_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("close_note")
        batch.drop_column("close_reason")
