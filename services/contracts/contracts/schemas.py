"""marshmallow schemas of the contracts service's RPC payloads (in). Out-going JSON is built by
:func:`contracts.usecases.contract_view` (amounts as strings, dates ISO 8601)."""

from __future__ import annotations

from crm_common.fields import Date
from crm_common.money import MAX_AMOUNT, Currency, Money, line_too_large
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from . import domain


def id_field(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=1), **kwargs)


class Text(fields.String):
    """A string stripped of surrounding blanks, at most ``max_length`` characters; blank → None
    where None is allowed, else an error."""

    def __init__(self, *args, max_length: int | None = None, **kwargs):
        self.max_length = max_length
        super().__init__(*args, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if "\x00" in text:
            raise ValidationError("must not contain NUL characters")
        if not text:
            if not self.allow_none:
                raise ValidationError("must not be empty")
            return None
        if self.max_length is not None and len(text) > self.max_length:
            raise ValidationError(f"must be at most {self.max_length} characters")
        return text


def text(limit: int, **kwargs) -> Text:
    return Text(max_length=limit, **kwargs)


class Percent(Money):
    """A percentage as a decimal string (or integer), within [low, high]."""

    def __init__(self, low: str, high: str, **kwargs):
        super().__init__(allow_negative=True, kind="percent", **kwargs)
        self.low, self.high = low, high

    def _deserialize(self, value, attr, data, **kwargs):
        from decimal import Decimal

        d = super()._deserialize(value, attr, data, **kwargs)
        if not Decimal(self.low) <= d <= Decimal(self.high):
            raise ValidationError(f"must be between {self.low} and {self.high}")
        return d


class BillingSchema(Schema):
    frequency = fields.String(required=True, validate=validate.OneOf(domain.FREQUENCIES))
    in_advance = fields.Boolean(load_default=True)
    payment_terms_days = fields.Integer(strict=True, load_default=30, validate=validate.Range(0, 365))
    anchor_day = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(1, 31)
    )


class LineSchema(Schema):
    product_id = id_field(required=True)
    quantity = Money(load_default=None, allow_none=True, kind="quantity")
    unit_price = Money(load_default=None, allow_none=True)
    discount_percent = Percent("0", "100", load_default=None, allow_none=True)
    serial_number = text(100, load_default=None, allow_none=True)
    manufacturing_number = text(100, load_default=None, allow_none=True)
    description = text(2000, load_default=None, allow_none=True)
    start_date = Date(load_default=None, allow_none=True)
    end_date = Date(load_default=None, allow_none=True)
    warehouse_id = id_field(load_default=None, allow_none=True)

    @validates_schema
    def _line_fits(self, data, **kwargs):
        if line_too_large(data.get("quantity"), data.get("unit_price")):
            raise ValidationError(f"quantity × unit_price must be below {MAX_AMOUNT}", "unit_price")


class ContractFieldsSchema(Schema):
    """Every field of a contract a user sets (create: required ones enforced below)."""

    class Meta:
        unknown = EXCLUDE  # the gateway validates the body's shape; unknown keys are ignored

    customer_id = id_field()
    title = text(300)
    kind = fields.String(validate=validate.OneOf(domain.KINDS))
    currency = Currency()
    start_date = Date()
    end_date = Date()
    template_id = id_field(allow_none=True)
    field_values = fields.Dict(keys=fields.String(), allow_none=True)
    signer = text(300, allow_none=True)
    signer_title = text(200, allow_none=True)
    signed_on = Date(allow_none=True)
    billing = fields.Nested(BillingSchema)
    auto_renew = fields.Boolean()
    renewal_uplift_percent = Percent("-100", "1000", allow_none=True)
    notice_days = fields.Integer(strict=True, validate=validate.Range(0, 3650))
    owner_id = id_field(allow_none=True)
    department = text(100, allow_none=True)
    company = text(200, allow_none=True)
    notes = text(10000, allow_none=True)
    lines = fields.List(fields.Nested(LineSchema), validate=validate.Length(max=5000))


REQUIRED_ON_CREATE = ("customer_id", "title", "kind", "currency", "start_date", "end_date", "billing")


class ContractCreateSchema(ContractFieldsSchema):
    @validates_schema
    def _required(self, data, **kwargs):
        missing = {name: ["required"] for name in REQUIRED_ON_CREATE if data.get(name) is None}
        if missing:
            raise ValidationError(missing)


class ContractFiltersSchema(Schema):
    customer_id = id_field(load_default=None, allow_none=True)
    owner_id = id_field(load_default=None, allow_none=True)
    status = fields.List(
        fields.String(validate=validate.OneOf(domain.STATUSES)), load_default=None, allow_none=True
    )
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(domain.KINDS))
    expiring_within_days = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(0, 3650)
    )
    as_of = Date(load_default=None, allow_none=True)
    q = text(200, load_default=None, allow_none=True)
    serial_number = text(100, load_default=None, allow_none=True)
    product_id = id_field(load_default=None, allow_none=True)
    renewal_of_id = id_field(load_default=None, allow_none=True)
    include_lines = fields.Boolean(load_default=None, allow_none=True)  # each contract with its lines
    include_archived = fields.Boolean(load_default=None, allow_none=True)  # archived ones too


class ReasonSchema(Schema):
    reason = text(2000, required=True)


class TerminateSchema(Schema):
    reason = text(2000, required=True)
    effective_date = Date(required=True)


class CancelSchema(Schema):
    reason = text(2000, load_default=None, allow_none=True)


class LineChangeSchema(Schema):
    id = id_field(required=True)
    quantity = Money(load_default=None, allow_none=True, kind="quantity")
    unit_price = Money(load_default=None, allow_none=True)
    discount_percent = Percent("0", "100", load_default=None, allow_none=True)
    start_date = Date(load_default=None, allow_none=True)
    end_date = Date(load_default=None, allow_none=True)
    description = text(2000, load_default=None, allow_none=True)
    serial_number = text(100, load_default=None, allow_none=True)
    manufacturing_number = text(100, load_default=None, allow_none=True)


# header fields an amendment may change (the customer, kind and currency of a signed contract
# never change: that is a new contract)
AMENDABLE = (
    "title", "end_date", "signer", "signer_title", "signed_on", "billing", "auto_renew",
    "renewal_uplift_percent", "notice_days", "owner_id", "department", "company", "notes",
    "field_values",
)  # fmt: skip


class AmendmentChangesSchema(ContractFieldsSchema):
    class Meta:
        unknown = "raise"

    @validates_schema
    def _only_amendable(self, data, **kwargs):
        bad = {k: ["cannot be changed by an amendment"] for k in data if k not in AMENDABLE}
        if bad:
            raise ValidationError(bad)


class AmendmentSchema(Schema):
    reason = text(2000, required=True)
    impact = text(5000, load_default=None, allow_none=True)
    effective_date = Date(load_default=None, allow_none=True)
    changes = fields.Dict(keys=fields.String(), load_default=dict)
    add_lines = fields.List(fields.Nested(LineSchema), load_default=list, validate=validate.Length(max=5000))
    remove_line_ids = fields.List(id_field(), load_default=list, validate=validate.Length(max=5000))
    change_lines = fields.List(
        fields.Nested(LineChangeSchema), load_default=list, validate=validate.Length(max=5000)
    )


class RenewSchema(Schema):
    start_date = Date(load_default=None, allow_none=True)
    end_date = Date(load_default=None, allow_none=True)
    uplift_percent = Percent("-100", "1000", load_default=None, allow_none=True)
    title = text(300, load_default=None, allow_none=True)


# -- dashboard and portal ------------------------------------------------------------------------


class DashboardArgsSchema(Schema):
    year = fields.Integer(
        strict=True, load_default=None, allow_none=True, validate=validate.Range(1900, 9998)
    )
    as_of = Date(load_default=None, allow_none=True)


class ItemFiltersSchema(Schema):
    q = text(200, load_default=None, allow_none=True)
    customer_id = id_field(load_default=None, allow_none=True)
    contract_id = id_field(load_default=None, allow_none=True)
    status = fields.List(
        fields.String(validate=validate.OneOf(domain.STATUSES)), load_default=None, allow_none=True
    )


class ServiceRequestSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(domain.REQUEST_KINDS))
    contract_id = id_field(load_default=None, allow_none=True)
    line_id = id_field(load_default=None, allow_none=True)
    serial_number = text(100, load_default=None, allow_none=True)
    message = text(domain.MESSAGE_MAX, required=True)

    @validates_schema
    def _target(self, data, **kwargs):
        problems = domain.service_request_problems(
            data.get("kind"), data.get("contract_id"), data.get("serial_number"), data.get("line_id")
        )
        if problems:
            raise ValidationError(problems)


class ServiceRequestFiltersSchema(Schema):
    kind = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(domain.REQUEST_KINDS))
    status = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(domain.REQUEST_STATUSES)
    )
    customer_id = id_field(load_default=None, allow_none=True)
    contract_id = id_field(load_default=None, allow_none=True)


class UserEventSchema(Schema):
    """``gateway.user_created`` / ``user_updated``: the fields the users copy keeps; others ignored
    (the gateway may add fields without breaking us)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True, validate=validate.Range(min=1))
    department = fields.String(allow_none=True)
    roles = fields.List(fields.String(), allow_none=True)
    active = fields.Boolean(allow_none=True)
