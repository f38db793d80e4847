"""Events the inventory service publishes (exchange ``inventory.events``, routing key = type)
and consumes. Every event leaves through the transactional outbox (``uow.publish``) in the
envelope ``{event_id, type, version, occurred_at, source, request_id, payload}``; amounts are
strings, quantities integers.

``CATALOGUE`` declares each published type with its payload schema for the event catalogue
(:mod:`crm_common.catalogue`, ``docs/events/``); the payloads themselves are built in the
use-case modules (:mod:`inventory.catalogue`, :mod:`inventory.stock`, ...), and the test suite
(``CRM_VALIDATE_EVENTS=1``) checks every payload it publishes against these declarations."""

from __future__ import annotations

from crm_common.catalogue import EventSpec
from crm_common.money import Money
from marshmallow import EXCLUDE, Schema, fields, validate

from . import domain

SOURCE = "inventory"

STOCK_RECEIVED = "stock_received"
STOCK_DISPATCHED = "stock_dispatched"
STOCK_ADJUSTED = "stock_adjusted"
STOCK_TRANSFERRED = "stock_transferred"
STOCK_RESERVED = "stock_reserved"
STOCK_RELEASED = "stock_released"
STOCK_LOW = "stock_low"
PURCHASE_ORDER_CREATED = "purchase_order_created"
PURCHASE_ORDER_RECEIVED = "purchase_order_received"
PRICE_LIST_UPDATED = "price_list_updated"
PRODUCT_CREATED = "product_created"
PRODUCT_UPDATED = "product_updated"
TRADE_IN_SUBMITTED = "trade_in_submitted"
TRADE_IN_DECIDED = "trade_in_decided"

PUBLISHED = (
    STOCK_RECEIVED,
    STOCK_DISPATCHED,
    STOCK_ADJUSTED,
    STOCK_TRANSFERRED,
    STOCK_RESERVED,
    STOCK_RELEASED,
    STOCK_LOW,
    PURCHASE_ORDER_CREATED,
    PURCHASE_ORDER_RECEIVED,
    PRICE_LIST_UPDATED,
    PRODUCT_CREATED,
    PRODUCT_UPDATED,
    TRADE_IN_SUBMITTED,
    TRADE_IN_DECIDED,
)

# consumed
CONTRACTS = "contracts"
CONTRACT_APPROVED = "contract_approved"
CONTRACT_TERMINATED = "contract_terminated"
CONTRACT_CANCELLED = "contract_cancelled"
APPROVALS = "approvals"
APPROVAL_APPROVED = "approval_approved"
APPROVAL_REJECTED = "approval_rejected"


# -- published payloads --------------------------------------------------------------------


def _document_id(**kw) -> fields.Raw:
    """A contract or customer id of another service: an integer, or a UUID string."""
    return fields.Raw(
        metadata={"description": "integer id or UUID string", "jsonschema": {"type": ["integer", "string"]}},
        **kw,
    )


def _timestamp(**kw) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=True, **kw)


class StockLevel(Schema):
    """A product's stock in one warehouse after the move."""

    on_hand = fields.Integer(required=True)
    reserved = fields.Integer(required=True)
    available = fields.Integer(required=True)


class StockMovePayload(Schema):
    """``stock_received``: one move in, with the warehouse's stock after it."""

    id = fields.Integer(required=True)
    product_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    warehouse_id = fields.Integer(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(("in", "out")))
    reason = fields.String(required=True, validate=validate.OneOf(domain.REASONS))
    quantity = fields.Integer(required=True)
    serial_numbers = fields.List(fields.String(), required=True)
    contract_id = _document_id(required=True, allow_none=True)
    reference = fields.String(required=True, allow_none=True)
    transfer_id = fields.String(required=True, allow_none=True)
    purchase_order_id = fields.Integer(required=True, allow_none=True)
    trade_in_id = fields.Integer(required=True, allow_none=True)
    note = fields.String(required=True, allow_none=True)
    created_at = _timestamp()
    created_by = fields.String(required=True, allow_none=True)  # the user who moved it
    stock = fields.Nested(StockLevel, required=True)


class StockOutPayload(StockMovePayload):
    """``stock_dispatched`` / ``stock_adjusted``: one move out; ``from_reservation`` is how many
    of its units came from the contract's reservations."""

    from_reservation = fields.Integer(required=True)


class LevelPayload(StockLevel):
    product_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    warehouse_id = fields.Integer(required=True)


class StockTransferredPayload(Schema):
    transfer_id = fields.String(required=True)  # a UUID shared by the move out and the move in
    product_id = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    serial_numbers = fields.List(fields.String(), required=True)
    from_level = fields.Nested(LevelPayload, data_key="from", required=True)  # the warehouse it left
    to_level = fields.Nested(LevelPayload, data_key="to", required=True)  # the warehouse it went to


class ReservationPayload(Schema):
    id = fields.Integer(required=True)
    contract_id = _document_id(required=True)
    product_id = fields.Integer(required=True)
    warehouse_id = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    serial_numbers = fields.List(fields.String(), required=True)
    status = fields.String(required=True, validate=validate.OneOf(("active", "released", "dispatched")))


class ShortfallPayload(Schema):
    """What could not be reserved: a quantity, a named unit (``serial_number``, its ``status``;
    null when unknown) or a line naming an unknown product (``error``, ``missing`` null, the
    ``product_id`` as the contract line gave it)."""

    product_id = fields.Raw(
        required=True, metadata={"description": "the product id (as the contract line gave it)"}
    )
    missing = fields.Integer(required=True, allow_none=True)
    serial_number = fields.String()
    status = fields.String(allow_none=True)
    error = fields.String()


class StockReservedPayload(Schema):
    contract_id = _document_id(required=True)
    reservations = fields.List(fields.Nested(ReservationPayload), required=True)
    shortfall = fields.List(fields.Nested(ShortfallPayload), required=True)


class StockReleasedPayload(Schema):
    contract_id = _document_id(required=True)
    released = fields.List(fields.Nested(ReservationPayload), required=True)
    reason = fields.String(required=True, allow_none=True)


class StockLowPayload(Schema):
    product_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    available = fields.Integer(required=True)  # over all warehouses
    reorder_point = fields.Integer(required=True)
    warehouse_id = fields.Integer(required=True, allow_none=True)  # where the last move out was


class PurchaseOrderPayload(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)  # PO-000001
    product_id = fields.Integer(required=True)
    sku = fields.String(required=True)
    product_name = fields.String(required=True)
    quantity = fields.Integer(required=True)
    partner = fields.String(required=True, allow_none=True)
    warehouse_id = fields.Integer(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(domain.PO_STATUSES))
    trigger = fields.String(required=True, validate=validate.OneOf(("reorder", "manual")))
    created_at = _timestamp()
    received_at = _timestamp(allow_none=True)


class PurchaseOrderReceivedPayload(PurchaseOrderPayload):
    received_quantity = fields.Integer(required=True)


class PriceListUpdatedPayload(Schema):
    price_list_id = fields.Integer(required=True)
    name = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(domain.CHANNELS))
    tier = fields.String(required=True, allow_none=True)
    currency = fields.String(required=True)
    change = fields.String(required=True, validate=validate.OneOf(("created", "prices_set", "bulk_update")))
    percent = fields.String(required=True, allow_none=True)  # a decimal string, bulk_update only
    effective_date = fields.Date(required=True)
    product_ids = fields.List(fields.Integer(), required=True)


class ProductPayload(Schema):
    """The product as ``get_product`` shows it."""

    id = fields.Integer(required=True)
    sku = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(domain.KINDS))
    model = fields.String(required=True, allow_none=True)
    manufacturer = fields.String(required=True, allow_none=True)
    unit = fields.String(required=True)
    unit_price = Money(required=True)
    currency = fields.String(required=True)
    category = fields.String(required=True, allow_none=True)  # its path, "devices/printers"
    category_id = fields.Integer(required=True, allow_none=True)
    serialized = fields.Boolean(required=True)
    reorder_point = fields.Integer(required=True, allow_none=True)
    reorder_quantity = fields.Integer(required=True, allow_none=True)
    preferred_partner = fields.String(required=True, allow_none=True)
    active = fields.Boolean(required=True)
    created_at = _timestamp()
    updated_at = _timestamp()


class ProductUpdatedPayload(ProductPayload):
    fields_changed = fields.List(fields.String(), required=True)


class TradeInPayload(Schema):
    """The trade-in as ``get_trade_in`` shows it."""

    id = fields.Integer(required=True)
    customer_id = _document_id(required=True, allow_none=True)
    product_id = fields.Integer(required=True, allow_none=True)
    model = fields.String(required=True, allow_none=True)
    serial_number = fields.String(required=True)
    manufacturing_number = fields.String(required=True, allow_none=True)
    condition = fields.String(required=True, validate=validate.OneOf(domain.CONDITIONS))
    requested_value = Money(required=True)
    approved_value = Money(required=True, allow_none=True)
    currency = fields.String(required=True)
    against_product_id = fields.Integer(required=True, allow_none=True)
    notes = fields.String(required=True, allow_none=True)
    status = fields.String(required=True, validate=validate.OneOf(domain.TRADE_IN_STATUSES))
    decision_comment = fields.String(required=True, allow_none=True)
    submitted_by = fields.String(required=True, allow_none=True)
    created_at = _timestamp()
    updated_at = _timestamp()


class TradeInSubmittedPayload(TradeInPayload):
    """The trade-in plus the approval request the approvals service opens from it."""

    document_type = fields.String(required=True, validate=validate.OneOf(("trade_in",)))
    document_id = fields.Integer(required=True)  # the trade-in's id
    amount = Money(required=True)  # the requested value
    submitter = fields.String(required=True)
    submitter_id = fields.Integer(required=True, allow_none=True)
    department = fields.String(required=True, allow_none=True)
    summary = fields.String(required=True)


class ContractLine(Schema):
    class Meta:
        unknown = EXCLUDE

    product_id = fields.Raw(required=True)
    quantity = fields.Raw(load_default=1)
    serial_number = fields.String(load_default=None, allow_none=True)
    warehouse_id = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1))


class ContractApprovedPayload(Schema):
    """What inventory needs of ``contracts.contract_approved``: the contract id (``id`` or
    ``contract_id``) and its lines."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Raw(load_default=None)
    contract_id = fields.Raw(load_default=None)
    number = fields.String(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(ContractLine), load_default=list)


class ContractTerminatedPayload(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.Raw(load_default=None)
    contract_id = fields.Raw(load_default=None)
    reason = fields.String(load_default=None, allow_none=True)


class ApprovalDecidedPayload(Schema):
    """``approvals.approval_approved`` / ``approval_rejected``: inventory acts on
    ``document_type == "trade_in"`` only."""

    class Meta:
        unknown = EXCLUDE

    document_type = fields.String(required=True)
    document_id = fields.Raw(required=True)
    approved_value = fields.Raw(load_default=None, allow_none=True)
    currency = fields.String(load_default=None, allow_none=True)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000))


contract_approved_payload = ContractApprovedPayload()
contract_terminated_payload = ContractTerminatedPayload()
approval_decided_payload = ApprovalDecidedPayload()


_EXAMPLE_PRODUCT = {
    "id": 12,
    "sku": "PRN-4200",
    "name": "Office printer 4200",
    "kind": "device",
    "model": "4200",
    "manufacturer": "Example Devices",
    "unit": "pcs",
    "unit_price": "899.00",
    "currency": "EUR",
    "category": "devices/printers",
    "category_id": 3,
    "serialized": True,
    "reorder_point": 5,
    "reorder_quantity": 10,
    "preferred_partner": "Example Distribution",
    "active": True,
    "created_at": "2026-12-01T09:00:00+00:00",
    "updated_at": "2026-12-01T09:00:00+00:00",
}
# usernames of the staff who moved stock or submitted a trade-in identify people
_MOVE_PERSONAL = ("created_by",)
_TRADE_IN_PERSONAL = ("submitted_by",)

CATALOGUE: tuple[EventSpec, ...] = (
    EventSpec(
        source=SOURCE,
        type=STOCK_RECEIVED,
        payload=StockMovePayload,
        summary=(
            "Stock came into a warehouse (purchase, trade-in, return, repossession, lease return, "
            "adjustment): the move and the warehouse's stock after it."
        ),
        personal=_MOVE_PERSONAL,
    ),
    EventSpec(
        source=SOURCE,
        type=STOCK_DISPATCHED,
        payload=StockOutPayload,
        summary="Stock left a warehouse for a customer (reason dispatch), partly from the contract's reservations.",
        personal=_MOVE_PERSONAL,
    ),
    EventSpec(
        source=SOURCE,
        type=STOCK_ADJUSTED,
        payload=StockOutPayload,
        summary="Stock was taken out of a warehouse by an adjustment (loss, damage, a count).",
        personal=_MOVE_PERSONAL,
    ),
    EventSpec(
        source=SOURCE,
        type=STOCK_TRANSFERRED,
        payload=StockTransferredPayload,
        summary="Stock moved from one warehouse to another: both warehouses' stock after the transfer.",
    ),
    EventSpec(
        source=SOURCE,
        type=STOCK_RESERVED,
        payload=StockReservedPayload,
        summary=(
            "Stock was reserved for a contract (by hand, or when the contract was approved); what "
            "could not be reserved is listed in shortfall."
        ),
    ),
    EventSpec(
        source=SOURCE,
        type=STOCK_RELEASED,
        payload=StockReleasedPayload,
        summary="A contract's active reservations were released (by hand, or the contract was terminated or cancelled).",
    ),
    EventSpec(
        source=SOURCE,
        type=STOCK_LOW,
        payload=StockLowPayload,
        summary="A product's available stock (all warehouses) fell below its reorder point.",
        examples=(
            {
                "product_id": 12,
                "sku": "PRN-4200",
                "name": "Office printer 4200",
                "available": 4,
                "reorder_point": 5,
                "warehouse_id": 1,
            },
        ),
    ),
    EventSpec(
        source=SOURCE,
        type=PURCHASE_ORDER_CREATED,
        payload=PurchaseOrderPayload,
        summary="A purchase order was raised (by hand, or automatically below the reorder point).",
        examples=(
            {
                "id": 1,
                "number": "PO-000001",
                "product_id": 12,
                "sku": "PRN-4200",
                "product_name": "Office printer 4200",
                "quantity": 11,
                "partner": "Example Distribution",
                "warehouse_id": 1,
                "status": "open",
                "trigger": "reorder",
                "created_at": "2026-12-08T10:15:00+00:00",
                "received_at": None,
            },
        ),
    ),
    EventSpec(
        source=SOURCE,
        type=PURCHASE_ORDER_RECEIVED,
        payload=PurchaseOrderReceivedPayload,
        summary="An open purchase order was received into stock (received_quantity may differ from quantity).",
    ),
    EventSpec(
        source=SOURCE,
        type=PRICE_LIST_UPDATED,
        payload=PriceListUpdatedPayload,
        summary="A price list was created, had prices set, or had its prices changed by a percentage.",
    ),
    EventSpec(
        source=SOURCE,
        type=PRODUCT_CREATED,
        payload=ProductPayload,
        summary="A product was added to the catalogue (by hand or by a CSV import).",
        examples=(_EXAMPLE_PRODUCT,),
    ),
    EventSpec(
        source=SOURCE,
        type=PRODUCT_UPDATED,
        payload=ProductUpdatedPayload,
        summary="A product's fields changed: the product as it is now and the names of the changed fields.",
        examples=({**_EXAMPLE_PRODUCT, "unit_price": "849.00", "fields_changed": ["unit_price"]},),
    ),
    EventSpec(
        source=SOURCE,
        type=TRADE_IN_SUBMITTED,
        payload=TradeInSubmittedPayload,
        summary="A trade-in (a used machine offered against a new one) was submitted for approval.",
        personal=(*_TRADE_IN_PERSONAL, "submitter"),
    ),
    EventSpec(
        source=SOURCE,
        type=TRADE_IN_DECIDED,
        payload=TradeInPayload,
        summary="A trade-in was approved (with its approved value) or rejected.",
        personal=_TRADE_IN_PERSONAL,
    ),
)
