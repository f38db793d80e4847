"""The notify service's tables (its own database; no other service reads them): read copies of
users, customers and contacts; admin-edited rules; the inbox; the ``deliveries`` outbox of
e-mails, SMS and webhook calls with its attempt log; webhook subscriptions; tasks; reminders.
"""

from __future__ import annotations

from crm_common.db import BigId, UTCDateTime, service_metadata
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata, infra = service_metadata()

UserId = BigInteger().with_variant(Integer(), "sqlite")

users = Table(
    "users",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("username", String(150), nullable=True),
    Column("full_name", String(300), nullable=True),
    Column("email", String(254), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("roles", JSON, nullable=False),
    Column("department", String(100), nullable=True),
    Column("is_department_head", Boolean, nullable=False, default=False),
    Column("customer_id", UserId, nullable=True),
    Column("language", String(5), nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("event_at", UTCDateTime(), nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("code", String(20), nullable=True),
    Column("name", String(300), nullable=True),
    Column("owner_id", UserId, nullable=True),
    Column("language", String(5), nullable=True),
    Column("email", String(254), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("level", String(1), nullable=True),
    Column("birthday", Date, nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("event_at", UTCDateTime(), nullable=False),
)

contacts = Table(
    "contacts",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("customer_id", UserId, nullable=False, index=True),
    Column("name", String(300), nullable=True),
    Column("email", String(254), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("title", String(200), nullable=True),
)

rules = Table(
    "rules",
    metadata,
    Column("event_type", String(100), primary_key=True),
    Column("recipients", JSON, nullable=False),
    Column("channels", JSON, nullable=False),
    Column("template", String(100), nullable=False),
    Column("templates", JSON, nullable=True),  # admin overrides {lang: {subject, body}}
    Column("enabled", Boolean, nullable=False),
    Column("description", Text, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", String(100), nullable=True),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", UserId, nullable=False),
    Column("event_id", String(100), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("language", String(5), nullable=False),
    Column("document_type", String(50), nullable=True),
    Column("document_id", String(64), nullable=True),
    Column("template_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("read_at", UTCDateTime(), nullable=True),
    UniqueConstraint("event_id", "user_id", name="uq_notifications_event_user"),
    Index("ix_notifications_user_read", "user_id", "read_at"),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("events", JSON, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("description", String(300), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("consecutive_failures", Integer, nullable=False),
    # the first failed attempt after the last successful one (None: the last attempt succeeded);
    # disabled when a delivery dies and this is a whole retry window old
    Column("failing_since", UTCDateTime(), nullable=True),
    # a rotation's grace period: deliveries are signed with both secrets until it expires
    Column("previous_secret", String(200), nullable=True),
    Column("previous_secret_expires_at", UTCDateTime(), nullable=True),
    Column("secret_rotated_at", UTCDateTime(), nullable=True),
    Column("disabled_at", UTCDateTime(), nullable=True),
    Column("disabled_reason", Text, nullable=True),
    Column("deleted_at", UTCDateTime(), nullable=True),
    Column("created_by", UserId, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("channel", String(10), nullable=False),  # email | sms | webhook
    Column("event_id", String(100), nullable=False),
    Column("event_type", String(100), nullable=False),
    Column("recipient", String(2000), nullable=False),  # address, phone or URL
    Column("user_id", UserId, nullable=True),
    Column("webhook_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=True, index=True),
    Column("language", String(5), nullable=True),
    Column("subject", Text, nullable=True),
    Column("body", Text, nullable=False),
    Column("template_error", Text, nullable=True),
    # documents an e-mail carries, fetched when it is sent: [{"kind": "invoice_pdf", "invoice_id": 17}]
    Column("attachments", JSON, nullable=True),
    Column("status", String(10), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=True, index=True),
    # start of the retry window (webhooks: 72 h); reset when an admin redelivers it
    Column("first_attempt_at", UTCDateTime(), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime(), nullable=True),
    UniqueConstraint("event_id", "channel", "recipient", name="uq_deliveries_event_channel_recipient"),
)

delivery_attempts = Table(
    "delivery_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("delivery_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False, index=True),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("duration_ms", Integer, nullable=True),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("title", String(500), nullable=False),
    Column("notes", Text, nullable=True),
    Column("assignee_id", UserId, nullable=True, index=True),
    Column("assignee_role", String(50), nullable=True),
    Column("due_date", Date, nullable=True),
    Column("document_type", String(50), nullable=False),
    Column("document_id", String(64), nullable=False),
    Column("step", String(20), nullable=True),  # approval tasks: the step they decide
    # what opened it when one document has several such tasks ("service_request:<id>")
    Column("reference", String(100), nullable=True),
    Column("status", String(10), nullable=False),
    Column("opened_by_event", String(100), nullable=True),
    Column("closed_by_event", String(100), nullable=True),
    # why it closed: "paid" / "voided" (billing's events), or the reason finance gave
    # ("dispute", "write_off", ...) with its note when closing an unpaid invoice's collection task
    Column("close_reason", String(30), nullable=True),
    Column("close_note", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Index("ix_tasks_document", "kind", "document_type", "document_id"),
    # a document's tasks (the contract page: its open tasks), whatever their kind
    Index("ix_tasks_document_status", "document_type", "document_id", "status"),
)

reminders = Table(
    "reminders",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("kind", String(100), nullable=False),
    Column("fire_on", Date, nullable=False, index=True),
    Column("payload", JSON, nullable=False),
    Column("status", String(10), nullable=False),  # scheduled | fired | cancelled
    Column("fired_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# every public event of the catalogue, kept 30 days (``GET /api/v1/events``: catching up after
# an outage); ``id`` is the order events arrived in, the cursor of the list
event_log = Table(
    "event_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(100), nullable=False, unique=True),
    Column("type", String(100), nullable=False),
    Column("source", String(50), nullable=False),
    Column("version", Integer, nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=True),
    Column("recorded_at", UTCDateTime(), nullable=False, index=True),
    # for the sales reps' scope: the payload's customer and owner
    Column("customer_id", UserId, nullable=True, index=True),
    Column("owner_id", UserId, nullable=True),
    Column("envelope", Text, nullable=False),  # the envelope as webhooks get it (JSON)
    Index("ix_event_log_type_id", "type", "id"),
)
