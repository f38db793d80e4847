"""billing: idempotency_keys, one row per create or money-moving RPC call under a request id

Revision ID: 0004_idempotency_keys
Revises: 0003_pending_corrections
Create Date: 2026-12-07
"""

from crm_common.migrations import create_idempotency_table, drop_idempotency_table

revision = "0004_idempotency_keys"
down_revision = "0003_pending_corrections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table()


def downgrade() -> None:
    drop_idempotency_table()
