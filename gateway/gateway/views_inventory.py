"""Response shapes of the inventory routes (products, categories, price lists, warehouses, stock,
moves, reservations, units, purchase orders, trade-ins, product imports), as the ``inventory``
service builds them (``inventory.catalogue.dump_product``, ``inventory.price_lists.price_list_out``,
``inventory.stock``: ``warehouse_out``, ``move_out``; ``inventory.units.unit_out``,
``inventory.reservations.reservation_out``, ``inventory.reorder.po_out``,
``inventory.trade_ins.dump_trade_in``; ``inventory.importer.job_out``).

Documentation only: the routes declare them with ``responses={200: {"model": ...}}`` and pass the
service's JSON through unfiltered. Money is a decimal string, quantities of stock are integers,
dates and timestamps ISO 8601 strings; a field typed ``X | None`` is always present and may be
null. Contract and customer ids are other services' ids: an integer (or a UUID string)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from .schemas import Page
from .schemas_inventory import Channel, Kind

MoneyText = Annotated[str, Field(description="decimal string in the currency", examples=["1250.00"])]
IsoDay = Annotated[str, Field(description="ISO 8601 date", examples=["2031-01-31"])]
IsoTime = Annotated[str, Field(description="ISO 8601 timestamp", examples=["2031-01-31T09:00:00+00:00"])]
MoveReason = Literal[
    "purchase",
    "trade_in",
    "sales_return",
    "repossession",
    "lease_return",
    "adjustment",
    "dispatch",
    "transfer",
]
UnitStatus = Literal["in_stock", "reserved", "dispatched", "leased", "returned", "scrapped"]
DocumentId = Annotated[int | str, Field(description="another service's id: an integer or a UUID")]


# --------------------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------------------


class CategoryPublic(BaseModel):
    id: int
    name: str
    parent_id: int | None
    path: str = Field(examples=["Printers/Laser"])


class ProductPublic(BaseModel):
    id: int
    sku: str
    name: str
    kind: Kind
    model: str | None
    manufacturer: str | None
    unit: str = Field(examples=["pcs"])
    unit_price: MoneyText
    currency: str
    category: str | None = Field(description="the category path")
    category_id: int | None
    serialized: bool
    reorder_point: int | None
    reorder_quantity: int | None
    preferred_partner: str | None
    active: bool
    created_at: IsoTime
    updated_at: IsoTime


class ImportRowError(BaseModel):
    line: int | None
    field: str | None
    message: str


class ProductImportJob(BaseModel):
    """An import job: its progress, and once finished what it created and the rows refused."""

    job_id: int
    id: int
    mode: Literal["all_or_nothing", "skip_bad"]
    filename: str | None
    status: Literal["receiving", "done", "aborted"]
    rows_received: int
    created: int
    updated: int
    error_count: int
    message: str | None
    started_at: IsoTime
    finished_at: IsoTime | None
    errors: list[ImportRowError]


# --------------------------------------------------------------------------------------
# Price lists
# --------------------------------------------------------------------------------------


class PriceListSummary(BaseModel):
    id: int
    name: str
    channel: Channel
    tier: str | None
    currency: str
    active: bool


class PricePublic(BaseModel):
    id: int
    product_id: int
    unit_price: MoneyText
    valid_from: IsoDay
    valid_to: IsoDay | None


class PriceListPublic(PriceListSummary):
    """A price list with the prices valid ``as_of`` in ``items``."""

    as_of: IsoDay
    items: list[PricePublic]


class PriceListDetail(PriceListPublic):
    """A price list with its current prices and every dated price in ``history``."""

    history: list[PricePublic]


class PriceListBulkResult(BaseModel):
    price_list_id: int
    updated: int
    product_ids: list[int]


class BulkPriceResult(BaseModel):
    percent: str = Field(examples=["5"])
    effective_date: IsoDay
    updated: int = Field(description="prices changed in all lists")
    price_lists: list[PriceListBulkResult]


class PriceQuote(BaseModel):
    """The price of a product for a channel on a date."""

    product_id: int
    sku: str
    channel: Channel
    date: IsoDay
    unit_price: MoneyText
    currency: str
    price_list_id: int | None
    price_list_name: str | None
    source: Literal["price_list", "base_price"] = Field(description="base_price: no list had a price")


# --------------------------------------------------------------------------------------
# Warehouses, stock, moves, reservations
# --------------------------------------------------------------------------------------


class WarehousePublic(BaseModel):
    id: int
    code: str
    name: str
    address: str | None
    active: bool


class StockLevelPublic(BaseModel):
    product_id: int
    sku: str
    product_name: str
    warehouse_id: int
    warehouse_code: str
    on_hand: int
    reserved: int
    available: int


class StockFigures(BaseModel):
    on_hand: int
    reserved: int
    available: int


class MovePublic(BaseModel):
    id: int
    product_id: int
    warehouse_id: int
    direction: Literal["in", "out"]
    reason: MoveReason
    quantity: int
    serial_numbers: list[str]
    contract_id: DocumentId | None
    reference: str | None
    transfer_id: str | None
    purchase_order_id: int | None
    trade_in_id: int | None
    note: str | None
    created_at: IsoTime
    created_by: str | None


class MoveWithStock(MovePublic):
    """A move just made, with the stock of its product and warehouse after it."""

    stock: StockFigures


class PurchaseOrderPublic(BaseModel):
    id: int
    number: str
    product_id: int
    sku: str
    product_name: str
    quantity: int
    partner: str | None
    warehouse_id: int | None
    status: Literal["open", "received", "cancelled"]
    trigger: Literal["reorder", "manual"]
    created_at: IsoTime
    received_at: IsoTime | None


class MoveRecorded(MoveWithStock):
    purchase_orders: list[PurchaseOrderPublic] = Field(
        default_factory=list, description="on a move out: purchase orders the reorder check raised"
    )


class TransferLevel(BaseModel):
    product_id: int
    sku: str
    warehouse_id: int
    on_hand: int
    reserved: int
    available: int


class TransferResult(BaseModel):
    transfer_id: str
    product_id: int
    quantity: int
    serial_numbers: list[str]
    from_: TransferLevel = Field(alias="from")
    to: TransferLevel
    moves: list[MovePublic]


class ReservationPublic(BaseModel):
    id: int
    contract_id: DocumentId
    product_id: int
    warehouse_id: int
    quantity: int
    serial_numbers: list[str]
    status: Literal["active", "released", "dispatched"]


class Shortfall(BaseModel):
    product_id: int
    missing: int
    serial_number: str | None = None
    status: str | None = Field(None, description="of a named unit that is not in stock")


class ReserveResult(BaseModel):
    contract_id: DocumentId
    reservations: list[ReservationPublic]
    shortfall: list[Shortfall]
    purchase_orders: list[PurchaseOrderPublic] = Field(description="raised by the reorder check")


class ReleaseResult(BaseModel):
    contract_id: DocumentId
    released: list[ReservationPublic]
    reason: str | None = None


class DispatchResult(BaseModel):
    contract_id: DocumentId
    moves: list[MoveWithStock]


# --------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------


class UnitSummary(BaseModel):
    id: int
    product_id: int
    serial_number: str
    manufacturing_number: str | None
    status: UnitStatus
    warehouse_id: int | None
    contract_id: DocumentId | None


class UnitProduct(BaseModel):
    id: int
    sku: str
    name: str
    model: str | None


class UnitWarehouse(BaseModel):
    id: int
    code: str
    name: str


class UnitHistoryEntry(BaseModel):
    at: IsoTime
    event: str
    status: str
    warehouse_id: int | None
    contract_id: DocumentId | None
    move_id: int | None
    actor: str | None
    note: str | None


class UnitPublic(BaseModel):
    """A unit, its product, where it is (a warehouse, or the contract it went to) and its history."""

    id: int
    serial_number: str
    manufacturing_number: str | None
    status: UnitStatus
    product: UnitProduct
    warehouse: UnitWarehouse | None
    contract_id: DocumentId | None
    created_at: IsoTime
    updated_at: IsoTime
    history: list[UnitHistoryEntry]


# --------------------------------------------------------------------------------------
# Purchase orders and trade-ins
# --------------------------------------------------------------------------------------


class PurchaseOrderReceived(PurchaseOrderPublic):
    received_quantity: int
    move: MoveWithStock


class TradeInPublic(BaseModel):
    id: int
    customer_id: DocumentId | None
    product_id: int | None
    model: str | None
    serial_number: str
    manufacturing_number: str | None
    condition: Literal["new", "good", "fair", "poor", "broken"]
    requested_value: MoneyText
    approved_value: MoneyText | None
    currency: str
    against_product_id: int | None
    notes: str | None
    status: Literal["submitted", "approved", "rejected", "received"]
    decision_comment: str | None
    submitted_by: str | None
    created_at: IsoTime
    updated_at: IsoTime


class TradeInReceived(TradeInPublic):
    move: MoveWithStock


ProductPage = Page[ProductPublic]
PriceListPage = Page[PriceListSummary]
WarehousePage = Page[WarehousePublic]
StockPage = Page[StockLevelPublic]
MovePage = Page[MovePublic]
ReservationPage = Page[ReservationPublic]
UnitPage = Page[UnitSummary]
PurchaseOrderPage = Page[PurchaseOrderPublic]
TradeInPage = Page[TradeInPublic]
CategoryPage = Page[CategoryPublic]
