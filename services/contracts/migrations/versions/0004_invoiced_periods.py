"""contract_invoices.period_end: the last day of the period an invoice bills (from
``invoice_issued``), so a termination reaching into a period already invoiced goes to approval

Revision 0001 creates its tables as models.py defines them today, so on a fresh database the
column exists already: it is added only where missing.

Revision ID: 0004_invoiced_periods
Revises: 0003_idempotency_keys
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_invoiced_periods"
down_revision = "0003_idempotency_keys"
branch_labels = None
depends_on = None


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("contract_invoices")}


def upgrade() -> None:
    if "period_end" not in _columns():
        op.add_column("contract_invoices", sa.Column("period_end", sa.Date(), nullable=True))


def downgrade() -> None:
    if "period_end" in _columns():
        with op.batch_alter_table("contract_invoices") as batch:
            batch.drop_column("period_end")
