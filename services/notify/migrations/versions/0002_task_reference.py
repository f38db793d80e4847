"""tasks.reference (one task per portal service request on a contract) and an index on a
document's tasks by status (the contract page lists its open tasks)

Revision ID: 0002_task_reference
Revises: 0001_initial
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_task_reference"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("reference", sa.String(length=100), nullable=True))
    op.create_index("ix_tasks_document_status", "tasks", ["document_type", "document_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_tasks_document_status", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("reference")
