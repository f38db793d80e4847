"""customers, contacts, follow-ups, opportunities, users read copy, import staging, counters;
and the crm_common infrastructure tables (outbox, processed_events, audit_log, job_runs)

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from crm_common.db import BigId, UTCDateTime
from crm_common.migrations import create_infra_tables, drop_infra_tables

from customers.models import ExactDecimal

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

UserId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    create_infra_tables()

    counters = op.create_table(
        "counters",
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_counters"),
    )
    op.bulk_insert(counters, [{"name": "customer_code", "value": 0}])

    op.create_table(
        "customers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("tax_id", sa.String(64), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("industry", sa.String(100), nullable=True),
        sa.Column("region", sa.String(100), nullable=True),
        sa.Column("size", sa.String(50), nullable=True),
        sa.Column("level", sa.String(1), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("owner_id", UserId, nullable=True),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("red_listed", sa.Boolean(), nullable=False),
        sa.Column("name_key", sa.String(300), nullable=False),
        sa.Column("tax_key", sa.String(64), nullable=True),
        sa.Column("email_key", sa.String(254), nullable=True),
        sa.Column("phone_key", sa.String(50), nullable=True),
        sa.Column("tags_key", sa.Text(), nullable=False),
        sa.Column("search_key", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("code", name="uq_customers_code"),
    )
    for column in ("name_key", "tax_key", "email_key", "phone_key", "owner_id"):
        op.create_index(f"ix_customers_{column}", "customers", [column])

    op.create_table(
        "contacts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("phone", sa.String(50), nullable=True),
        sa.Column("title", sa.String(100), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("email_key", sa.String(254), nullable=True),
        sa.Column("phone_key", sa.String(50), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_contacts_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_contacts"),
    )
    op.create_index("ix_contacts_customer_id", "contacts", ["customer_id"])

    op.create_table(
        "follow_ups",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("occurred_at", UTCDateTime(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("contact_id", BigId, nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("next_action", sa.Text(), nullable=True),
        sa.Column("next_action_at", UTCDateTime(), nullable=True),
        sa.Column("due_notified_at", UTCDateTime(), nullable=True),
        sa.Column("created_by", UserId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name="fk_follow_ups_contact_id_contacts"),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_follow_ups_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_follow_ups"),
    )
    op.create_index("ix_follow_ups_customer_id", "follow_ups", ["customer_id"])
    op.create_index("ix_follow_ups_next_action_at", "follow_ups", ["next_action_at"])

    op.create_table(
        "opportunities",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("amount", ExactDecimal(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=True),
        sa.Column("needs", sa.Text(), nullable=True),
        sa.Column("competitors", sa.JSON(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("owner_id", UserId, nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name="fk_opportunities_customer_id_customers"),
        sa.PrimaryKeyConstraint("id", name="pk_opportunities"),
    )
    for column in ("customer_id", "owner_id", "stage"):
        op.create_index(f"ix_opportunities_{column}", "opportunities", [column])

    op.create_table(
        "users",
        sa.Column("id", UserId, autoincrement=False, nullable=False),
        sa.Column("username", sa.String(150), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("language", sa.String(10), nullable=True),
        sa.Column("is_department_head", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("customer_id", UserId, nullable=True),
        sa.Column("event_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )

    op.create_table(
        "import_jobs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("filename", sa.String(300), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("rows_received", sa.Integer(), nullable=False),
        sa.Column("rows_processed", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("validated", sa.Boolean(), nullable=False),
        sa.Column("user_id", UserId, nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("caller", sa.JSON(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_import_jobs"),
    )
    op.create_table(
        "import_rows",
        sa.Column("job_id", BigId, nullable=False),
        sa.Column("line", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["import_jobs.id"], name="fk_import_rows_job_id_import_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("job_id", "line", name="pk_import_rows"),
    )
    op.create_table(
        "import_errors",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("job_id", BigId, nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(50), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["import_jobs.id"], name="fk_import_errors_job_id_import_jobs", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_import_errors"),
    )
    op.create_index("ix_import_errors_job_line", "import_errors", ["job_id", "line"])


def downgrade() -> None:
    for table in ("import_errors", "import_rows", "import_jobs", "users", "opportunities", "follow_ups",
                  "contacts", "customers", "counters"):
        op.drop_table(table)
    drop_infra_tables()
