"""Marshmallow schemas: RPC payloads in (unknown fields refused) and out."""

from __future__ import annotations

from crm_common.fields import AwareDateTime, Date
from crm_common.money import Currency, Money
from marshmallow import Schema, fields, validate

from . import domain

Quantity = lambda **kw: fields.Integer(  # noqa: E731 - a field factory
    strict=True, validate=validate.Range(1, domain.MAX_QUANTITY), **kw
)
Id = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=1), **kw)  # noqa: E731
DocumentId = lambda **kw: fields.Raw(**kw)  # noqa: E731 - contract ids: int or UUID string
Serials = lambda **kw: fields.List(  # noqa: E731
    fields.String(validate=validate.Length(1, 100)), validate=validate.Length(max=10_000), **kw
)


def text(n: int, **kw):
    return fields.String(validate=validate.Length(max=n), **kw)


class ProductCreateSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(1, 64))
    name = fields.String(required=True, validate=validate.Length(1, 300))
    kind = fields.String(required=True, validate=validate.OneOf(domain.KINDS))
    unit_price = Money(required=True)
    currency = Currency(required=True)
    model = text(200, load_default=None, allow_none=True)
    manufacturer = text(200, load_default=None, allow_none=True)
    category = text(1000, load_default=None, allow_none=True)
    unit = fields.String(load_default="pcs", validate=validate.Length(1, 20))
    serialized = fields.Boolean(load_default=False)
    reorder_point = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(0, domain.MAX_QUANTITY)
    )
    reorder_quantity = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(1, domain.MAX_QUANTITY)
    )
    preferred_partner = text(200, load_default=None, allow_none=True)
    active = fields.Boolean(load_default=True)


class ProductUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(1, 300))
    kind = fields.String(validate=validate.OneOf(domain.KINDS))
    unit_price = Money()
    currency = Currency()
    model = text(200, allow_none=True)
    manufacturer = text(200, allow_none=True)
    category = text(1000, allow_none=True)
    unit = fields.String(validate=validate.Length(1, 20))
    reorder_point = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(0, domain.MAX_QUANTITY)
    )
    reorder_quantity = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(1, domain.MAX_QUANTITY)
    )
    preferred_partner = text(200, allow_none=True)
    active = fields.Boolean()


class ProductFiltersSchema(Schema):
    q = text(200, load_default=None, allow_none=True)
    category = text(1000, load_default=None, allow_none=True)
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(domain.KINDS))
    active = fields.Boolean(load_default=None, allow_none=True)
    sku = text(64, load_default=None, allow_none=True)


class ProductSchema(Schema):
    id = fields.Integer()
    sku = fields.String()
    name = fields.String()
    kind = fields.String()
    model = fields.String(allow_none=True)
    manufacturer = fields.String(allow_none=True)
    unit = fields.String()
    unit_price = Money()
    currency = fields.String()
    category = fields.String(allow_none=True)
    category_id = fields.Integer(allow_none=True)
    serialized = fields.Boolean()
    reorder_point = fields.Integer(allow_none=True)
    reorder_quantity = fields.Integer(allow_none=True)
    preferred_partner = fields.String(allow_none=True)
    active = fields.Boolean()
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


class CategoryCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    parent_id = Id(load_default=None, allow_none=True)


class PriceItemSchema(Schema):
    product_id = Id(required=True)
    unit_price = Money(required=True)
    valid_from = Date(load_default=None, allow_none=True)
    valid_to = Date(load_default=None, allow_none=True)


class PriceListCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    channel = fields.String(required=True, validate=validate.OneOf(domain.CHANNELS))
    currency = Currency(required=True)
    tier = text(50, load_default=None, allow_none=True)
    items = fields.List(
        fields.Nested(PriceItemSchema), load_default=list, validate=validate.Length(max=10_000)
    )


class PricesSetSchema(Schema):
    items = fields.List(fields.Nested(PriceItemSchema), required=True, validate=validate.Length(1, 10_000))


class BulkUpdateSchema(Schema):
    percent = Money(required=True, allow_negative=True, kind="percent")
    category = text(1000, load_default=None, allow_none=True)
    product_ids = fields.List(Id(), load_default=None, allow_none=True, validate=validate.Length(1, 10_000))
    effective_date = Date(load_default=None, allow_none=True)


class WarehouseCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 50))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    address = text(2000, load_default=None, allow_none=True)


class UnitInSchema(Schema):
    serial_number = fields.String(required=True, validate=validate.Length(1, 100))
    manufacturing_number = text(100, load_default=None, allow_none=True)


class MoveSchema(Schema):
    warehouse_id = Id(required=True)
    product_id = Id(required=True)
    quantity = Quantity(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(("in", "out")))
    reason = fields.String(required=True, validate=validate.OneOf(domain.REASONS))
    serial_numbers = Serials(load_default=list)
    manufacturing_numbers = fields.Dict(
        keys=fields.String(), values=fields.String(validate=validate.Length(max=100)), load_default=dict
    )
    contract_id = DocumentId(load_default=None, allow_none=True)
    reference = text(200, load_default=None, allow_none=True)
    note = text(2000, load_default=None, allow_none=True)
    lease = fields.Boolean(load_default=False)


class TransferSchema(Schema):
    product_id = Id(required=True)
    from_warehouse_id = Id(required=True)
    to_warehouse_id = Id(required=True)
    quantity = Quantity(required=True)
    serial_numbers = Serials(load_default=list)
    note = text(2000, load_default=None, allow_none=True)


class StockFiltersSchema(Schema):
    product_id = Id(load_default=None, allow_none=True)
    warehouse_id = Id(load_default=None, allow_none=True)


class ReserveItemSchema(Schema):
    product_id = Id(required=True)
    quantity = Quantity(required=True)
    warehouse_id = Id(load_default=None, allow_none=True)
    serial_numbers = Serials(load_default=list)


class ReserveSchema(Schema):
    contract_id = DocumentId(required=True)
    items = fields.List(fields.Nested(ReserveItemSchema), required=True, validate=validate.Length(1, 1000))
    allow_partial = fields.Boolean(load_default=False)


class ReceivePurchaseOrderSchema(Schema):
    warehouse_id = Id(load_default=None, allow_none=True)
    quantity = Quantity(load_default=None, allow_none=True)
    serial_numbers = Serials(load_default=list)


class PurchaseOrderCreateSchema(Schema):
    product_id = Id(required=True)
    quantity = Quantity(required=True)
    warehouse_id = Id(load_default=None, allow_none=True)
    partner = text(200, load_default=None, allow_none=True)


class TradeInCreateSchema(Schema):
    customer_id = DocumentId(load_default=None, allow_none=True)
    product_id = Id(load_default=None, allow_none=True)
    model = text(200, load_default=None, allow_none=True)
    serial_number = fields.String(required=True, validate=validate.Length(1, 100))
    manufacturing_number = text(100, load_default=None, allow_none=True)
    condition = fields.String(required=True, validate=validate.OneOf(domain.CONDITIONS))
    requested_value = Money(required=True)
    currency = Currency(required=True)
    against_product_id = Id(load_default=None, allow_none=True)
    notes = text(4000, load_default=None, allow_none=True)


class TradeInReceiveSchema(Schema):
    warehouse_id = Id(required=True)
    product_id = Id(load_default=None, allow_none=True)


class TradeInSchema(Schema):
    id = fields.Integer()
    customer_id = fields.Raw(allow_none=True)
    product_id = fields.Integer(allow_none=True)
    model = fields.String(allow_none=True)
    serial_number = fields.String()
    manufacturing_number = fields.String(allow_none=True)
    condition = fields.String()
    requested_value = Money()
    approved_value = Money(allow_none=True)
    currency = fields.String()
    against_product_id = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    status = fields.String()
    decision_comment = fields.String(allow_none=True)
    submitted_by = fields.String(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()
