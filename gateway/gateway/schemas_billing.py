"""Request shapes of the billing routes (invoices, credit notes, payments, billing runs, tax
rates). The gateway checks shape and types: unknown fields, a float or NaN amount, a currency
that is not ISO 4217, a malformed date → 422 naming the field. Amounts, quantities and
percentages are strings with a decimal point (or integers), as :data:`gateway.schemas.Money`;
ids in bodies are positive integers. Business rules (balances, states, locks, scopes) are the
billing service's job."""

from __future__ import annotations

from typing import Annotated, Literal

from crm_common.money import CURRENCIES
from pydantic import AfterValidator, Field, StringConstraints

from .schemas import (
    MAX_ID,
    Currency,
    DecimalQuantity,
    IsoDate,
    Language,
    Money,
    PercentValue,
    Strict,
    Text,
    Timestamp,
)


def _known_currency(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError("not an ISO 4217 currency code this CRM knows")
    return code


KnownCurrency = Annotated[Currency, AfterValidator(_known_currency), Field(examples=["EUR"])]
Amount = Annotated[Money, Field(examples=["1250.00"])]
Quantity = Annotated[DecimalQuantity, Field(examples=["1", "2.5"])]
Percent = Annotated[PercentValue, Field(examples=["20", "7.5"])]
IntId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID, examples=[42])]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Sku = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
TermsDays = Annotated[int, Field(strict=True, ge=0, le=365)]

InvoiceStatus = Literal["draft", "issued", "partially_paid", "paid", "overdue", "void"]
InvoiceKind = Literal["contract", "renewal", "one_off", "adjustment"]
PaymentMethod = Literal["bank_transfer", "cash", "card", "cheque", "direct_debit", "offset", "other"]
PaymentStatus = Literal["pending", "confirmed"]
RevenueBy = Literal["customer", "product"]


class InvoiceLine(Strict):
    description: Description
    quantity: Quantity
    unit_price: Amount = Field(description="price of one unit, before the discount and tax")
    tax_percent: Percent | None = Field(None, description="default: the default tax rate")
    discount_percent: Percent | None = None
    product_id: IntId | None = None
    sku: Sku | None = None


class InvoiceCreate(Strict):
    """A one-off invoice; issued at once (it takes its number) unless ``draft`` is true."""

    customer_id: IntId
    currency: KnownCurrency
    lines: list[InvoiceLine] = Field(min_length=1, max_length=500)
    issue_date: IsoDate | None = Field(None, description="default today")
    due_date: IsoDate | None = Field(None, description="default issue date + payment_terms_days")
    payment_terms_days: TermsDays | None = Field(None, description="default 30")
    notes: Text | None = None
    language: Language | None = Field(None, description="default the customer's language")
    contract_id: IntId | None = None
    draft: bool = False


class InvoiceUpdate(Strict):
    """A draft's changes; ``lines`` replaces every line."""

    lines: list[InvoiceLine] | None = Field(None, min_length=1, max_length=500)
    issue_date: IsoDate | None = None
    due_date: IsoDate | None = None
    notes: Text | None = None
    language: Language | None = None


class VoidRequest(Strict):
    reason: Reason


class CreditNoteLine(Strict):
    invoice_line_id: IntId
    amount: Amount = Field(description="net amount credited on that line")


class CreditNoteCreate(Strict):
    """``amount`` (gross) or ``lines`` (net per invoice line); neither: the whole creditable rest."""

    reason: Reason
    amount: Amount | None = None
    lines: list[CreditNoteLine] | None = Field(None, min_length=1, max_length=500)
    issue_date: IsoDate | None = None


class Allocation(Strict):
    invoice_id: IntId
    amount: Amount


class PaymentCreate(Strict):
    """Without ``allocations`` the payment goes to the customer's oldest open invoices first."""

    customer_id: IntId
    amount: Amount
    currency: KnownCurrency
    method: PaymentMethod
    received_at: Timestamp = Field(description="ISO 8601; without a zone taken as UTC")
    reference: Reference | None = None
    handler: Reference | None = None
    account: Reference | None = None
    notes: Text | None = None
    allocations: list[Allocation] | None = Field(None, max_length=500)


class PaymentAllocate(Strict):
    """Without ``allocations``: the unallocated rest to the oldest open invoices first."""

    allocations: list[Allocation] | None = Field(None, max_length=500)


class RefundCreate(Strict):
    amount: Amount
    reason: Reason
    method: PaymentMethod | None = None
    reference: Reference | None = None


class BillingRunCreate(Strict):
    as_of: IsoDate = Field(description="bill every period due on or before this day")
    wait_seconds: Annotated[float, Field(ge=0, le=600)] | None = Field(
        None, description="how long to wait for the run to finish before answering 202 (default 20)"
    )


class TaxRateSet(Strict):
    percent: Percent | None = Field(description="0..100; null removes the rate")


class CorrectionDecision(Strict):
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
