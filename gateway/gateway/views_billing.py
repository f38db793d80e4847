"""Response shapes of the billing routes (invoices, credit notes, payments, billing runs,
schedules, tax rates, balances, finance reports), as the ``billing`` service builds them
(``billing.invoices.summary_view``, ``invoice_view``, ``credits.credit_note_view``,
``payments.payment_view``, ``runs.run_view``, ``schedules.get_schedule``, ``reports.*``).

Documentation only: the routes declare them with ``responses={200: {"model": ...}}`` and pass the
service's JSON through unfiltered, so a field the service adds later still reaches the client.
Money, quantities and percentages are decimal strings; dates and timestamps ISO 8601 strings; a
field typed ``X | None`` is always present and may be null."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from .schemas import Page
from .schemas_billing import InvoiceKind, InvoiceStatus, PaymentMethod, PaymentStatus, RevenueBy

MoneyText = Annotated[str, Field(description="decimal string in the currency", examples=["1250.00"])]
DecimalText = Annotated[str, Field(description="decimal string", examples=["1", "2.5", "20"])]
IsoDay = Annotated[str, Field(description="ISO 8601 date", examples=["2031-01-31"])]
IsoTime = Annotated[str, Field(description="ISO 8601 timestamp", examples=["2031-01-31T09:00:00+00:00"])]


# --------------------------------------------------------------------------------------
# Invoices
# --------------------------------------------------------------------------------------


class CustomerSnapshot(BaseModel):
    """The customer as it was when the document was issued."""

    name: str | None = None
    code: str | None = None
    address: str | None = None
    tax_id: str | None = None
    email: str | None = None
    language: str | None = None


class InvoiceSummary(BaseModel):
    """An invoice as lists show it (no lines)."""

    id: int
    number: str | None = Field(description="null while draft")
    kind: InvoiceKind
    status: InvoiceStatus
    currency: str
    language: str
    customer_id: int
    customer: CustomerSnapshot | None
    customer_name: str | None
    contract_id: int | None
    contract_number: str | None
    period_start: IsoDay | None
    period_end: IsoDay | None
    issue_date: IsoDay | None
    due_date: IsoDay | None
    subtotal: MoneyText
    tax: MoneyText
    total: MoneyText
    paid: MoneyText
    credited: MoneyText
    balance: MoneyText
    overdue_since: IsoDay | None
    locked: bool
    locked_by: str | None
    locked_at: IsoTime | None
    void_reason: str | None
    notes: str | None
    created_at: IsoTime
    updated_at: IsoTime


class InvoiceLinePublic(BaseModel):
    id: int
    position: int
    description: str
    sku: str | None
    product_id: int | None
    contract_line_id: int | None
    period_start: IsoDay | None
    period_end: IsoDay | None
    quantity: DecimalText
    unit_price: MoneyText
    discount_percent: DecimalText
    covered_days: int | None
    period_days: int | None
    amount: MoneyText = Field(description="net")
    tax_percent: DecimalText
    tax_amount: MoneyText


class InvoiceCreditNoteRef(BaseModel):
    id: int
    number: str
    amount: MoneyText
    issue_date: IsoDay
    reason: str


class InvoiceAllocation(BaseModel):
    payment_id: int
    amount: MoneyText
    received_at: IsoTime
    method: str
    reference: str | None


class InvoicePublic(InvoiceSummary):
    """An invoice with its lines, credit notes and allocated payments."""

    lines: list[InvoiceLinePublic]
    credit_notes: list[InvoiceCreditNoteRef]
    allocations: list[InvoiceAllocation]


# --------------------------------------------------------------------------------------
# Credit notes
# --------------------------------------------------------------------------------------


class CreditNoteLinePublic(BaseModel):
    invoice_line_id: int
    description: str
    amount: MoneyText = Field(description="net")
    tax_percent: DecimalText
    tax_amount: MoneyText


class CreditNotePublic(BaseModel):
    id: int
    number: str
    invoice_id: int
    invoice_number: str | None
    contract_id: int | None
    customer_id: int
    customer: CustomerSnapshot | None
    currency: str
    language: str
    issue_date: IsoDay
    reason: str
    subtotal: MoneyText
    tax: MoneyText
    amount: MoneyText = Field(description="gross")
    lines: list[CreditNoteLinePublic]
    created_at: IsoTime


# --------------------------------------------------------------------------------------
# Payments and balances
# --------------------------------------------------------------------------------------


class RequestedAllocation(BaseModel):
    invoice_id: int
    amount: DecimalText


class PaymentAllocationPublic(BaseModel):
    invoice_id: int
    invoice_number: str | None
    amount: MoneyText
    allocated_at: IsoTime


class RefundPublic(BaseModel):
    id: int
    amount: MoneyText
    reason: str
    method: str | None
    reference: str | None
    refunded_at: IsoTime


class PaymentPublic(BaseModel):
    """A payment with its allocations and refunds."""

    id: int
    customer_id: int
    customer_name: str | None
    amount: MoneyText
    currency: str
    method: PaymentMethod
    received_at: IsoTime
    reference: str | None
    handler: str | None
    account: str | None
    notes: str | None
    status: PaymentStatus
    requested_allocations: list[RequestedAllocation] | None = Field(
        description="what a pending payment will pay once confirmed"
    )
    confirmed_by: str | None
    confirmed_at: IsoTime | None
    allocated: MoneyText
    unallocated: MoneyText
    refunded: MoneyText
    locked: bool
    locked_by: str | None
    locked_at: IsoTime | None
    allocations: list[PaymentAllocationPublic]
    refunds: list[RefundPublic]
    created_by: str | None
    created_at: IsoTime


class CurrencyBalance(BaseModel):
    open: MoneyText
    overdue: MoneyText
    credit: MoneyText = Field(description="confirmed payments not yet allocated")


class CustomerBalance(BaseModel):
    customer_id: int
    currencies: dict[str, CurrencyBalance] = Field(description="by ISO 4217 code")


# --------------------------------------------------------------------------------------
# Billing runs, schedules, tax rates
# --------------------------------------------------------------------------------------


class BillingRunFailure(BaseModel):
    contract_id: int | None
    contract_number: str | None
    reason: str


class BillingRunPublic(BaseModel):
    id: int
    as_of: IsoDay
    status: Literal["running", "completed", "failed"]
    triggered_by: str | None
    contracts_due: int
    contracts_processed: int
    contracts_invoiced: int
    invoices_created: int
    credit_notes_created: int
    skipped: int
    failed: int
    failures: list[BillingRunFailure]
    error: str | None
    progress: float = Field(ge=0, le=1)
    started_at: IsoTime
    finished_at: IsoTime | None


class SchedulePeriod(BaseModel):
    start: IsoDay
    end: IsoDay
    bill_date: IsoDay
    days: int
    period_days: int
    amount: MoneyText
    invoice_id: int | None
    status: Literal["invoiced", "due", "planned"]


class SchedulePublic(BaseModel):
    """The billing schedule of a contract with every period."""

    contract_id: int
    contract_number: str | None
    customer_id: int
    status: str
    contract_status: str | None
    currency: str
    frequency: Literal["once", "monthly", "quarterly", "yearly"]
    in_advance: bool
    payment_terms_days: int
    anchor_day: int | None
    start_date: IsoDay
    end_date: IsoDay
    termination_date: IsoDay | None
    billing_end: IsoDay | None
    version: int
    next_period_start: IsoDay | None
    next_bill_date: IsoDay | None
    true_up_from: IsoDay | None
    last_error: str | None
    segments: list[dict[str, Any]] = Field(description="the terms in force from each date")
    periods: list[SchedulePeriod]


class TaxRatePublic(BaseModel):
    key: str
    percent: DecimalText
    updated_by: str | None
    updated_at: IsoTime


class TaxRateList(BaseModel):
    items: list[TaxRatePublic]
    fallback_percent: DecimalText = Field(description="used where no key matches")


class TaxRateSetResult(BaseModel):
    key: str
    percent: DecimalText | None = Field(description="null: the rate was removed")


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------


class AgingRow(BaseModel):
    current: MoneyText
    days_1_30: MoneyText = Field(alias="1_30")
    days_31_60: MoneyText = Field(alias="31_60")
    days_61_90: MoneyText = Field(alias="61_90")
    over_90: MoneyText
    total: MoneyText
    invoices: int


class AgingCustomer(AgingRow):
    customer_id: int
    customer_name: str | None


class AgingCurrency(BaseModel):
    total: AgingRow
    customers: list[AgingCustomer]


class ReceivablesAging(BaseModel):
    as_of: IsoDay
    buckets: list[str]
    currencies: dict[str, AgingCurrency]


class CashFlowMonthFigures(BaseModel):
    month: str = Field(examples=["2031-01"])
    invoiced: MoneyText
    collected: MoneyText
    forecast: MoneyText


class CashFlow(BaseModel):
    year: int
    currencies: dict[str, list[CashFlowMonthFigures]]


class RevenueItem(BaseModel):
    key: int | str = Field(description="the customer id, or the product's SKU, id or description")
    name: str | None
    amount: MoneyText


class RevenueCurrency(BaseModel):
    total: MoneyText
    items: list[RevenueItem]


class Revenue(BaseModel):
    from_: IsoDay = Field(alias="from")
    to: IsoDay
    by: RevenueBy
    currencies: dict[str, RevenueCurrency]


class RecurringCurrency(BaseModel):
    mrr: MoneyText
    arr: MoneyText
    contracts: int


class RecurringRevenue(BaseModel):
    as_of: IsoDay
    currencies: dict[str, RecurringCurrency]


InvoicePage = Page[InvoiceSummary]
CreditNotePage = Page[CreditNotePublic]
PaymentPage = Page[PaymentPublic]
BillingRunPage = Page[BillingRunPublic]


class PendingCorrectionLine(BaseModel):
    invoice_line_id: int
    amount: MoneyText = Field(description="net, what would be credited on that line")


class PendingCorrection(BaseModel):
    """A correction a billing run could not make because the invoice is locked by finance
    (billing never credits or adjusts a locked invoice): applied as a credit note when finance
    unlocks the invoice or approves it, or dismissed."""

    id: int
    invoice_id: int
    invoice_number: str | None
    invoice_locked: bool | None
    contract_id: int | None
    customer_id: int
    customer_name: str | None
    currency: str
    kind: str = Field(description="credit")
    status: str = Field(description="pending | applied | dismissed")
    amount: MoneyText = Field(description="net total")
    lines: list[PendingCorrectionLine]
    reason: str
    credit_note_id: int | None = Field(description="the credit note that applied it")
    comment: str | None
    created_at: IsoTime
    created_by: str | None
    decided_at: IsoTime | None
    decided_by: str | None


PendingCorrectionPage = Page[PendingCorrection]

PDF: dict[str, Any] = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
