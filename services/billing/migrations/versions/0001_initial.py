"""customers (read copy), schedules, invoices and lines, credit notes and lines, payments,
allocations, refunds, billing runs, tax rates, PDF cache; and the crm_common infrastructure tables

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

from alembic import op
from crm_common.migrations import create_infra_tables, drop_infra_tables

from billing.models import DOMAIN_TABLES

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_infra_tables()
    # the first revision creates its tables as models.py defines them today; later tables and
    # indexes come with their own revisions (which create only what is missing)
    for table in DOMAIN_TABLES:
        table.create(op.get_bind())


def downgrade() -> None:
    for table in reversed(DOMAIN_TABLES):
        table.drop(op.get_bind())
    drop_infra_tables()
