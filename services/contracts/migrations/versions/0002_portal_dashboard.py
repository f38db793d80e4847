"""users read copy (department scope of the dashboard), portal service requests, two covering
indexes on contracts for the dashboard's figures

Revision 0001 creates the tables of ``DOMAIN_TABLES`` as models.py defines them, indexes
included, so on a fresh database the new contracts indexes exist already: each step here checks
first.

Revision ID: 0002_portal_dashboard
Revises: 0001_initial
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from contracts.models import PORTAL_TABLES

revision = "0002_portal_dashboard"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_contracts_dashboard_term": [
        "status", "end_date", "start_date", "renewed_by_id", "currency", "total", "owner_id",
    ],
    "ix_contracts_dashboard_signed": ["approved_at", "currency", "total", "owner_id"],
}  # fmt: skip


def _has_index(table: str, name: str) -> bool:
    return any(ix["name"] == name for ix in sa.inspect(op.get_bind()).get_indexes(table))


def upgrade() -> None:
    for table in PORTAL_TABLES:
        table.create(op.get_bind(), checkfirst=True)
    for name, columns in INDEXES.items():
        if not _has_index("contracts", name):
            op.create_index(name, "contracts", columns)


def downgrade() -> None:
    for name in INDEXES:
        if _has_index("contracts", name):
            op.drop_index(name, table_name="contracts")
    for table in reversed(PORTAL_TABLES):
        table.drop(op.get_bind(), checkfirst=True)
