"""The approvals service's tables (its own database; no other service reads them).

A request copies the flow it started with (``flow_snapshot``: steps, SLA, self-approval), so
editing a flow (a new ``version``) never changes a running request. Its steps, resolved when each
starts (who may decide), live in ``steps`` (JSON); every decision is a row of ``decisions``.
"""

from __future__ import annotations

from crm_common.db import BigId, ExactDecimal, UTCDateTime, service_metadata
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

metadata, infra = service_metadata()

UserId = BigInteger().with_variant(Integer(), "sqlite")


flows = Table(
    "flows",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("document_type", String(50), nullable=False, index=True),
    Column("conditions", JSON, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("sla_hours", Integer, nullable=False),
    Column("allow_self_approval", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("steps", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("created_by", UserId, nullable=True),
)

# every version of every flow, as it was
flow_versions = Table(
    "flow_versions",
    metadata,
    Column("flow_id", BigId, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("snapshot", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", UserId, nullable=True),
)

requests = Table(
    "requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("document_type", String(50), nullable=False),
    Column("document_id", String(100), nullable=False),
    Column("source", String(50), nullable=True),
    Column("amount", ExactDecimal(), nullable=True),
    Column("currency", String(3), nullable=True),
    Column("department", String(100), nullable=True),
    Column("company", String(200), nullable=True),
    Column("contract_kind", String(50), nullable=True),
    Column("submitter", UserId, nullable=True),
    Column("summary", Text, nullable=True),
    Column("details", JSON, nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("flow_id", BigId, nullable=True),
    Column("flow_version", Integer, nullable=True),
    Column("flow_snapshot", JSON, nullable=False),
    Column("steps", JSON, nullable=False),
    Column("previous_request_id", BigId, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Index("ix_requests_document", "document_type", "document_id"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("request_id", BigId, nullable=False, index=True),
    Column("step", Integer, nullable=False),
    Column("step_name", String(200), nullable=False),
    Column("user_id", UserId, nullable=True),
    Column("username", String(150), nullable=True),
    Column("decision", String(10), nullable=False),
    Column("comment", Text, nullable=True),
    Column("decided_at", UTCDateTime(), nullable=False),
    # a trade-in's valuation decided with this approval (the request's currency)
    Column("approved_value", ExactDecimal(), nullable=True),
)

# Read copy of the gateway's user directory, fed by gateway.user_created / user_updated.
users = Table(
    "users",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("username", String(150), nullable=True),
    Column("full_name", String(200), nullable=True),
    Column("roles", JSON, nullable=False),
    Column("department", String(100), nullable=True),
    Column("is_department_head", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("language", String(8), nullable=True),  # the approval sheet is rendered in it
    Column("event_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
