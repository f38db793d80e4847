"""decisions.approved_value: a trade-in's valuation decided with the approval

Revision ID: 0002_decision_approved_value
Revises: 0001_initial
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from approvals.models import ExactDecimal

revision = "0002_decision_approved_value"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("approved_value", ExactDecimal(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("approved_value")
