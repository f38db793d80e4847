"""The billing service's tables (its own database; no other service reads them).

* ``customers`` — a read copy of the customers service's customers (name, code, owner, language,
  tax id, address), fed by its events; invoices snapshot it when they are issued.
* ``users`` — a read copy of the gateway's users (department, roles, active), fed by its
  ``user_created`` / ``user_updated`` events: a sales manager's dashboard covers the customers
  owned by users of their department.
* ``schedules`` — one row per contract, built from the contract events: the billing terms, the
  contract's lines over time (``segments``: each amendment adds one from its effective date), and
  the cursor of the next period to invoice (``next_period_start`` / ``next_bill_date``). A billing
  run invoices a period and moves the cursor in one transaction, so a period is invoiced once.
* ``invoices`` / ``invoice_lines``, ``credit_notes`` / ``credit_note_lines`` — documents with
  gapless numbers per series and year from ``counters``, taken in the issuing transaction.
* ``payments``, ``allocations``, ``refunds`` — money received, what it paid, what went back.
* ``billing_runs`` — every run with its progress and summary; ``tax_rates``; ``pdf_cache``.
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
)

metadata, infra = service_metadata()

UserId = BigInteger().with_variant(Integer(), "sqlite")

# A monotonically increasing counter per name ("INV-2027", "CN-2027").
counters = Table(
    "counters",
    metadata,
    Column("name", String(60), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

customers = Table(
    "customers",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("code", String(40), nullable=True),
    Column("name", String(300), nullable=True),
    Column("kind", String(20), nullable=True),
    Column("owner_id", UserId, nullable=True, index=True),
    Column("language", String(10), nullable=True),
    Column("tax_id", String(100), nullable=True),
    Column("address", Text, nullable=True),
    Column("email", String(300), nullable=True),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("event_at", UTCDateTime(), nullable=False),
)

# Read copy of the gateway's user directory (gateway.user_created / user_updated): only what the
# department scope needs.
users = Table(
    "users",
    metadata,
    Column("id", UserId, primary_key=True, autoincrement=False),
    Column("department", String(100), nullable=True, index=True),
    Column("roles", JSON, nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    # occurred_at of the newest event applied: an older event arriving late changes nothing
    Column("event_at", UTCDateTime(), nullable=False),
)

schedules = Table(
    "schedules",
    metadata,
    Column("contract_id", UserId, primary_key=True, autoincrement=False),
    Column("contract_number", String(40), nullable=True),
    Column("customer_id", UserId, nullable=False, index=True),
    Column("customer_name", String(300), nullable=True),
    Column("customer_code", String(40), nullable=True),
    Column("customer_language", String(10), nullable=True),
    Column("owner_id", UserId, nullable=True),
    Column("title", String(300), nullable=True),
    Column("kind", String(20), nullable=True),
    Column("currency", String(3), nullable=False),
    # active: periods left to invoice; ended: every period invoiced (or terminated / cancelled)
    Column("status", String(20), nullable=False),
    Column("contract_status", String(20), nullable=True),
    Column("frequency", String(20), nullable=False),
    Column("in_advance", Boolean, nullable=False),
    Column("payment_terms_days", Integer, nullable=False),
    Column("anchor_day", Integer, nullable=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("termination_date", Date, nullable=True),  # billing stops on this day
    Column("version", Integer, nullable=False),
    Column("renewal_of_id", UserId, nullable=True),
    # [{"effective_from", "version", "lines": [{line_id, description, quantity, unit_price, ...}]}]
    Column("segments", JSON, nullable=False),
    Column("next_period_start", Date, nullable=True),  # None: nothing invoiced yet
    Column("next_bill_date", Date, nullable=True),  # None: nothing left to invoice
    # an amendment or termination changed periods already invoiced: the next run settles them
    Column("true_up_from", Date, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("event_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("ix_schedules_due", "status", "next_bill_date"),
)

invoices = Table(
    "invoices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(40), nullable=True, unique=True),  # none while draft
    Column("series", String(10), nullable=False),
    # contract | renewal | one_off | adjustment
    Column("kind", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("customer_id", UserId, nullable=False, index=True),
    Column("customer", JSON, nullable=False),  # snapshot: name, code, address, tax_id, email, language
    Column("language", String(10), nullable=False),
    Column("contract_id", UserId, nullable=True, index=True),
    Column("contract_number", String(40), nullable=True),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    # "period:<contract>:<period start>" / "true-up:<contract>:<period start>:<n>": a schedule's
    # period becomes one invoice, whatever the number of runs or replicas
    Column("dedupe_key", String(120), nullable=True, unique=True),
    Column("currency", String(3), nullable=False),
    Column("subtotal", ExactDecimal(), nullable=False),
    Column("tax", ExactDecimal(), nullable=False),
    Column("total", ExactDecimal(), nullable=False),
    Column("paid", ExactDecimal(), nullable=False),
    Column("credited", ExactDecimal(), nullable=False),
    Column("issue_date", Date, nullable=True),
    Column("due_date", Date, nullable=True),
    Column("payment_terms_days", Integer, nullable=True),
    Column("overdue_at", Date, nullable=True),  # set once by the daily scan (invoice_overdue)
    Column("paid_at", Date, nullable=True),
    Column("locked", Boolean, nullable=False, default=False),
    Column("locked_by", String(100), nullable=True),
    Column("locked_at", UTCDateTime(), nullable=True),
    Column("void_reason", Text, nullable=True),
    Column("voided_at", UTCDateTime(), nullable=True),
    Column("notes", Text, nullable=True),
    Column("run_id", BigInteger, nullable=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # the overdue scan and the open-invoice lists: status, then due date (one index, not two)
    Index("ix_invoices_status_due", "status", "due_date"),
    # the reports and the dashboard read these alone (covering: no table lookups): what was
    # issued in a period, and what the open invoices still owe
    Index("ix_invoices_issued", "issue_date", "currency", "customer_id", "status", "total"),
    Index(
        "ix_invoices_open",
        "status",
        "currency",
        "customer_id",
        "due_date",
        "issue_date",
        "total",
        "paid",
        "credited",
    ),  # fmt: skip
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("invoice_id", BigId, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("position", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("contract_line_id", UserId, nullable=True),
    Column("product_id", UserId, nullable=True),
    Column("sku", String(100), nullable=True),
    Column("category", String(200), nullable=True),
    Column("period_start", Date, nullable=True),
    Column("period_end", Date, nullable=True),
    Column("quantity", ExactDecimal(), nullable=False),
    Column("unit_price", ExactDecimal(), nullable=False),
    Column("discount_percent", ExactDecimal(), nullable=False),
    Column("covered_days", Integer, nullable=True),
    Column("period_days", Integer, nullable=True),
    Column("exact_amount", ExactDecimal(), nullable=False),  # before rounding
    Column("amount", ExactDecimal(), nullable=False),  # net, rounded to the minor unit
    Column("tax_percent", ExactDecimal(), nullable=False),
    Column("tax_amount", ExactDecimal(), nullable=False),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("number", String(40), nullable=False, unique=True),
    Column("invoice_id", BigId, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("customer_id", UserId, nullable=False, index=True),
    Column("currency", String(3), nullable=False),
    Column("subtotal", ExactDecimal(), nullable=False),
    Column("tax", ExactDecimal(), nullable=False),
    Column("amount", ExactDecimal(), nullable=False),  # gross
    Column("reason", Text, nullable=False),
    Column("issue_date", Date, nullable=False, index=True),
    Column("dedupe_key", String(120), nullable=True, unique=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

credit_note_lines = Table(
    "credit_note_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("credit_note_id", BigId, ForeignKey("credit_notes.id"), nullable=False, index=True),
    Column("invoice_line_id", BigId, ForeignKey("invoice_lines.id"), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("amount", ExactDecimal(), nullable=False),  # net
    Column("tax_percent", ExactDecimal(), nullable=False),
    Column("tax_amount", ExactDecimal(), nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("customer_id", UserId, nullable=False, index=True),
    Column("amount", ExactDecimal(), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("method", String(30), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("reference", String(200), nullable=True),
    Column("handler", String(200), nullable=True),
    Column("account", String(200), nullable=True),
    Column("notes", Text, nullable=True),
    # pending (recorded by sales, waiting for finance) | confirmed
    Column("status", String(20), nullable=False),
    Column("requested_allocations", JSON, nullable=True),  # of a pending payment
    Column("allocated", ExactDecimal(), nullable=False),
    Column("refunded", ExactDecimal(), nullable=False),
    Column("confirmed_by", String(100), nullable=True),
    Column("confirmed_at", UTCDateTime(), nullable=True),
    Column("locked", Boolean, nullable=False, default=False),
    Column("locked_by", String(100), nullable=True),
    Column("locked_at", UTCDateTime(), nullable=True),
    Column("created_by", String(100), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # the lists by day received, and the cash collected per month (covering)
    Index("ix_payments_received", "received_at", "currency", "customer_id", "status", "amount"),
)

allocations = Table(
    "allocations",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("payment_id", BigId, ForeignKey("payments.id"), nullable=False, index=True),
    Column("invoice_id", BigId, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("amount", ExactDecimal(), nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("payment_id", BigId, ForeignKey("payments.id"), nullable=False, index=True),
    Column("amount", ExactDecimal(), nullable=False),
    Column("method", String(30), nullable=True),
    Column("reference", String(200), nullable=True),
    Column("reason", Text, nullable=False),
    Column("refunded_at", UTCDateTime(), nullable=False, index=True),
    Column("created_by", String(100), nullable=True),
)

billing_runs = Table(
    "billing_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("as_of", Date, nullable=False),
    Column("status", String(20), nullable=False),  # running | completed | failed
    Column("triggered_by", String(100), nullable=True),
    Column("contracts_due", Integer, nullable=False, default=0),
    Column("contracts_processed", Integer, nullable=False, default=0),
    Column("contracts_invoiced", Integer, nullable=False, default=0),
    Column("invoices_created", Integer, nullable=False, default=0),
    Column("credit_notes_created", Integer, nullable=False, default=0),
    Column("skipped", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("failures", JSON, nullable=True),  # [{contract_id, contract_number, reason}] (≤ 1000)
    Column("error", Text, nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
)

tax_rates = Table(
    "tax_rates",
    metadata,
    Column("key", String(250), primary_key=True),  # default | kind:<kind> | category:<category>
    Column("percent", ExactDecimal(), nullable=False),
    Column("updated_by", String(100), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# Rendered PDFs by the hash of what the document shows: the same content is rendered once.
pdf_cache = Table(
    "pdf_cache",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("language", String(10), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# A correction a billing run could not make because the invoice is locked by finance (it never
# credits or adjusts a locked invoice): what it would have credited, per invoice line, and why.
# Applied (a credit note) when finance unlocks the invoice or approves it; or dismissed.
pending_corrections = Table(
    "pending_corrections",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("invoice_id", BigId, ForeignKey("invoices.id"), nullable=False),
    Column("contract_id", BigId, nullable=True),
    Column("customer_id", UserId, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("kind", String(20), nullable=False),  # credit
    Column("status", String(20), nullable=False),  # pending | applied | dismissed
    Column("parts", JSON, nullable=False),  # [{"invoice_line_id", "amount"}] (net, exact strings)
    Column("amount", ExactDecimal(), nullable=False),  # net total of the parts
    Column("reason", Text, nullable=False),
    Column("dedupe_key", String(120), nullable=False, unique=True),
    Column("run_id", BigId, nullable=True),
    Column("credit_note_id", BigId, nullable=True),
    Column("comment", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(100), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decided_by", String(100), nullable=True),
)
Index("ix_pending_corrections_status_invoice", pending_corrections.c.status, pending_corrections.c.invoice_id)

# the tables of revision 0001 (later tables come with their own revisions)
DOMAIN_TABLES = (
    counters,
    customers,
    schedules,
    invoices,
    invoice_lines,
    credit_notes,
    credit_note_lines,
    payments,
    allocations,
    refunds,
    billing_runs,
    tax_rates,
    pdf_cache,
)

__all__ = ["DOMAIN_TABLES", "infra", "metadata", "pending_corrections", "users"] + [
    t.name for t in DOMAIN_TABLES
]
