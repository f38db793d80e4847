"""The contracts service's tables (its own database; no other service reads them).

A contract is one row of ``contracts`` plus its current ``contract_lines``. Every approved state
of a contract (the approval itself, each applied amendment, each co-termination, restructure
or bulk price update) is kept whole as a JSON snapshot in ``contract_versions``, so versions can
be listed and compared long after the lines changed. Numbers (contracts ``C-2026-000001``,
amendments) come from ``counters`` inside the creating transaction: a failed creation rolls its
number back with it, so no number is ever skipped or used twice.
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
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata, infra = service_metadata()

UserId = BigInteger().with_variant(Integer(), "sqlite")

# A monotonically increasing counter per name ("contract:2026", "amendment:<contract id>").
counters = Table(
    "counters",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Templates: one row per version; (name_key, language, version) is unique. A contract points at
# the exact version it was filled from, so a later version never changes a signed contract.
templates = Table(
    "templates",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False),
    Column("language", String(10), nullable=False),
    Column("version", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("fields", JSON, nullable=False),  # [{"name", "type", "required", "label"?}]
    Column("description", Text, nullable=True),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    UniqueConstraint("name_key", "language", "version", name="uq_templates_name_language_version"),
)

contracts = Table(
    "contracts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("customer_id", BigInteger, nullable=False),
    # a snapshot of the customer at creation (and at each amendment): name for documents and
    # events, language for notifications and the document, level for the price list tier
    Column("customer_name", String(300), nullable=False),
    Column("customer_code", String(40), nullable=True),
    Column("customer_language", String(10), nullable=True),
    Column("customer_level", String(1), nullable=True),
    Column("customer_owner_id", UserId, nullable=True),
    Column("kind", String(20), nullable=False),
    Column("title", String(300), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("signer", String(300), nullable=True),
    Column("signer_title", String(200), nullable=True),
    Column("signed_on", Date, nullable=True),
    Column("payment_terms_days", Integer, nullable=False),
    Column("billing_frequency", String(20), nullable=False),
    Column("billing_in_advance", Boolean, nullable=False),
    Column("billing_anchor_day", Integer, nullable=True),
    Column("auto_renew", Boolean, nullable=False, default=False),
    Column("notice_days", Integer, nullable=False, default=0),
    Column("renewal_uplift_percent", ExactDecimal(), nullable=False),
    Column("owner_id", UserId, nullable=True),
    Column("department", String(100), nullable=True),
    Column("company", String(200), nullable=True),
    Column("template_id", BigId, ForeignKey("templates.id"), nullable=True),
    Column("field_values", JSON, nullable=False),
    Column("notes", Text, nullable=True),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False, default=0),  # last approved version; 0 = never
    Column("total", ExactDecimal(), nullable=False),  # sum of line amounts (per billing period)
    Column("amounts_locked", Boolean, nullable=False, default=False),
    Column("amounts_locked_by", String(100), nullable=True),
    Column("amounts_locked_at", UTCDateTime(), nullable=True),
    Column("renewal_of_id", BigId, nullable=True),
    Column("renewed_by_id", BigId, nullable=True),
    Column("approval_id", String(64), nullable=True),
    Column("rejection_comment", Text, nullable=True),
    Column("status_reason", Text, nullable=True),  # termination / cancellation reason
    Column("termination_date", Date, nullable=True),
    Column("import_job_id", BigId, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("submitted_at", UTCDateTime(), nullable=True),
    Column("approved_at", UTCDateTime(), nullable=True),
    Column("activated_at", UTCDateTime(), nullable=True),
    Column("ended_at", UTCDateTime(), nullable=True),
)
Index("ix_contracts_customer_id", contracts.c.customer_id)
Index("ix_contracts_owner_id", contracts.c.owner_id)
Index("ix_contracts_status_end_date", contracts.c.status, contracts.c.end_date)
Index("ix_contracts_status_start_date", contracts.c.status, contracts.c.start_date)
Index("ix_contracts_renewal_of_id", contracts.c.renewal_of_id)
# the dashboard's figures (in force on a day, renewals due, signed in a year) read these covering
# indexes only, never the wide contract rows
Index(
    "ix_contracts_dashboard_term",
    contracts.c.status, contracts.c.end_date, contracts.c.start_date, contracts.c.renewed_by_id,
    contracts.c.currency, contracts.c.total, contracts.c.owner_id,
)  # fmt: skip
Index(
    "ix_contracts_dashboard_signed",
    contracts.c.approved_at, contracts.c.currency, contracts.c.total, contracts.c.owner_id,
)  # fmt: skip

contract_lines = Table(
    "contract_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", BigId, ForeignKey("contracts.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("product_id", BigInteger, nullable=False),
    Column("sku", String(64), nullable=True),
    Column("product_name", String(300), nullable=False),
    Column("product_kind", String(20), nullable=True),
    Column("category", String(1000), nullable=True),  # the product's category path
    Column("category_key", String(1000), nullable=True),  # folded, for the category filter
    Column("model", String(200), nullable=True),
    Column("manufacturer", String(200), nullable=True),
    Column("serial_number", String(100), nullable=True),
    Column("manufacturing_number", String(100), nullable=True),
    Column("description", Text, nullable=True),
    Column("quantity", ExactDecimal(), nullable=False),
    Column("unit_price", ExactDecimal(), nullable=False),
    Column("discount_percent", ExactDecimal(), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),  # quantity × unit price × (1 − discount)
    Column("price_source", String(30), nullable=True),  # price_list | base_price | manual | ...
    Column("start_date", Date, nullable=True),  # null: the contract's start
    Column("end_date", Date, nullable=True),  # null: the contract's end
    Column("warehouse_id", BigInteger, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
Index("ix_contract_lines_contract_id", contract_lines.c.contract_id)
Index("ix_contract_lines_product_id", contract_lines.c.product_id)
Index("ix_contract_lines_serial", contract_lines.c.serial_number)

contract_versions = Table(
    "contract_versions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", BigId, ForeignKey("contracts.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("kind", String(30), nullable=False),  # approval | amendment | co_terminate | ...
    Column("reason", Text, nullable=True),
    Column("effective_date", Date, nullable=True),
    Column("amendment_id", BigId, nullable=True),
    Column("snapshot", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    UniqueConstraint("contract_id", "version", name="uq_contract_versions_contract_version"),
)

# Bulk price updates that go through one approval: the batch holds the parameters; its
# amendments (one per contract) are applied together when the batch is approved.
amendment_batches = Table(
    "amendment_batches",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(30), nullable=False),  # price_update
    Column("status", String(20), nullable=False),
    Column("params", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("approval_id", String(64), nullable=True),
    Column("comment", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("created_by_id", UserId, nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
)

amendments = Table(
    "amendments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", BigId, ForeignKey("contracts.id"), nullable=False),
    Column("number", String(60), nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=False),
    Column("impact", Text, nullable=True),
    Column("effective_date", Date, nullable=False),
    # {"changes": {field: value}, "add_lines": [...], "remove_line_ids": [...],
    #  "change_lines": [{"id", ...}]}, as validated
    Column("changes", JSON, nullable=False),
    Column("amount_before", ExactDecimal(), nullable=True),
    Column("amount_after", ExactDecimal(), nullable=True),
    Column("batch_id", BigId, ForeignKey("amendment_batches.id"), nullable=True),
    Column("approval_id", String(64), nullable=True),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=True),
    Column("comment", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("created_by_id", UserId, nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
)
Index("ix_amendments_contract_id", amendments.c.contract_id)
Index("ix_amendments_batch_id", amendments.c.batch_id)

# Files live outside the database (CRM_DATA_DIR or an S3 bucket); this is their catalogue.
attachments = Table(
    "attachments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", BigId, ForeignKey("contracts.id"), nullable=False),
    Column("amendment_id", BigId, nullable=True),
    Column("filename", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage", String(10), nullable=False),  # local | s3
    Column("storage_key", String(500), nullable=False),
    Column("description", Text, nullable=True),
    Column("uploaded_by", String(100), nullable=True),
    Column("uploaded_by_id", UserId, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_attachments_contract_id", attachments.c.contract_id)

# An upload in progress: chunks are kept here (any replica may receive the next chunk) until the
# upload is finished and moved to the file store, or abandoned and swept.
uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("contract_id", BigId, nullable=False),
    Column("amendment_id", BigId, nullable=True),
    Column("filename", String(300), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("size", BigInteger, nullable=False, default=0),
    Column("chunks", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("created_by_id", UserId, nullable=True),
    # set when finished: the upload's row stays (without chunks) until swept, so a finish
    # retried after a lost reply answers the same attachment
    Column("attachment_id", BigId, nullable=True),
)

upload_chunks = Table(
    "upload_chunks",
    metadata,
    Column("upload_id", String(36), ForeignKey("uploads.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

milestones = Table(
    "milestones",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("contract_id", BigId, ForeignKey("contracts.id"), nullable=False),
    Column("name", String(300), nullable=False),
    Column("planned_date", Date, nullable=False),
    Column("weight", ExactDecimal(), nullable=False),
    Column("percent_complete", Integer, nullable=False, default=0),
    Column("completed_on", Date, nullable=True),
    Column("notes", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)
Index("ix_milestones_contract_id", milestones.c.contract_id)

# What billing told us (invoice_issued / payment_received / invoice_paid / credit_note_issued):
# one row per invoice, so the progress of a contract is a sum over its rows.
contract_invoices = Table(
    "contract_invoices",
    metadata,
    Column("invoice_id", String(64), primary_key=True),
    Column("contract_id", BigId, nullable=False),
    Column("number", String(60), nullable=True),
    Column("currency", String(3), nullable=False),
    Column("total", ExactDecimal(), nullable=False),
    Column("paid", ExactDecimal(), nullable=False),
    Column("status", String(20), nullable=False),
    Column("issue_date", Date, nullable=True),
    Column("due_date", Date, nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("event_at", UTCDateTime(), nullable=True),
    # the last day of the period it bills (null: a one-off or an older row): a termination
    # before it reaches into a period already invoiced (revision 0004)
    Column("period_end", Date, nullable=True),
)
Index("ix_contract_invoices_contract_id", contract_invoices.c.contract_id)

# contract_expiring is published once per (contract, window)
expiry_notices = Table(
    "expiry_notices",
    metadata,
    Column("contract_id", BigId, primary_key=True),
    Column("end_date", Date, primary_key=True),
    Column("window", Integer, primary_key=True),
    Column("sent", Boolean, nullable=False),  # False: the window was passed over (a later one was due)
    Column("as_of", Date, nullable=False),
)

# CSV import jobs: staged rows validated and applied at the end (customers' error contract)
import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("mode", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("filename", String(300), nullable=True),
    Column("rows_received", Integer, nullable=False, default=0),
    Column("rows_processed", Integer, nullable=False, default=0),
    Column("contracts_created", Integer, nullable=False, default=0),
    Column("errors", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("caller", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
)

import_rows = Table(
    "import_rows",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", BigId, ForeignKey("import_jobs.id"), nullable=False),
    Column("line", Integer, nullable=False),
    Column("data", JSON, nullable=False),
)
Index("ix_import_rows_job_id", import_rows.c.job_id)

# Read copy of the gateway's user directory (gateway.user_created / user_updated): the owners'
# departments, for a department manager's dashboard.
users = Table(
    "users",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("department", String(100), nullable=True),
    Column("roles", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    # occurred_at of the newest event applied: an older event arriving late changes nothing
    Column("event_at", UTCDateTime(), nullable=False),
)
Index("ix_users_department", users.c.department)

# What portal users ask for: a renewal quote on a contract, a service call on an installed item.
service_requests = Table(
    "service_requests",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # renewal_quote | service_call
    Column("customer_id", BigInteger, nullable=False),
    Column("contract_id", BigId, ForeignKey("contracts.id"), nullable=False),
    Column("line_id", BigId, nullable=True),
    Column("serial_number", String(100), nullable=True),
    Column("message", Text, nullable=False),
    Column("status", String(20), nullable=False),  # open | closed
    Column("requested_by", UserId, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_service_requests_customer_id", service_requests.c.customer_id)
Index("ix_service_requests_contract_id", service_requests.c.contract_id)

# the tables of revision 0001 (which creates them as defined here); later tables come with their
# own revisions
DOMAIN_TABLES = (
    counters,
    templates,
    contracts,
    contract_lines,
    contract_versions,
    amendment_batches,
    amendments,
    attachments,
    uploads,
    upload_chunks,
    milestones,
    contract_invoices,
    expiry_notices,
    import_jobs,
    import_rows,
)

# tables of revision 0002_portal_dashboard
PORTAL_TABLES = (users, service_requests)
