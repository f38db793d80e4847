"""Events the billing service publishes (exchange ``billing.events``, routing key = type) and
consumes. Every event leaves through the transactional outbox in the envelope ``{event_id, type,
version, occurred_at, source, request_id, payload}``; amounts are decimal strings in the
currency's format, dates ISO 8601.

``CATALOGUE`` declares each published payload (:mod:`crm_common.catalogue`; the generated
reference is ``docs/events/``). The ``invoice_*`` events carry the invoice as
:func:`billing.invoices.invoice_payload` builds it (:class:`InvoicePayload`); a billing run's
``invoice_issued`` and every ``invoice_overdue`` also carry ``as_of``, the date of the run or
scan (ADR 0011: consumers date what they do about it by that date).
"""

from __future__ import annotations

from crm_common.catalogue import EventSpec
from crm_common.fields import AwareDateTime, Date
from crm_common.money import Money
from marshmallow import Schema, fields, validate

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

INVOICE_KINDS = ("contract", "renewal", "one_off", "adjustment")
# an event names an issued invoice: never a draft
INVOICE_STATUSES = ("issued", "partially_paid", "paid", "overdue", "void")
PAYMENT_METHODS = ("bank_transfer", "cash", "card", "cheque", "direct_debit", "offset", "other")


def _money(description: str, **kwargs) -> Money:
    return Money(required=True, allow_negative=True, metadata={"description": description}, **kwargs)


# -- payloads --------------------------------------------------------------------------------


class InvoicePayload(Schema):
    """An issued invoice as its events carry it (:func:`billing.invoices.invoice_payload`)."""

    id = fields.Integer(required=True)
    invoice_id = fields.Integer(required=True, metadata={"description": "= id"})
    number = fields.String(required=True, metadata={"description": "INV-<year>-<000001>"})
    invoice_number = fields.String(required=True, metadata={"description": "= number"})
    kind = fields.String(required=True, validate=validate.OneOf(INVOICE_KINDS))
    status = fields.String(required=True, validate=validate.OneOf(INVOICE_STATUSES))
    customer_id = fields.Integer(required=True)
    customer_name = fields.String(required=True, allow_none=True)
    customer_code = fields.String(required=True, allow_none=True)
    language = fields.String(required=True, metadata={"description": "the document's language"})
    owner_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "the customer's owner (a user id)"}
    )
    contract_id = fields.Integer(required=True, allow_none=True)
    contract_number = fields.String(required=True, allow_none=True)
    currency = fields.String(required=True, metadata={"description": "ISO 4217"})
    subtotal = _money("net")
    tax = _money("tax")
    total = _money("gross")
    amount = _money("= total")
    amount_due = _money("total − paid − credited")
    paid = _money("paid so far")
    credited = _money("credited so far (credit notes)")
    issue_date = Date(required=True)
    due_date = Date(required=True)
    period_start = Date(required=True, allow_none=True, metadata={"description": "null: one-off"})
    period_end = Date(required=True, allow_none=True, metadata={"description": "null: one-off"})
    pdf_url = fields.String(required=True, metadata={"description": "gateway path of the PDF"})


class InvoiceIssuedPayload(InvoicePayload):
    as_of = Date(metadata={"description": "the billing run's date; absent for a one-off invoice"})


class InvoiceOverduePayload(InvoicePayload):
    as_of = Date(required=True, metadata={"description": "the date of the overdue scan"})
    days_overdue = fields.Integer(required=True)


class InvoiceVoidedPayload(Schema):
    id = fields.Integer(required=True)
    invoice_id = fields.Integer(required=True, metadata={"description": "= id"})
    number = fields.String(required=True)
    contract_id = fields.Integer(required=True, allow_none=True)
    customer_id = fields.Integer(required=True)
    reason = fields.String(required=True)


class AllocationPayload(Schema):
    """One invoice a payment paid (its state after the payment)."""

    invoice_id = fields.Integer(required=True)
    invoice_number = fields.String(required=True)
    amount = _money("allocated to this invoice")
    contract_id = fields.Integer(required=True, allow_none=True)
    invoice_paid = _money("the invoice's paid amount after the payment")
    invoice_total = _money("the invoice's total − credited")
    invoice_status = fields.String(required=True, validate=validate.OneOf(INVOICE_STATUSES))


class PaymentReceivedPayload(Schema):
    id = fields.Integer(required=True)
    payment_id = fields.Integer(required=True, metadata={"description": "= id"})
    customer_id = fields.Integer(required=True)
    customer_name = fields.String(required=True, allow_none=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    amount = _money("received")
    currency = fields.String(required=True)
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    received_at = AwareDateTime(required=True)
    reference = fields.String(required=True, allow_none=True)
    unallocated = _money("the customer's credit left on this payment")
    allocations = fields.List(fields.Nested(AllocationPayload), required=True)
    paid_invoice_ids = fields.List(
        fields.Integer(), required=True, metadata={"description": "invoices this payment settled"}
    )


class PaymentRefundedPayload(Schema):
    id = fields.Integer(required=True, metadata={"description": "the refund"})
    refund_id = fields.Integer(required=True, metadata={"description": "= id"})
    payment_id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    amount = _money("refunded")
    currency = fields.String(required=True)
    reason = fields.String(required=True)


class CreditNotePayload(Schema):
    id = fields.Integer(required=True)
    credit_note_id = fields.Integer(required=True, metadata={"description": "= id"})
    number = fields.String(required=True, metadata={"description": "CN-<year>-<000001>"})
    invoice_id = fields.Integer(required=True)
    invoice_number = fields.String(required=True)
    contract_id = fields.Integer(required=True, allow_none=True)
    customer_id = fields.Integer(required=True)
    customer_name = fields.String(required=True, allow_none=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    amount = _money("gross credited")
    currency = fields.String(required=True)
    customer_credit = _money("what the paid invoice gives back to its payments (customer credit)")
    invoice_total = _money("the invoice's total − credited, after the note")
    invoice_paid = _money("the invoice's paid amount, after the note")
    invoice_status = fields.String(required=True, validate=validate.OneOf(INVOICE_STATUSES))
    reason = fields.String(required=True)


class BillingRunCompletedPayload(Schema):
    """Dumped from the finished ``billing_runs`` row."""

    id = fields.Integer(required=True)
    as_of = Date(required=True)
    invoices_created = fields.Integer(required=True)
    credit_notes_created = fields.Integer(required=True)
    contracts_invoiced = fields.Integer(required=True)
    skipped = fields.Integer(required=True)
    failed = fields.Integer(required=True, metadata={"description": "contracts that failed"})


billing_run_completed_payload = BillingRunCompletedPayload()

# -- the catalogue -------------------------------------------------------------------------------

# a customer may be a natural person: its name is personal data
_CUSTOMER = ("customer_name",)

CATALOGUE: tuple[EventSpec, ...] = (
    EventSpec(
        SOURCE,
        INVOICE_ISSUED,
        InvoiceIssuedPayload,
        "An invoice was issued: by a billing run (with its as_of), a one-off invoice or a draft issued.",
        personal=_CUSTOMER,
    ),
    EventSpec(
        SOURCE,
        INVOICE_OVERDUE,
        InvoiceOverduePayload,
        "The daily scan found an invoice past its due date with money owed (once per invoice).",
        personal=_CUSTOMER,
    ),
    EventSpec(
        SOURCE,
        INVOICE_PAID,
        InvoicePayload,
        "Nothing is left to pay on an invoice (paid, or credited).",
        personal=_CUSTOMER,
    ),
    EventSpec(SOURCE, INVOICE_VOIDED, InvoiceVoidedPayload, "An unpaid, uncredited invoice was voided."),
    EventSpec(
        SOURCE,
        PAYMENT_RECEIVED,
        PaymentReceivedPayload,
        "A payment was confirmed, or a customer's credit allocated, with the invoices it paid.",
        personal=_CUSTOMER,
    ),
    EventSpec(SOURCE, PAYMENT_REFUNDED, PaymentRefundedPayload, "Part of a payment was refunded."),
    EventSpec(
        SOURCE,
        CREDIT_NOTE_ISSUED,
        CreditNotePayload,
        "A credit note was issued against an invoice (by finance or a billing run's settlement).",
        personal=_CUSTOMER,
    ),
    EventSpec(
        SOURCE,
        BILLING_RUN_COMPLETED,
        BillingRunCompletedPayload,
        "A billing run finished, with its counts.",
    ),
)
