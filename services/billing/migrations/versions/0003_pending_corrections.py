"""pending corrections: what a billing run would have credited on an invoice finance locked
(billing never credits or adjusts a locked invoice), applied when finance unlocks or approves

Revision ID: 0003_pending_corrections
Revises: 0002_dashboard
Create Date: 2026-12-07
"""

from alembic import op

revision = "0003_pending_corrections"
down_revision = "0002_dashboard"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from billing.models import pending_corrections

    # created as models.py defines it (with its index), as 0001 creates its tables
    pending_corrections.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_index("ix_pending_corrections_status_invoice", table_name="pending_corrections", if_exists=True)
    op.drop_table("pending_corrections")
