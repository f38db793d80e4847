"""flows, flow versions, approval requests, decisions, users read copy; and the crm_common
infrastructure tables (outbox, processed_events, audit_log, job_runs)

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from crm_common.db import BigId, UTCDateTime
from crm_common.migrations import create_infra_tables, drop_infra_tables

from approvals.models import ExactDecimal

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

UserId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    create_infra_tables()

    op.create_table(
        "flows",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("document_type", sa.String(50), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("sla_hours", sa.Integer(), nullable=False),
        sa.Column("allow_self_approval", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", UserId, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_flows"),
    )
    op.create_index("ix_flows_document_type", "flows", ["document_type"])

    op.create_table(
        "flow_versions",
        sa.Column("flow_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", UserId, nullable=True),
        sa.PrimaryKeyConstraint("flow_id", "version", name="pk_flow_versions"),
    )

    op.create_table(
        "requests",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("document_type", sa.String(50), nullable=False),
        sa.Column("document_id", sa.String(100), nullable=False),
        sa.Column("source", sa.String(50), nullable=True),
        sa.Column("amount", ExactDecimal(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("company", sa.String(200), nullable=True),
        sa.Column("contract_kind", sa.String(50), nullable=True),
        sa.Column("submitter", UserId, nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("flow_id", BigId, nullable=True),
        sa.Column("flow_version", sa.Integer(), nullable=True),
        sa.Column("flow_snapshot", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("previous_request_id", BigId, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
    )
    op.create_index("ix_requests_status", "requests", ["status"])
    op.create_index("ix_requests_document", "requests", ["document_type", "document_id"])

    op.create_table(
        "decisions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("request_id", BigId, nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("step_name", sa.String(200), nullable=False),
        sa.Column("user_id", UserId, nullable=True),
        sa.Column("username", sa.String(150), nullable=True),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
    )
    op.create_index("ix_decisions_request_id", "decisions", ["request_id"])

    op.create_table(
        "users",
        sa.Column("id", UserId, autoincrement=False, nullable=False),
        sa.Column("username", sa.String(150), nullable=True),
        sa.Column("full_name", sa.String(200), nullable=True),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("department", sa.String(100), nullable=True),
        sa.Column("is_department_head", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("event_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )


def downgrade() -> None:
    for table in ("users", "decisions", "requests", "flow_versions", "flows"):
        op.drop_table(table)
    drop_infra_tables()
