"""users read copy (department scope of the dashboard); covering indexes for the reports and the
dashboard: invoices by issue date and open invoices, payments by day received (they replace the
single-column issue-date and received-at indexes); credit notes and refunds by date

Revision ID: 0002_dashboard
Revises: 0001_initial
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from crm_common.db import UTCDateTime

revision = "0002_dashboard"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

UserId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# a database made by 0001 from today's models.py has these already: created only where missing
NEW_INDEXES = (
    ("ix_invoices_issued", "invoices", ["issue_date", "currency", "customer_id", "status", "total"]),
    ("ix_invoices_open", "invoices",
     ["status", "currency", "customer_id", "due_date", "issue_date", "total", "paid", "credited"]),
    ("ix_payments_received", "payments", ["received_at", "currency", "customer_id", "status", "amount"]),
    ("ix_credit_notes_issue_date", "credit_notes", ["issue_date"]),
    ("ix_refunds_refunded_at", "refunds", ["refunded_at"]),
)  # fmt: skip
OLD_INDEXES = (
    ("ix_invoices_issue_date", "invoices", ["issue_date"]),
    ("ix_payments_received_at", "payments", ["received_at"]),
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", UserId, primary_key=True, autoincrement=False),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("event_at", UTCDateTime(), nullable=False),
        if_not_exists=True,
    )
    op.create_index("ix_users_department", "users", ["department"], if_not_exists=True)
    for name, table, columns in NEW_INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)
    for name, table, _ in OLD_INDEXES:
        op.drop_index(name, table_name=table, if_exists=True)


def downgrade() -> None:
    for name, table, columns in OLD_INDEXES:
        op.create_index(name, table, columns, if_not_exists=True)
    for name, table, _ in NEW_INDEXES:
        op.drop_index(name, table_name=table, if_exists=True)
    op.drop_index("ix_users_department", table_name="users", if_exists=True)
    op.drop_table("users")
