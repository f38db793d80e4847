"""Marshmallow schemas of the billing RPC payloads (inputs; views are built in the use cases)."""

from __future__ import annotations

from crm_common.fields import AwareDateTime, Date
from crm_common.money import MAX_AMOUNT, Currency, Money, line_too_large
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from . import domain

METHODS = ("bank_transfer", "cash", "card", "cheque", "direct_debit", "offset", "other")
MAX_TEXT = 2000


class _In(Schema):
    class Meta:
        unknown = EXCLUDE


def _text(n: int = 200, **kw):
    return fields.String(validate=validate.Length(min=1, max=n), **kw)


class OneOffLineIn(_In):
    description = _text(MAX_TEXT, required=True)
    quantity = Money(
        required=True,
        kind="quantity",
        validate=validate.Range(min=0, min_inclusive=False, error="Must be greater than 0."),
    )
    unit_price = Money(required=True, allow_negative=False)
    discount_percent = Money(
        load_default=None, kind="percent", validate=validate.Range(max=100, error="Must be at most 100.")
    )
    tax_percent = Money(
        load_default=None, kind="percent", validate=validate.Range(max=100, error="Must be at most 100.")
    )
    product_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )
    sku = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))

    @validates_schema
    def _line_fits(self, data, **kwargs):
        if (
            "quantity" in data
            and "unit_price" in data
            and line_too_large(data["quantity"], data["unit_price"])
        ):
            raise ValidationError(f"quantity × unit_price must be below {MAX_AMOUNT}", "unit_price")


class InvoiceIn(_In):
    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    currency = Currency(required=True)
    lines = fields.List(fields.Nested(OneOffLineIn), required=True, validate=validate.Length(min=1, max=500))
    issue_date = Date(load_default=None, allow_none=True)
    due_date = Date(load_default=None, allow_none=True)
    payment_terms_days = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=0, max=365)
    )
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT))
    language = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(("en", "zh", "tr", "bg"))
    )
    contract_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(min=1)
    )
    draft = fields.Boolean(load_default=False)

    @validates_schema
    def _dates(self, data, **kwargs):
        if data.get("issue_date") and data.get("due_date") and data["due_date"] < data["issue_date"]:
            raise ValidationError("must not be before issue_date", "due_date")


class InvoiceUpdateIn(_In):
    lines = fields.List(fields.Nested(OneOffLineIn), validate=validate.Length(min=1, max=500))
    issue_date = Date(allow_none=True)
    due_date = Date(allow_none=True)
    notes = fields.String(allow_none=True, validate=validate.Length(max=MAX_TEXT))
    language = fields.String(allow_none=True, validate=validate.OneOf(("en", "zh", "tr", "bg")))


class ReasonIn(_In):
    reason = _text(MAX_TEXT, required=True)


class CreditLineIn(_In):
    invoice_line_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    amount = Money(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="Must be greater than 0.")
    )


class CreditNoteIn(_In):
    reason = _text(MAX_TEXT, required=True)
    amount = Money(
        load_default=None,
        validate=validate.Range(min=0, min_inclusive=False, error="Must be greater than 0."),
    )
    lines = fields.List(
        fields.Nested(CreditLineIn), load_default=None, validate=validate.Length(min=1, max=500)
    )
    issue_date = Date(load_default=None, allow_none=True)

    @validates_schema
    def _one(self, data, **kwargs):
        if data.get("amount") is not None and data.get("lines"):
            raise ValidationError("give either amount or lines, not both", "lines")


class AllocationIn(_In):
    invoice_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    amount = Money(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="Must be greater than 0.")
    )


class PaymentIn(_In):
    customer_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    amount = Money(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="Must be greater than 0.")
    )
    currency = Currency(required=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    received_at = AwareDateTime(required=True, default_timezone=None)
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    handler = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    account = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT))
    allocations = fields.List(
        fields.Nested(AllocationIn), load_default=None, allow_none=True, validate=validate.Length(max=500)
    )


class AllocateIn(_In):
    allocations = fields.List(
        fields.Nested(AllocationIn), load_default=None, allow_none=True, validate=validate.Length(max=500)
    )


class RefundIn(_In):
    amount = Money(
        required=True, validate=validate.Range(min=0, min_inclusive=False, error="Must be greater than 0.")
    )
    reason = _text(MAX_TEXT, required=True)
    method = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(METHODS))
    reference = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class InvoiceFilters(_In):
    customer_id = fields.Integer(strict=False, allow_none=True)
    contract_id = fields.Integer(strict=False, allow_none=True)
    status = fields.String(allow_none=True, validate=validate.OneOf(domain.INVOICE_STATUSES))
    kind = fields.String(
        allow_none=True, validate=validate.OneOf(("contract", "renewal", "one_off", "adjustment"))
    )
    currency = Currency(allow_none=True)
    overdue = fields.Boolean(allow_none=True)
    issued_from = Date(allow_none=True)
    issued_to = Date(allow_none=True)
    q = fields.String(allow_none=True, validate=validate.Length(max=100))


class PaymentFilters(_In):
    customer_id = fields.Integer(strict=False, allow_none=True)
    # payments with an allocation to an invoice of this contract
    contract_id = fields.Integer(strict=False, allow_none=True)
    status = fields.String(allow_none=True, validate=validate.OneOf(("pending", "confirmed")))
    method = fields.String(allow_none=True, validate=validate.OneOf(METHODS))
    currency = Currency(allow_none=True)


class CreditNoteFilters(_In):
    customer_id = fields.Integer(strict=False, allow_none=True)
    invoice_id = fields.Integer(strict=False, allow_none=True)


class RunIn(_In):
    as_of = Date(required=True)
    wait_seconds = fields.Float(load_default=20.0, validate=validate.Range(min=0, max=600))
