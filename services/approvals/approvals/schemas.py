"""Marshmallow schemas of the RPC payloads that come in. Unknown fields are refused (422 naming
them), except on ``*_submitted`` event payloads, whose extra fields are kept in ``details``."""

from __future__ import annotations

from typing import Any

from crm_common.money import Currency, Money
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from . import domain


class Text(fields.String):
    """A string, stripped; an empty one is ``None`` where the field allows ``None`` and refused
    (422) where it does not. ``None`` never reaches the validators (``Length`` would fail on it)."""

    def _deserialize(self, value, attr, data, **kwargs):
        s = super()._deserialize(value, attr, data, **kwargs).strip()
        if not s and not self.allow_none:
            raise ValidationError("may not be blank")
        return s or None

    def _validate(self, value):
        if value is not None:
            super()._validate(value)


class DocumentType(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        s = super()._deserialize(value, attr, data, **kwargs).strip()
        if not domain.valid_document_type(s):
            raise ValidationError("must be lower-case letters, digits and _ (e.g. contract, trade_in)")
        return s


class DocumentId(fields.Field):
    """An integer or a string id of the document in its own service."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValidationError("must be an integer or a string")
        s = str(value).strip()
        if not s or len(s) > 100:
            raise ValidationError("must be 1 to 100 characters")
        return s


class RequestApprovalSchema(Schema):
    document_type = DocumentType(required=True)
    document_id = DocumentId(required=True)
    amount = Money(allow_none=True, allow_negative=True)  # credit notes may be negative
    currency = Currency(allow_none=True)
    department = Text(allow_none=True, validate=validate.Length(max=100))
    company = Text(allow_none=True, validate=validate.Length(max=200))
    contract_kind = Text(allow_none=True, validate=validate.Length(max=50))
    submitter = fields.Integer(required=True, allow_none=True, strict=True)
    summary = Text(allow_none=True, validate=validate.Length(max=5000))
    details = fields.Dict(keys=fields.String(), load_default=dict)
    source = Text(allow_none=True, validate=validate.Length(max=50))

    @validates_schema
    def _amount_needs_currency(self, data, **kwargs):
        if data.get("amount") is not None and not data.get("currency"):
            raise ValidationError("required with an amount", "currency")


class SubmittedPayloadSchema(RequestApprovalSchema):
    """A ``<document_type>_submitted`` event payload (see the README): unknown keys are kept."""

    class Meta:
        unknown = EXCLUDE

    document_type = DocumentType(allow_none=True)
    submitter = fields.Integer(allow_none=True, load_default=None)

    @validates_schema
    def _amount_needs_currency(self, data, **kwargs):
        """An event is not refused for a missing currency (it could only be dead-lettered):
        the amount is kept, currency conditions simply do not match."""


class ConditionsSchema(Schema):
    min_amount = Money(allow_none=True)
    max_amount = Money(allow_none=True)
    currency = Currency(allow_none=True)
    department = Text(allow_none=True, validate=validate.Length(max=100))
    company = Text(allow_none=True, validate=validate.Length(max=200))
    contract_kind = Text(allow_none=True, validate=validate.Length(max=50))


# the priority column is a 32-bit integer in PostgreSQL
PRIORITY_RANGE = validate.Range(min=-(2**31), max=2**31 - 1)


class StepSchema(Schema):
    name = Text(required=True, validate=validate.Length(max=200))
    mode = fields.String(load_default=domain.ANY, validate=validate.OneOf(domain.MODES))
    approver_role = Text(allow_none=True, validate=validate.Length(max=50))
    approver_user_id = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=1))
    approver_user_ids = fields.List(
        fields.Integer(strict=True, validate=validate.Range(min=1)), allow_none=True
    )
    department_head = fields.Boolean(allow_none=True)

    @validates_schema
    def _one_kind_of_approver(self, data, **kwargs):
        problems = domain.step_spec_problems(data)
        if problems:
            raise ValidationError(problems, "approver")


class FlowCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    document_type = DocumentType(required=True)
    conditions = fields.Nested(ConditionsSchema, load_default=dict)
    priority = fields.Integer(load_default=100, strict=True, validate=PRIORITY_RANGE)
    sla_hours = fields.Integer(
        load_default=domain.DEFAULT_SLA_HOURS, strict=True, validate=validate.Range(min=1, max=24 * 365)
    )
    allow_self_approval = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)
    steps = fields.List(fields.Nested(StepSchema), required=True, validate=validate.Length(min=1, max=20))

    @validates_schema
    def _amount_range(self, data, **kwargs):
        problems = domain.condition_problems(data.get("conditions") or {})
        if problems:
            raise ValidationError(problems["conditions.max_amount"], "conditions")


class FlowUpdateSchema(FlowCreateSchema):
    """PATCH: every field optional; a change makes a new version."""

    name = Text(validate=validate.Length(min=1, max=200))
    document_type = DocumentType()
    conditions = fields.Nested(ConditionsSchema)
    priority = fields.Integer(strict=True, validate=PRIORITY_RANGE)
    sla_hours = fields.Integer(strict=True, validate=validate.Range(min=1, max=24 * 365))
    allow_self_approval = fields.Boolean()
    active = fields.Boolean()
    steps = fields.List(fields.Nested(StepSchema), validate=validate.Length(min=1, max=20))


class DecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(domain.DECISIONS))
    comment = fields.String(allow_none=True, validate=validate.Length(max=10000))
    # trade-in documents only (approving): the valuation decided, in the request's currency;
    # the request's (requested) amount when omitted
    approved_value = Money(allow_none=True)
    currency = Currency(allow_none=True)


class ListFiltersSchema(Schema):
    status = fields.String(allow_none=True, validate=validate.OneOf(domain.STATUSES))
    mine = fields.Boolean(load_default=False)
    document_type = DocumentType(allow_none=True)
    document_id = DocumentId(allow_none=True)
    submitter = fields.Integer(allow_none=True)


class FlowFiltersSchema(Schema):
    document_type = DocumentType(allow_none=True)
    active = fields.Boolean(allow_none=True)


def clean(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}
