"""What the core routes answer — customers, contacts, follow-ups, opportunities, imports, the
invitation preview and the dashboard — as the services build it (``customers.schemas``'s
``CustomerSchema`` / ``OpportunitySchema`` …, ``contracts.dashboard``, ``billing.dashboard``,
``customers.dashboard``).

Documentation only: the routes declare these with ``responses={200: {"model": ...}}`` and pass
the service's JSON through unchanged, so a field a service adds later still reaches the client
(no ``extra="forbid"`` here). A field without a default is always present; ``X | None`` without a
default is present and may be ``null``; a field with a default may be missing. Money is a string
with a decimal point; amounts per currency are ``{"EUR": "1200.00"}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, Field

from .schemas import Page

Amount = Annotated[str, Field(description="money: a decimal string", examples=["1250.00"])]
PerCurrency = Annotated[
    dict[str, str], Field(description="an amount per currency", examples=[{"EUR": "1250.00"}])
]
Day = dt.date
Timestamp = dt.datetime

# --------------------------------------------------------------------------------------
# Customers, contacts, follow-ups
# --------------------------------------------------------------------------------------


class ContactPublic(BaseModel):
    id: int
    customer_id: int
    name: str
    email: str | None
    phone: str | None
    title: str | None
    notes: str | None
    is_primary: bool
    created_at: Timestamp


class CustomerPublic(BaseModel):
    id: int
    code: str = Field(examples=["C-000042"])
    name: str
    kind: str = Field(description="company | person")
    tax_id: str | None
    email: str | None
    phone: str | None
    industry: str | None
    region: str | None
    size: str | None
    level: str | None = Field(description="A | B | C")
    tags: list[str]
    owner_id: int | None
    language: str
    address: str | None
    birthday: Day | None
    notes: str | None
    red_listed: bool
    red_list_reason: str | None = Field(None, description="why it is on the red list")
    red_listed_at: Timestamp | None = None
    red_listed_by: str | None = Field(None, examples=["user:12"])
    archived: bool = Field(False, description="archived: hidden from lists unless include_archived")
    archived_at: Timestamp | None = None
    archived_by: str | None = None
    created_at: Timestamp
    updated_at: Timestamp
    contacts: list[ContactPublic]


class FollowUpPublic(BaseModel):
    id: int
    customer_id: int
    method: str = Field(description="call | visit | email | meeting | other")
    occurred_at: Timestamp
    result: str
    contact_id: int | None
    notes: str | None
    next_action: str | None
    next_action_at: Timestamp | None
    created_by: int | None
    created_at: Timestamp


class ImportErrorItem(BaseModel):
    line: int
    field: str | None = None
    message: str


class CustomerImportResult(BaseModel):
    """The report of a synchronous customers import."""

    job_id: int
    status: str
    created: int
    updated: int
    errors: list[ImportErrorItem]


class ImportJobPublic(BaseModel):
    """An import's progress; ``errors`` once it is done or failed."""

    id: int
    job_id: int
    mode: str
    filename: str | None
    status: str
    rows_received: int
    rows_processed: int
    created: int
    updated: int
    error_count: int
    message: str | None
    started_at: Timestamp
    finished_at: Timestamp | None
    errors: list[ImportErrorItem] | None = None


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------


class OpportunityPublic(BaseModel):
    id: int
    customer_id: int
    customer_code: str
    customer_name: str
    title: str
    amount: Amount
    currency: str
    stage: str = Field(description="lead | qualified | proposal | negotiation | won | lost")
    expected_close: Day | None
    probability: int | None
    needs: str | None
    competitors: str | list[str] | None
    notes: str | None
    lost_reason: str | None
    owner_id: int | None
    closed_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


# --------------------------------------------------------------------------------------
# Auth: the invitation link
# --------------------------------------------------------------------------------------


class InvitationPublic(BaseModel):
    """Whom an invitation link is for."""

    username: str
    full_name: str | None
    email: str
    language: str
    expires_at: Timestamp


# --------------------------------------------------------------------------------------
# Dashboard (composed by the gateway from three services' parts)
# --------------------------------------------------------------------------------------


class CountAndValue(BaseModel):
    count: int
    value: PerCurrency


class RenewalItem(BaseModel):
    id: int
    number: str
    title: str
    customer_id: int
    customer_name: str
    end_date: Day
    currency: str
    total: Amount
    auto_renew: bool
    owner_id: int | None


class Renewals(CountAndValue):
    items: list[RenewalItem]


class StageFigures(BaseModel):
    count: int
    amount: PerCurrency


class CashFlowMonth(BaseModel):
    month: str = Field(examples=["2027-01"])
    invoiced: PerCurrency
    collected: PerCurrency
    forecast: PerCurrency


class TopCustomer(BaseModel):
    customer_id: int
    name: str | None
    currency: str
    invoiced: Amount
    collected: Amount
    balance: Amount


class DashboardSummary(BaseModel):
    """The company's KPIs for a year in the caller's scope. A part whose service did not answer
    is ``null`` and its service named in ``unavailable``."""

    year: int
    as_of: Day
    currencies: list[str]
    active_contracts: int | None
    active_value: PerCurrency | None
    mrr: PerCurrency | None
    arr: PerCurrency | None
    receivables: PerCurrency | None
    overdue: PerCurrency | None
    overdue_invoices: int | None
    renewals_next_90_days: int | None
    renewals: Renewals | None
    signed_in_year: CountAndValue | None
    pipeline: dict[str, StageFigures] | None = Field(description="per funnel stage")
    won_in_year: StageFigures | None
    cash_flow: list[CashFlowMonth] | None
    top_customers: list[TopCustomer] | None
    unavailable: list[str]


def ok(model: Any, status: int = 200, description: str | None = None) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry declaring ``model`` as the JSON body of ``status`` (documentation
    only: the route still answers the service's JSON as it is)."""
    entry: dict[str, Any] = {"model": model}
    if description:
        entry["description"] = description
    return {status: entry}


def binary(media_type: str, description: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry of a file answer (PDF, download, CSV)."""
    return {
        status: {
            "description": description,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


CustomerPage = Page[CustomerPublic]
ContactPage = Page[ContactPublic]
FollowUpPage = Page[FollowUpPublic]
OpportunityPage = Page[OpportunityPublic]
