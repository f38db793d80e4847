"""Events the billing service publishes (exchange ``billing.events``, routing key = type) and
consumes. Every event leaves through the transactional outbox in the envelope ``{event_id, type,
version, occurred_at, source, request_id, payload}``; amounts are decimal strings, dates ISO 8601.

Invoice events carry the invoice as notify and contracts read it (:func:`billing.invoices.invoice_payload`):
``id`` and ``invoice_id``, ``number`` and ``invoice_number``, ``kind``, ``status``,
``customer_id``, ``customer_name``, ``customer_code``, ``language``, ``owner_id`` (the customer's
owner), ``contract_id``, ``contract_number``, ``currency``, ``subtotal``, ``tax``, ``total``,
``amount`` (= total), ``amount_due``, ``paid``, ``credited``, ``issue_date``, ``due_date``,
``period_start``, ``period_end``, ``pdf_url``. ``invoice_issued`` of a billing run and
``invoice_overdue`` also carry ``as_of``, the date of the run or scan (ADR 0011: consumers date
what they do about it by that date); ``invoice_overdue`` carries ``days_overdue``.
"""

from __future__ import annotations

SOURCE = "billing"

INVOICE_ISSUED = "invoice_issued"
INVOICE_OVERDUE = "invoice_overdue"
INVOICE_PAID = "invoice_paid"
INVOICE_VOIDED = "invoice_voided"
PAYMENT_RECEIVED = "payment_received"
PAYMENT_REFUNDED = "payment_refunded"
CREDIT_NOTE_ISSUED = "credit_note_issued"
BILLING_RUN_COMPLETED = "billing_run_completed"

PUBLISHED = (
    INVOICE_ISSUED,
    INVOICE_OVERDUE,
    INVOICE_PAID,
    INVOICE_VOIDED,
    PAYMENT_RECEIVED,
    PAYMENT_REFUNDED,
    CREDIT_NOTE_ISSUED,
    BILLING_RUN_COMPLETED,
)

# consumed
CONTRACT_APPROVED = "contract_approved"
CONTRACT_ACTIVATED = "contract_activated"
CONTRACT_AMENDED = "contract_amended"
CONTRACT_RENEWED = "contract_renewed"
CONTRACT_TERMINATED = "contract_terminated"
CONTRACT_CANCELLED = "contract_cancelled"
CUSTOMER_CREATED = "customer_created"
CUSTOMER_UPDATED = "customer_updated"
CUSTOMER_DELETED = "customer_deleted"
GATEWAY = "gateway"
USER_CREATED = "user_created"
USER_UPDATED = "user_updated"
