"""Request shapes of the contract routes (contracts, lifecycle, amendments, renewals). Unknown
fields → 422; money and percentages are strings with a decimal point (or integers), never floats;
dates ISO 8601. Business rules (terms, prices, states) are the contracts service's job."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from .schemas import (
    Currency,
    DecimalQuantity,
    IsoDate,
    Money,
    PercentValue,
    ResourceId,
    ShortText,
    Strict,
    Text,
)

Kind = Literal["sales", "maintenance", "lease", "service"]
Frequency = Literal["once", "monthly", "quarterly", "yearly"]
Status = Literal[
    "draft",
    "pending_approval",
    "approved",
    "active",
    "expired",
    "terminated",
    "renewed",
    "cancelled",
    "archived",
]
Percent = Annotated[PercentValue, Field(examples=["3", "2.5"])]
Quantity = Annotated[DecimalQuantity, Field(examples=["1", "2.5"])]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Serial = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PersonName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]


class Billing(Strict):
    frequency: Frequency
    in_advance: bool = True
    payment_terms_days: Annotated[int, Field(strict=True, ge=0, le=365)] = 30
    anchor_day: Annotated[int, Field(strict=True, ge=1, le=31)] | None = None


class BillingUpdate(Strict):
    frequency: Frequency | None = None
    in_advance: bool | None = None
    payment_terms_days: Annotated[int, Field(strict=True, ge=0, le=365)] | None = None
    anchor_day: Annotated[int, Field(strict=True, ge=1, le=31)] | None = None


class LineCreate(Strict):
    product_id: ResourceId
    quantity: Quantity | None = Field(None, description="default 1")
    unit_price: Money | None = Field(
        None, description="default: the customer's price list, else the product's price"
    )
    discount_percent: Percent | None = None
    serial_number: Serial | None = Field(None, description="the unit covered (serialized devices)")
    manufacturing_number: Serial | None = None
    description: Text | None = None
    start_date: IsoDate | None = Field(
        None, description="inside the contract term; default the contract's start"
    )
    end_date: IsoDate | None = Field(None, description="inside the contract term; default the contract's end")
    warehouse_id: ResourceId | None = None


class LineChange(Strict):
    id: ResourceId
    quantity: Quantity | None = None
    unit_price: Money | None = None
    discount_percent: Percent | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    description: Text | None = None
    serial_number: Serial | None = None
    manufacturing_number: Serial | None = None


class ContractCreate(Strict):
    customer_id: ResourceId
    title: Title
    kind: Kind
    currency: Currency
    start_date: IsoDate
    end_date: IsoDate
    billing: Billing
    template_id: ResourceId | None = None
    field_values: dict[str, Any] | None = Field(None, description="values of the template's fields")
    signer: PersonName | None = None
    signer_title: ShortText | None = None
    signed_on: IsoDate | None = None
    auto_renew: bool = False
    renewal_uplift_percent: Percent | None = None
    notice_days: Annotated[int, Field(strict=True, ge=0, le=3650)] | None = None
    owner_id: ResourceId | None = Field(None, description="default: the creating user")
    department: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    company: ShortText | None = None
    notes: Annotated[str, StringConstraints(max_length=10000)] | None = None
    lines: list[LineCreate] = Field(default_factory=list, max_length=5000)


class ContractUpdate(Strict):
    customer_id: ResourceId | None = None
    title: Title | None = None
    kind: Kind | None = None
    currency: Currency | None = None
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    billing: BillingUpdate | None = None
    template_id: ResourceId | None = None
    field_values: dict[str, Any] | None = None
    signer: PersonName | None = None
    signer_title: ShortText | None = None
    signed_on: IsoDate | None = None
    auto_renew: bool | None = None
    renewal_uplift_percent: Percent | None = None
    notice_days: Annotated[int, Field(strict=True, ge=0, le=3650)] | None = None
    owner_id: ResourceId | None = None
    department: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    company: ShortText | None = None
    notes: Annotated[str, StringConstraints(max_length=10000)] | None = None
    lines: list[LineCreate] | None = Field(None, max_length=5000, description="replaces every line")


class Terminate(Strict):
    reason: Reason
    effective_date: IsoDate


class Cancel(Strict):
    reason: Reason | None = None


class Submit(Strict):
    """``POST /contracts/{id}/submit`` (the body is optional)."""

    override_red_list: Reason | None = Field(
        None,
        description="a sales manager's (or admin's) reason to submit although the customer is on the red list; "
        "kept in the contract's audit trail and shown to the approver",
    )


class Renew(Strict):
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None
    uplift_percent: Percent | None = Field(None, description="default: the contract's renewal uplift")
    title: Title | None = None


class AmendmentCreate(Strict):
    reason: Reason
    impact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = None
    effective_date: IsoDate | None = Field(None, description="default today (or the contract's start)")
    changes: dict[str, Any] = Field(
        default_factory=dict,
        description="header fields to change: title, end_date, signer, signer_title, signed_on, billing, "
        "auto_renew, renewal_uplift_percent, notice_days, owner_id, department, company, notes, field_values",
    )
    add_lines: list[LineCreate] = Field(default_factory=list, max_length=5000)
    remove_line_ids: list[ResourceId] = Field(default_factory=list, max_length=5000)
    change_lines: list[LineChange] = Field(default_factory=list, max_length=5000)
