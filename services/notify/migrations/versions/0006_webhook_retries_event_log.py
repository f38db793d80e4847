"""notify: webhook retry window and secret rotation columns, the 30-day event log

Revision ID: 0006_webhook_retries_event_log
Revises: 0005_idempotency_keys
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op
from crm_common.db import BigId, UTCDateTime

revision = "0006_webhook_retries_event_log"
down_revision = "0005_idempotency_keys"
branch_labels = None
depends_on = None

UserId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.add_column(sa.Column("failing_since", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("previous_secret", sa.String(200), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("secret_rotated_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("first_attempt_at", UTCDateTime(), nullable=True))
    op.create_table(
        "event_log",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(100), nullable=False, unique=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("customer_id", UserId, nullable=True),
        sa.Column("owner_id", UserId, nullable=True),
        sa.Column("envelope", sa.Text, nullable=False),
    )
    op.create_index("ix_event_log_recorded_at", "event_log", ["recorded_at"])
    op.create_index("ix_event_log_customer_id", "event_log", ["customer_id"])
    op.create_index("ix_event_log_type_id", "event_log", ["type", "id"])


def downgrade() -> None:
    op.drop_table("event_log")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("first_attempt_at")
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("secret_rotated_at")
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret")
        batch.drop_column("failing_since")
