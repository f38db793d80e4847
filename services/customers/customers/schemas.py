"""Marshmallow schemas of the RPC payloads: what comes in (Create / Update / Filters) and what
goes out (the public shape of each entity). Unknown fields are refused (``RAISE``, marshmallow's
default), so a misspelt field is a 422 naming it rather than silently ignored. Field rules come
from :mod:`customers.domain`, the same rules the CSV import applies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from crm_common.fields import AwareDateTime, Date
from crm_common.money import Currency, Money
from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validate, validates_schema

from . import domain


def rule(check: Callable[[Any], str | None]) -> Callable[[Any], None]:
    """A marshmallow validator from a domain rule (``value -> reason | None``)."""

    def validator(value: Any) -> None:
        problem = check(value)
        if problem:
            raise ValidationError(problem)

    return validator


def max_len(limit: int) -> Callable[[Any], None]:
    return rule(lambda v: domain.too_long(v, limit) if v is not None else None)


class Text(fields.String):
    """A string, stripped; an empty one is ``None`` (not given / cleared)."""

    def _deserialize(self, value, attr, data, **kwargs):
        s = super()._deserialize(value, attr, data, **kwargs).strip()
        return s or None


class Choice(fields.String):
    """One of a fixed set of words; ``upper`` / ``lower`` normalise the case first."""

    def __init__(self, choices, case: str | None = None, **kwargs):
        self.choices = tuple(choices)
        self.case = case
        super().__init__(validate=validate.OneOf(self.choices), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        s = super()._deserialize(value, attr, data, **kwargs).strip()
        if self.case == "upper":
            s = s.upper()
        elif self.case == "lower":
            s = s.lower()
        return s


def Id(**kwargs) -> fields.Integer:  # noqa: N802 - a field factory
    return fields.Integer(strict=True, validate=validate.Range(min=1), **kwargs)


class TextOrList(fields.Field):
    """A text, or a list of short texts (competitors: ``"Acme"`` or ``["Acme", "Globex"]``)."""

    default_error_messages = {
        "invalid": "Not a text or a list of texts.",
        "too_long": "Must be at most {limit} characters.",
        "too_many": "At most {limit} entries.",
    }

    def __init__(self, limit: int, item_limit: int = 200, max_items: int = 50, **kwargs):
        self.limit, self.item_limit, self.max_items = limit, item_limit, max_items
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            text = value.strip()
            if len(text) > self.limit:
                raise self.make_error("too_long", limit=self.limit)
            return text or None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            items = [v.strip() for v in value if v.strip()]
            if len(items) > self.max_items:
                raise self.make_error("too_many", limit=self.max_items)
            if any(len(v) > self.item_limit for v in items):
                raise self.make_error("too_long", limit=self.item_limit)
            return items
        raise self.make_error("invalid")


# --------------------------------------------------------------------------------------
# Customers and contacts
# --------------------------------------------------------------------------------------


class ContactCreateSchema(Schema):
    name = Text(
        required=True,
        validate=rule(
            lambda v: domain.name_problem(v) or (v and domain.too_long(v, domain.LIMITS["contact_name"]))
        ),
    )
    email = Text(allow_none=True, validate=rule(domain.email_problem))
    phone = Text(allow_none=True, validate=rule(domain.phone_problem))
    title = Text(allow_none=True, validate=max_len(domain.LIMITS["contact_title"]))
    notes = Text(allow_none=True, validate=max_len(domain.LIMITS["notes"]))
    is_primary = fields.Boolean(allow_none=True)


class CustomerCreateSchema(Schema):
    """``red_list`` is accepted as another name of ``red_listed``; ``null`` for language,
    red_listed, tags or contacts means the default."""

    name = Text(required=True, validate=rule(domain.name_problem))
    kind = Choice(domain.KINDS, case="lower", required=True)
    tax_id = Text(allow_none=True, validate=rule(domain.tax_id_problem))
    email = Text(allow_none=True, validate=rule(domain.email_problem))
    phone = Text(allow_none=True, validate=rule(domain.phone_problem))
    industry = Text(allow_none=True, validate=max_len(domain.LIMITS["industry"]))
    region = Text(allow_none=True, validate=max_len(domain.LIMITS["region"]))
    size = Text(allow_none=True, validate=max_len(domain.LIMITS["size"]))
    level = Choice(domain.LEVELS, case="upper", allow_none=True)
    tags = fields.List(fields.String(), allow_none=True, validate=rule(domain.tags_problem))
    owner_id = Id(allow_none=True)
    language = Choice(domain.LANGUAGES, case="lower", allow_none=True)
    address = Text(allow_none=True, validate=max_len(domain.LIMITS["address"]))
    birthday = Date(allow_none=True, validate=rule(lambda d: domain.birthday_problem(d, dt.date.today())))
    notes = Text(allow_none=True, validate=max_len(domain.LIMITS["notes"]))
    red_listed = fields.Boolean(allow_none=True)
    contacts = fields.List(
        fields.Nested(ContactCreateSchema), allow_none=True, validate=validate.Length(max=100)
    )
    allow_duplicate = fields.Boolean(allow_none=True)

    @pre_load
    def _red_list_alias(self, data, **kwargs):
        if isinstance(data, dict) and "red_list" in data:
            data = dict(data)
            value = data.pop("red_list")
            data.setdefault("red_listed", value)
        return data


class CustomerUpdateSchema(CustomerCreateSchema):
    """A partial update: only the fields given change; ``null`` clears an optional one."""

    class Meta:
        exclude = ("contacts",)

    name = Text(validate=rule(domain.name_problem))
    kind = Choice(domain.KINDS, case="lower")
    language = Choice(domain.LANGUAGES, case="lower")
    red_listed = fields.Boolean()


class CustomerFiltersSchema(Schema):
    q = Text(allow_none=True, validate=max_len(200))
    level = Choice(domain.LEVELS, case="upper", allow_none=True)
    tag = Text(allow_none=True, validate=max_len(domain.LIMITS["tag"]))
    owner_id = fields.Integer(allow_none=True)
    region = Text(allow_none=True)
    industry = Text(allow_none=True)
    kind = Choice(domain.KINDS, case="lower", allow_none=True)
    include_archived = fields.Boolean(allow_none=True)  # archived customers are hidden by default
    red_listed = fields.Boolean(allow_none=True)


class ContactSchema(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    is_primary = fields.Boolean()
    created_at = AwareDateTime()


class CustomerSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    tax_id = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    industry = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    size = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    owner_id = fields.Integer(allow_none=True)
    language = fields.String()
    address = fields.String(allow_none=True)
    birthday = Date(allow_none=True)
    notes = fields.String(allow_none=True)
    red_listed = fields.Boolean()
    red_list_reason = fields.String(allow_none=True)
    red_listed_at = AwareDateTime(allow_none=True)
    red_listed_by = fields.String(allow_none=True)
    archived = fields.Function(lambda row: row.get("archived_at") is not None)
    archived_at = AwareDateTime(allow_none=True)
    archived_by = fields.String(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()
    contacts = fields.List(fields.Nested(ContactSchema))


# --------------------------------------------------------------------------------------
# Follow-ups
# --------------------------------------------------------------------------------------


class FollowUpCreateSchema(Schema):
    method = Choice(domain.FOLLOW_UP_METHODS, case="lower", required=True)
    occurred_at = AwareDateTime(required=True)
    result = Text(
        required=True,
        validate=rule(
            lambda v: "must not be blank" if not v else domain.too_long(v, domain.LIMITS["result"])
        ),
    )
    contact_id = Id(allow_none=True)
    notes = Text(allow_none=True, validate=max_len(domain.LIMITS["notes"]))
    next_action = Text(allow_none=True, validate=max_len(domain.LIMITS["result"]))
    next_action_at = AwareDateTime(allow_none=True)

    @validates_schema
    def _order(self, data, **kwargs):
        if "occurred_at" in data:
            problems = domain.follow_up_problems(data["occurred_at"], data.get("next_action_at"))
            if problems:
                raise ValidationError(problems)


class FollowUpSchema(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    method = fields.String()
    occurred_at = AwareDateTime()
    result = fields.String()
    contact_id = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    next_action = fields.String(allow_none=True)
    next_action_at = AwareDateTime(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    created_at = AwareDateTime()


# --------------------------------------------------------------------------------------
# Opportunities
# --------------------------------------------------------------------------------------


class OpportunityCreateSchema(Schema):
    customer_id = Id(required=True)
    title = Text(
        required=True,
        validate=rule(lambda v: "must not be blank" if not v else domain.too_long(v, domain.LIMITS["title"])),
    )
    amount = Money(required=True, validate=rule(domain.amount_problem))
    currency = Currency(required=True)
    stage = Choice(domain.STAGES, case="lower", load_default="lead")
    expected_close = Date(allow_none=True)
    probability = fields.Integer(strict=True, allow_none=True, validate=validate.Range(0, 100))
    needs = Text(allow_none=True, validate=max_len(domain.LIMITS["needs"]))
    competitors = TextOrList(domain.LIMITS["competitors"], allow_none=True)
    notes = Text(allow_none=True, validate=max_len(domain.LIMITS["notes"]))
    lost_reason = Text(allow_none=True, validate=max_len(domain.LIMITS["result"]))
    owner_id = Id(allow_none=True)


class OpportunityUpdateSchema(OpportunityCreateSchema):
    class Meta:
        exclude = ("customer_id",)

    title = Text(
        validate=rule(lambda v: "must not be blank" if not v else domain.too_long(v, domain.LIMITS["title"]))
    )
    amount = Money(validate=rule(domain.amount_problem))
    currency = Currency()
    stage = Choice(domain.STAGES, case="lower")


class OpportunityFiltersSchema(Schema):
    stage = Choice(domain.STAGES, case="lower", allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    customer_id = fields.Integer(allow_none=True)


class OpportunitySchema(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name = fields.String()
    title = fields.String()
    amount = Money()
    currency = fields.String()
    stage = fields.String()
    expected_close = Date(allow_none=True)
    probability = fields.Integer(allow_none=True)
    needs = fields.String(allow_none=True)
    competitors = fields.Raw(allow_none=True)
    notes = fields.String(allow_none=True)
    lost_reason = fields.String(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    closed_at = AwareDateTime(allow_none=True)
    created_at = AwareDateTime()
    updated_at = AwareDateTime()


# --------------------------------------------------------------------------------------
# Dashboard
# --------------------------------------------------------------------------------------


class PipelineArgsSchema(Schema):
    year = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(1900, 9999)
    )


# --------------------------------------------------------------------------------------
# Imports
# --------------------------------------------------------------------------------------


class ImportStartSchema(Schema):
    mode = Choice(domain.IMPORT_MODES, case="lower", required=True)
    filename = Text(allow_none=True, validate=max_len(300))


class ImportRowSchema(Schema):
    line = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    data = fields.Dict(required=True)


class ImportBatchSchema(Schema):
    rows = fields.List(
        fields.Nested(ImportRowSchema), required=True, validate=validate.Length(max=domain.MAX_BATCH_ROWS)
    )


class ImportJobSchema(Schema):
    id = fields.Integer()
    job_id = fields.Function(lambda obj: obj["id"])
    mode = fields.String()
    filename = fields.String(allow_none=True)
    status = fields.String()
    rows_received = fields.Integer()
    rows_processed = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    error_count = fields.Integer()
    message = fields.String(allow_none=True)
    started_at = AwareDateTime()
    finished_at = AwareDateTime(allow_none=True)


class ImportErrorSchema(Schema):
    line = fields.Integer()
    field = fields.String(allow_none=True)
    message = fields.String()


class ImportResultSchema(Schema):
    job_id = fields.Integer()
    status = fields.String()
    created = fields.Integer()
    updated = fields.Integer()
    errors = fields.List(fields.Nested(ImportErrorSchema))


__all__ = [name for name in dir() if name.endswith("Schema")] + ["EXCLUDE"]
