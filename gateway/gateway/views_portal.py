"""Response shapes of the customer portal and the portal invitations: the contracts as a
customer sees them (``contracts.domain.for_customer``: without the company's internal fields),
installed items and service requests (``contracts.portal``), and the invitations the gateway
keeps (``gateway.invitations.public``). The portal's invoices, payments and balance are the
billing shapes of :mod:`gateway.views_billing`.

Documentation only: the routes declare them with ``responses={200: {"model": ...}}`` and pass the
JSON through unfiltered. Dates and timestamps are ISO 8601 strings; a field typed ``X | None`` is
always present and may be null."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from .schemas import Page
from .schemas_portal import InvitationStatus, ServiceRequestKind
from .views_contracts import AttachmentPublic, BillingPlan, ContractCustomerRef, ContractVersionInfo

MoneyText = Annotated[str, Field(description="decimal string in the currency", examples=["1250.00"])]
IsoDay = Annotated[str, Field(description="ISO 8601 date", examples=["2031-01-31"])]
IsoTime = Annotated[str, Field(description="ISO 8601 timestamp", examples=["2031-01-31T09:00:00+00:00"])]


# --------------------------------------------------------------------------------------
# Contracts and installed items
# --------------------------------------------------------------------------------------


class PortalContractLine(BaseModel):
    id: int
    position: int
    product_id: int
    sku: str | None
    product_name: str
    product_kind: str | None
    category: str | None
    model: str | None
    manufacturer: str | None
    serial_number: str | None
    manufacturing_number: str | None
    description: str | None
    quantity: str = Field(examples=["1"])
    unit_price: MoneyText
    discount_percent: str = Field(examples=["0.00"])
    amount: MoneyText
    start_date: IsoDay | None = Field(description="null: the contract's start")
    end_date: IsoDay | None = Field(description="null: the contract's end")


class PortalContractSummary(BaseModel):
    """A contract of the customer in a list, with its lines."""

    id: int
    number: str = Field(examples=["C-2027-000042"])
    status: str = Field(examples=["active"])
    version: int
    customer_id: int
    customer_name: str
    kind: str
    title: str
    currency: str
    start_date: IsoDay
    end_date: IsoDay
    total: MoneyText
    auto_renew: bool
    renewal_of_id: int | None
    renewed_by_id: int | None
    updated_at: IsoTime
    lines: list[PortalContractLine]


class PortalContract(BaseModel):
    """A contract of the customer with its lines, versions and attachments."""

    id: int
    number: str = Field(examples=["C-2027-000042"])
    status: str = Field(examples=["active"])
    version: int
    customer_id: int
    customer: ContractCustomerRef
    kind: str
    title: str
    currency: str
    start_date: IsoDay
    end_date: IsoDay
    signer: str | None
    signer_title: str | None
    signed_on: IsoDay | None
    billing: BillingPlan
    payment_terms_days: int
    auto_renew: bool
    notice_days: int
    notice_deadline: IsoDay | None
    renewal_uplift_percent: str
    company: str | None
    field_values: dict[str, Any]
    total: MoneyText = Field(description="the sum of the line amounts (per billing period)")
    term_value: MoneyText
    renewal_of_id: int | None
    renewed_by_id: int | None
    status_reason: str | None
    termination_date: IsoDay | None
    created_at: IsoTime
    updated_at: IsoTime
    submitted_at: IsoTime | None
    approved_at: IsoTime | None
    activated_at: IsoTime | None
    lines: list[PortalContractLine]
    versions: list[ContractVersionInfo]
    attachments: list[AttachmentPublic]


class InstalledItem(BaseModel):
    """An item installed under one of the customer's contracts (one per contract line)."""

    line_id: int
    contract_id: int
    contract_number: str
    contract_status: str
    contract_end_date: IsoDay
    customer_id: int
    product_id: int
    sku: str | None
    product_name: str
    model: str | None
    manufacturer: str | None
    serial_number: str | None
    manufacturing_number: str | None
    quantity: str | None = Field(examples=["1"])
    start_date: IsoDay | None
    end_date: IsoDay | None


class ServiceRequestPublic(BaseModel):
    id: int
    kind: ServiceRequestKind
    status: Literal["open", "closed"]
    customer_id: int
    customer_name: str
    contract_id: int
    contract_number: str
    line_id: int | None
    serial_number: str | None
    product_name: str | None
    message: str
    requested_by: int | None
    created_at: IsoTime


# --------------------------------------------------------------------------------------
# Invitations
# --------------------------------------------------------------------------------------


class _Invitation(BaseModel):
    id: int
    user_id: int
    username: str
    full_name: str | None
    customer_id: int | None
    language: str
    status: InvitationStatus
    expires_at: IsoTime
    created_at: IsoTime | None
    created_by: int | None
    accepted_at: IsoTime | None
    delivery_id: int | None


class PortalInvitationPublic(_Invitation):
    email: str


class InvitationEmail(BaseModel):
    status: str = Field(description="queued, sent, ... or not_sent", examples=["queued"])
    delivery_id: int | None = None
    error: str | None = Field(None, description="why the e-mail was not queued")


class PortalInvitationSent(_Invitation):
    """The invitation and what became of the e-mail (in place of the address). The one-time
    link goes to the invitee's mailbox only: ``accept_url`` is null, except for an administrator
    when no e-mail could be queued (``email.status`` ``not_sent``), to pass it on by other means."""

    accept_url: str | None = Field(
        description="the one-time link: administrators only, and only when the e-mail was not sent"
    )
    email: InvitationEmail


PortalContractPage = Page[PortalContractSummary]
InstalledItemPage = Page[InstalledItem]
ServiceRequestPage = Page[ServiceRequestPublic]
PortalInvitationPage = Page[PortalInvitationPublic]
