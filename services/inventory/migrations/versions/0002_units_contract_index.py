"""an index on units.contract_id (the contract page lists the units of a contract)

Revision 0001 creates the tables as models.py defines them, indexes included, so on a fresh
database the index exists already: the step checks first.

Revision ID: 0002_units_contract_index
Revises: 0001_initial
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_units_contract_index"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

NAME = "ix_units_contract_id"


def _has_index() -> bool:
    return any(ix["name"] == NAME for ix in sa.inspect(op.get_bind()).get_indexes("units"))


def upgrade() -> None:
    if not _has_index():
        op.create_index(NAME, "units", ["contract_id"])


def downgrade() -> None:
    if _has_index():
        op.drop_index(NAME, table_name="units")
