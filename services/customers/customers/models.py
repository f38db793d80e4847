"""The customers service's tables (its own database; no other service reads them).

Besides the domain tables every row that feeds duplicate detection or search carries
pre-computed Unicode-folded keys (``crm_common.text``), so both are plain indexed equality and
``LIKE`` lookups on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from crm_common.db import BigId, ExactDecimal, UTCDateTime, service_metadata
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

metadata, infra = service_metadata()


UserId = BigInteger().with_variant(Integer(), "sqlite")

# A monotonically increasing counter per name (customer codes): codes are never reused.
counters = Table(
    "counters",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("tax_id", String(64), nullable=True),
    Column("email", String(254), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("industry", String(100), nullable=True),
    Column("region", String(100), nullable=True),
    Column("size", String(50), nullable=True),
    Column("level", String(1), nullable=True),
    Column("tags", JSON, nullable=False),
    Column("owner_id", UserId, nullable=True),
    Column("language", String(2), nullable=False),
    Column("address", Text, nullable=True),
    Column("birthday", Date, nullable=True),
    Column("notes", Text, nullable=True),
    Column("red_listed", Boolean, nullable=False, default=False),
    Column("red_list_reason", Text, nullable=True),
    Column("red_listed_at", UTCDateTime(), nullable=True),
    Column("red_listed_by", String(100), nullable=True),
    # keys for duplicate detection and search (crm_common.text)
    Column("name_key", String(300), nullable=False),
    Column("tax_key", String(64), nullable=True),
    Column("email_key", String(254), nullable=True),
    Column("phone_key", String(50), nullable=True),
    Column("tags_key", Text, nullable=False),  # "|tag1|tag2|" folded, for the tag filter
    Column("search_key", Text, nullable=False),  # folded name/code/email/phone/tax id
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime(), nullable=True),
    Column("created_by", String(100), nullable=True),
    # archived: kept with its history, hidden from lists by default, no new contracts/opportunities
    Column("archived_at", UTCDateTime(), nullable=True),
    Column("archived_by", String(100), nullable=True),
)
Index("ix_customers_name_key", customers.c.name_key)
Index("ix_customers_tax_key", customers.c.tax_key)
Index("ix_customers_email_key", customers.c.email_key)
Index("ix_customers_phone_key", customers.c.phone_key)
Index("ix_customers_owner_id", customers.c.owner_id)
Index("ix_customers_archived_at", customers.c.archived_at)

contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(50), nullable=True),
    Column("title", String(100), nullable=True),
    Column("notes", Text, nullable=True),
    Column("is_primary", Boolean, nullable=False, default=False),
    Column("email_key", String(254), nullable=True),
    Column("phone_key", String(50), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

follow_ups = Table(
    "follow_ups",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False, index=True),
    Column("method", String(10), nullable=False),
    Column("occurred_at", UTCDateTime(), nullable=False),
    Column("result", Text, nullable=False),
    Column("contact_id", BigId, ForeignKey("contacts.id"), nullable=True),
    Column("notes", Text, nullable=True),
    Column("next_action", Text, nullable=True),
    Column("next_action_at", UTCDateTime(), nullable=True, index=True),
    # set when follow_up_due was published for next_action_at (daily job; idempotent re-runs)
    Column("due_notified_at", UTCDateTime(), nullable=True),
    Column("created_by", UserId, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

opportunities = Table(
    "opportunities",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", BigId, ForeignKey("customers.id"), nullable=False, index=True),
    Column("title", String(300), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("stage", String(20), nullable=False, index=True),
    Column("expected_close", Date, nullable=True),
    Column("probability", Integer, nullable=True),
    Column("needs", Text, nullable=True),
    Column("competitors", JSON, nullable=True),  # text, or a list of names
    Column("notes", Text, nullable=True),
    Column("lost_reason", Text, nullable=True),
    Column("owner_id", UserId, nullable=True, index=True),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Read copy of the gateway's user directory, fed by gateway.user_created / user_updated.
users = Table(
    "users",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("username", String(150), nullable=True),
    Column("roles", JSON, nullable=False),
    Column("department", String(100), nullable=True),
    Column("full_name", String(200), nullable=True),
    Column("email", String(254), nullable=True),
    Column("language", String(10), nullable=True),
    Column("is_department_head", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("customer_id", UserId, nullable=True),
    # occurred_at of the newest event applied: an older event arriving late changes nothing
    Column("event_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("mode", String(20), nullable=False),
    Column("filename", String(300), nullable=True),
    Column("status", String(20), nullable=False),
    Column("rows_received", Integer, nullable=False, default=0),
    Column("rows_processed", Integer, nullable=False, default=0),
    Column("created", Integer, nullable=False, default=0),
    Column("updated", Integer, nullable=False, default=0),
    Column("error_count", Integer, nullable=False, default=0),
    Column("validated", Boolean, nullable=False, default=False),
    Column("user_id", UserId, nullable=True),
    Column("actor", String(100), nullable=False),
    # the caller who started the job (their scope applies to every row)
    Column("caller", JSON, nullable=False),
    # a finishing worker holds the job until then; a crashed one's job can be resumed after it
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("message", Text, nullable=True),  # why it failed or was aborted
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
)

# Staging: rows that passed field validation, waiting for finish_import.
import_rows = Table(
    "import_rows",
    metadata,
    Column("job_id", BigId, ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True),
    Column("line", Integer, primary_key=True, autoincrement=False),
    Column("data", JSON, nullable=False),
    Column("status", String(10), nullable=False),  # pending | error | applied
)

import_errors = Table(
    "import_errors",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", BigId, ForeignKey("import_jobs.id", ondelete="CASCADE"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("field", String(50), nullable=True),
    Column("message", Text, nullable=False),
)
Index("ix_import_errors_job_line", import_errors.c.job_id, import_errors.c.line)

__all__ = [
    "metadata",
    "infra",
    "counters",
    "customers",
    "contacts",
    "follow_ups",
    "opportunities",
    "users",
    "import_jobs",
    "import_rows",
    "import_errors",
]
