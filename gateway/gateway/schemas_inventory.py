"""Request shapes of the inventory routes (products, price lists, warehouses, stock, units,
purchase orders, trade-ins). Unknown fields → 422; money is a string with a decimal point or
an integer, never a float; quantities are whole numbers 1…1 000 000 (no floats, NaN, infinity).
Business rules (stock, serials, states) are the inventory service's job."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schemas import (
    Currency,
    Identifier,
    IsoDate,
    Money,
    Name,
    PercentValue,
    ResourceId,
    ShortText,
    Strict,
    Text,
)

Quantity = Annotated[int, Field(strict=True, ge=1, le=1_000_000, examples=[1])]
Count = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]
Sku = Annotated[Identifier, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Serial = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
CategoryPath = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Percent = Annotated[PercentValue, Field(examples=["7.5", "-5"])]
Kind = Literal["device", "service", "consumable"]
Channel = Literal["distributor", "reseller", "customer"]
MoveReason = Literal[
    "purchase", "trade_in", "sales_return", "repossession", "lease_return", "dispatch", "adjustment"
]
Condition = Literal["new", "good", "fair", "poor", "broken"]


class ProductCreate(Strict):
    sku: Sku
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    kind: Kind
    unit_price: Money
    currency: Currency
    model: ShortText | None = None
    manufacturer: ShortText | None = None
    category: CategoryPath | None = Field(None, description="a path such as 'Devices/Printers'")
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None
    serialized: bool = False
    reorder_point: Count | None = None
    reorder_quantity: Quantity | None = None
    preferred_partner: ShortText | None = None
    active: bool = True


class ProductUpdate(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)] | None = None
    kind: Kind | None = None
    unit_price: Money | None = None
    currency: Currency | None = None
    model: ShortText | None = None
    manufacturer: ShortText | None = None
    category: CategoryPath | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)] | None = None
    reorder_point: Count | None = None
    reorder_quantity: Quantity | None = None
    preferred_partner: ShortText | None = None
    active: bool | None = None


class CategoryCreate(Strict):
    name: Name
    parent_id: ResourceId | None = None


class PriceItem(Strict):
    product_id: ResourceId
    unit_price: Money
    valid_from: IsoDate | None = None
    valid_to: IsoDate | None = None


class PriceListCreate(Strict):
    name: Name
    channel: Channel
    currency: Currency
    tier: Annotated[ShortText, StringConstraints(max_length=50)] | None = None
    items: list[PriceItem] = Field(default_factory=list, max_length=10_000)


class PricesSet(Strict):
    items: list[PriceItem] = Field(min_length=1, max_length=10_000)


class BulkPriceUpdate(Strict):
    percent: PercentValue
    category: CategoryPath | None = None
    product_ids: list[ResourceId] | None = Field(None, min_length=1, max_length=10_000)
    effective_date: IsoDate | None = None


class WarehouseCreate(Strict):
    code: Annotated[Identifier, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
    name: Name
    address: Text | None = None


class StockMove(Strict):
    warehouse_id: ResourceId
    product_id: ResourceId
    quantity: Quantity
    direction: Literal["in", "out"]
    reason: MoveReason
    serial_numbers: list[Serial] = Field(default_factory=list, max_length=10_000)
    manufacturing_numbers: dict[str, Annotated[ShortText, StringConstraints(max_length=100)]] | None = None
    contract_id: ResourceId | None = None
    reference: ShortText | None = None
    note: Text | None = None
    lease: bool = False


class StockTransfer(Strict):
    product_id: ResourceId
    from_warehouse_id: ResourceId
    to_warehouse_id: ResourceId
    quantity: Quantity
    serial_numbers: list[Serial] = Field(default_factory=list, max_length=10_000)
    note: Text | None = None


class ReserveItem(Strict):
    product_id: ResourceId
    quantity: Quantity
    warehouse_id: ResourceId | None = None
    serial_numbers: list[Serial] = Field(default_factory=list, max_length=10_000)


class Reserve(Strict):
    contract_id: ResourceId
    items: list[ReserveItem] = Field(min_length=1, max_length=1000)
    allow_partial: bool = False


class ReleaseReservations(Strict):
    reason: Text | None = None


class DispatchReservations(Strict):
    lease: bool = False


class PurchaseOrderCreate(Strict):
    product_id: ResourceId
    quantity: Quantity
    warehouse_id: ResourceId | None = None
    partner: ShortText | None = None


class PurchaseOrderReceive(Strict):
    warehouse_id: ResourceId | None = None
    quantity: Quantity | None = None
    serial_numbers: list[Serial] = Field(default_factory=list, max_length=10_000)


class PurchaseOrderCancel(Strict):
    reason: Text | None = None


class TradeInCreate(Strict):
    serial_number: Serial
    condition: Condition
    requested_value: Money
    currency: Currency
    customer_id: ResourceId | None = None
    product_id: ResourceId | None = None
    model: ShortText | None = None
    manufacturing_number: Annotated[ShortText, StringConstraints(max_length=100)] | None = None
    against_product_id: ResourceId | None = None
    notes: Text | None = None


class TradeInDecision(Strict):
    approved: bool
    approved_value: Money | None = None
    comment: Text | None = None


class TradeInReceive(Strict):
    warehouse_id: ResourceId
    product_id: ResourceId | None = None


__all__ = [n for n in dir() if n[0].isupper()]
