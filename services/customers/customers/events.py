"""Events the customers service publishes (exchange ``customers.events``, routing key = type)
and consumes, with their payload schemas. Every event leaves through the transactional outbox
(``uow.publish``) in the envelope ``{event_id, type, version, occurred_at, source,
request_id, payload}``; amounts are strings, timestamps ISO 8601 UTC.

``CATALOGUE`` declares each published type for the event catalogue (:mod:`crm_common.catalogue`,
``docs/events/``); the payloads are dumped with the schemas declared here, so the declaration
and what is published cannot drift apart."""

from __future__ import annotations

from crm_common.catalogue import EventSpec
from crm_common.money import Money
from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from . import domain

SOURCE = "customers"

CUSTOMER_CREATED = "customer_created"
CUSTOMER_UPDATED = "customer_updated"
CUSTOMER_DELETED = "customer_deleted"
CUSTOMER_ARCHIVED = "customer_archived"
CUSTOMER_RESTORED = "customer_restored"
OPPORTUNITY_STAGE_CHANGED = "opportunity_stage_changed"
OPPORTUNITY_WON = "opportunity_won"
FOLLOW_UP_DUE = "follow_up_due"

PUBLISHED = (
    CUSTOMER_CREATED,
    CUSTOMER_UPDATED,
    CUSTOMER_DELETED,
    CUSTOMER_ARCHIVED,
    CUSTOMER_RESTORED,
    OPPORTUNITY_STAGE_CHANGED,
    OPPORTUNITY_WON,
    FOLLOW_UP_DUE,
)

# consumed
GATEWAY = "gateway"
USER_CREATED = "user_created"
USER_UPDATED = "user_updated"


class ContactRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    title = fields.String(required=True, allow_none=True)


class CustomerRef(Schema):
    """Who the event is about: enough for a notification without an RPC call back."""

    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(domain.KINDS))
    owner_id = fields.Integer(required=True, allow_none=True)
    language = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    phone = fields.String(required=True, allow_none=True)
    birthday = fields.Date(required=True, allow_none=True)  # the customer-care list (notify) keeps it
    tax_id = fields.String(required=True, allow_none=True)  # billing's customer copy (invoice snapshot)
    address = fields.String(required=True, allow_none=True)


class CustomerCreatedPayload(CustomerRef):
    industry = fields.String(required=True, allow_none=True)
    region = fields.String(required=True, allow_none=True)
    size = fields.String(required=True, allow_none=True)
    level = fields.String(required=True, allow_none=True)
    tags = fields.List(fields.String(), required=True)
    red_listed = fields.Boolean(required=True)
    contacts = fields.List(fields.Nested(ContactRef), required=True)  # none from a CSV import
    imported = fields.Boolean(required=True)


class CustomerUpdatedPayload(CustomerRef):
    level = fields.String(required=True, allow_none=True)
    red_listed = fields.Boolean(required=True)
    # {field: [old, new]} for every changed field
    changes = fields.Dict(keys=fields.String(), values=fields.List(fields.Raw()), required=True)
    fields_changed = fields.List(fields.String(), data_key="fields", required=True)
    imported = fields.Boolean(required=True)


class CustomerDeletedPayload(CustomerRef):
    pass


class CustomerArchivedPayload(CustomerRef):
    """``customer_archived`` / ``customer_restored`` (``archived_at`` null once restored;
    ``archived_by`` who did it)."""

    archived_at = fields.AwareDateTime(required=True, allow_none=True)
    archived_by = fields.String(required=True, allow_none=True)


class OpportunityRef(Schema):
    id = fields.Integer(required=True)
    customer_id = fields.Integer(required=True)
    customer_code = fields.String(required=True)
    customer_name = fields.String(required=True)
    title = fields.String(required=True)
    amount = Money(required=True)
    currency = fields.String(required=True)
    stage = fields.String(required=True, validate=validate.OneOf(domain.STAGES))
    probability = fields.Integer(required=True, allow_none=True)
    expected_close = fields.Date(required=True, allow_none=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    language = fields.String(required=True)


class OpportunityStageChangedPayload(OpportunityRef):
    from_stage = fields.String(required=True, allow_none=True)
    to_stage = fields.String(required=True, validate=validate.OneOf(domain.STAGES))


class OpportunityWonPayload(OpportunityRef):
    closed_at = fields.AwareDateTime(required=True)


class FollowUpDuePayload(Schema):
    id = fields.Integer(required=True)  # the follow-up
    follow_up_id = fields.Integer(attribute="id", dump_only=True, required=True)  # the same, by its name
    customer_id = fields.Integer(required=True)
    customer_code = fields.String(required=True)
    customer_name = fields.String(required=True)
    owner_id = fields.Integer(required=True, allow_none=True)
    created_by = fields.Integer(required=True, allow_none=True)
    language = fields.String(required=True)
    method = fields.String(required=True, validate=validate.OneOf(domain.FOLLOW_UP_METHODS))
    result = fields.String(required=True)
    notes = fields.String(required=True, allow_none=True)
    next_action_at = fields.AwareDateTime(required=True)
    due_date = fields.Date(required=True)
    contact = fields.Nested(ContactRef, required=True, allow_none=True)


class UserEventPayload(Schema):
    """``gateway.user_created`` / ``user_updated``: fields this service keeps; others ignored
    (the gateway may add fields without breaking us)."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True)
    username = fields.String(allow_none=True)
    roles = fields.List(fields.String(), allow_none=True)
    department = fields.String(allow_none=True)
    full_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    is_department_head = fields.Boolean(allow_none=True)
    active = fields.Boolean(allow_none=True)
    customer_id = fields.Integer(allow_none=True)

    @pre_load
    def _aliases(self, data, **kwargs):
        data = dict(data)
        if "id" not in data and "user_id" in data:
            data["id"] = data.pop("user_id")
        else:
            data.pop("user_id", None)
        if "active" not in data and "is_active" in data:
            data["active"] = data.pop("is_active")
        else:
            data.pop("is_active", None)
        return data


customer_created_payload = CustomerCreatedPayload()
customer_updated_payload = CustomerUpdatedPayload()
customer_deleted_payload = CustomerDeletedPayload()
customer_archived_payload = CustomerArchivedPayload()
opportunity_stage_changed_payload = OpportunityStageChangedPayload()
opportunity_won_payload = OpportunityWonPayload()
follow_up_due_payload = FollowUpDuePayload()
user_event_payload = UserEventPayload()


# Personal data: a customer may be a natural person (``kind: person``), so its name, contact
# details, birthday, address and tax id are marked; contacts are people.
_CUSTOMER_PERSONAL = ("name", "email", "phone", "birthday", "tax_id", "address")
_EXAMPLE_CUSTOMER = {
    "id": 42,
    "code": "C-000042",
    "name": "Acme Printing Ltd",
    "kind": "company",
    "owner_id": 7,
    "language": "en",
    "email": "office@acme.example",
    "phone": "+44 20 7946 0000",
    "birthday": None,
    "tax_id": "GB123456789",
    "address": "1 Example Street, London",
}

CATALOGUE: tuple[EventSpec, ...] = (
    EventSpec(
        source=SOURCE,
        type=CUSTOMER_CREATED,
        payload=CustomerCreatedPayload,
        summary="A customer was created (by hand, with its contacts, or by a CSV import: imported).",
        personal=(*_CUSTOMER_PERSONAL, "contacts"),
        examples=(
            {
                **_EXAMPLE_CUSTOMER,
                "industry": "printing",
                "region": "London",
                "size": "medium",
                "level": "A",
                "tags": ["key-account"],
                "red_listed": False,
                "contacts": [
                    {"id": 5, "name": "Jane Doe", "email": "jane@acme.example", "phone": None, "title": "CFO"}
                ],
                "imported": False,
            },
        ),
    ),
    EventSpec(
        source=SOURCE,
        type=CUSTOMER_UPDATED,
        payload=CustomerUpdatedPayload,
        summary=(
            "A customer's fields changed (an edit, the red list, a CSV import): the customer as it is "
            "now, with changes {field: [old, new]} and the changed field names."
        ),
        personal=(*_CUSTOMER_PERSONAL, "changes"),
        examples=(
            {
                **_EXAMPLE_CUSTOMER,
                "level": "B",
                "red_listed": False,
                "changes": {"level": ["A", "B"]},
                "fields": ["level"],
                "imported": False,
            },
        ),
    ),
    EventSpec(
        source=SOURCE,
        type=CUSTOMER_DELETED,
        payload=CustomerDeletedPayload,
        summary="A customer nothing refers to was deleted (soft delete; it disappears from lists and look-ups).",
        personal=_CUSTOMER_PERSONAL,
    ),
    EventSpec(
        source=SOURCE,
        type=CUSTOMER_ARCHIVED,
        payload=CustomerArchivedPayload,
        summary="A customer was archived: kept with its history, hidden from lists, no new business.",
        personal=_CUSTOMER_PERSONAL,
    ),
    EventSpec(
        source=SOURCE,
        type=CUSTOMER_RESTORED,
        payload=CustomerArchivedPayload,
        summary="An archived customer was restored (archived_at is null, archived_by names who restored it).",
        personal=_CUSTOMER_PERSONAL,
    ),
    EventSpec(
        source=SOURCE,
        type=OPPORTUNITY_STAGE_CHANGED,
        payload=OpportunityStageChangedPayload,
        summary="An opportunity moved from one pipeline stage to another.",
        personal=("customer_name",),
    ),
    EventSpec(
        source=SOURCE,
        type=OPPORTUNITY_WON,
        payload=OpportunityWonPayload,
        summary="An opportunity reached the stage won (created as won, or moved there).",
        personal=("customer_name",),
        examples=(
            {
                "id": 9,
                "customer_id": 42,
                "customer_code": "C-000042",
                "customer_name": "Acme Printing Ltd",
                "title": "Fleet renewal",
                "amount": "12500.00",
                "currency": "EUR",
                "stage": "won",
                "probability": 100,
                "expected_close": "2026-12-31",
                "owner_id": 7,
                "language": "en",
                "closed_at": "2026-12-08T10:15:00+00:00",
            },
        ),
    ),
    EventSpec(
        source=SOURCE,
        type=FOLLOW_UP_DUE,
        payload=FollowUpDuePayload,
        summary=(
            "The daily job found a follow-up whose next action falls on that day (once per "
            "follow-up): the reminder for its owner's inbox."
        ),
        public=False,
        personal=("customer_name", "notes", "contact"),
    ),
)
