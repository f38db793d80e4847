"""deliveries.attachments: the documents an e-mail carries (the invoice PDF of an
``invoice_issued`` e-mail to a customer's contact), as references fetched when it is sent

Revision ID: 0004_delivery_attachments
Revises: 0003_task_close_reason
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_delivery_attachments"
down_revision = "0003_task_close_reason"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("attachments")
