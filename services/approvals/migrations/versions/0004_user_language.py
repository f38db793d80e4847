"""users.language: the language of the users read copy (gateway user events carry it), in which
the approval sheet is rendered for the user who asks for it

Revision ID: 0004_user_language
Revises: 0003_idempotency_keys
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_user_language"
down_revision = "0003_idempotency_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
