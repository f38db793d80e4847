"""Events the customers service publishes (exchange ``customers.events``, routing key = type)
and consumes, with their payload schemas. Every event leaves through the transactional outbox
(``uow.publish``) in the envelope ``{event_id, type, version, occurred_at, source,
request_id, payload}``; amounts are strings, timestamps ISO 8601 UTC."""

from __future__ import annotations

from crm_common.money import Money
from marshmallow import EXCLUDE, Schema, fields, pre_load

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
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    title = fields.String(allow_none=True)


class CustomerRef(Schema):
    """Who the event is about: enough for a notification without an RPC call back."""

    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    owner_id = fields.Integer(allow_none=True)
    language = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    birthday = fields.Date(allow_none=True)  # the customer-care list (notify) keeps it
    tax_id = fields.String(allow_none=True)  # billing's customer copy (invoice snapshot)
    address = fields.String(allow_none=True)


class CustomerCreatedPayload(CustomerRef):
    industry = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    size = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    red_listed = fields.Boolean()
    contacts = fields.List(fields.Nested(ContactRef))
    imported = fields.Boolean()


class CustomerUpdatedPayload(CustomerRef):
    level = fields.String(allow_none=True)
    red_listed = fields.Boolean()
    # {field: [old, new]} for every changed field
    changes = fields.Dict(keys=fields.String(), values=fields.Raw())
    fields_changed = fields.List(fields.String(), data_key="fields")
    imported = fields.Boolean()


class CustomerDeletedPayload(CustomerRef):
    pass


class CustomerArchivedPayload(CustomerRef):
    """``customer_archived`` / ``customer_restored`` (``archived_at`` null once restored;
    ``archived_by`` who did it)."""

    archived_at = fields.AwareDateTime(allow_none=True)
    archived_by = fields.String(allow_none=True)


class OpportunityRef(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name = fields.String()
    title = fields.String()
    amount = Money()
    currency = fields.String()
    stage = fields.String()
    probability = fields.Integer(allow_none=True)
    expected_close = fields.Date(allow_none=True)
    owner_id = fields.Integer(allow_none=True)
    language = fields.String()


class OpportunityStageChangedPayload(OpportunityRef):
    from_stage = fields.String(allow_none=True)
    to_stage = fields.String()


class OpportunityWonPayload(OpportunityRef):
    closed_at = fields.AwareDateTime()


class FollowUpDuePayload(Schema):
    id = fields.Integer()  # the follow-up
    follow_up_id = fields.Function(lambda obj: obj["id"])
    customer_id = fields.Integer()
    customer_code = fields.String()
    customer_name = fields.String()
    owner_id = fields.Integer(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    language = fields.String()
    method = fields.String()
    result = fields.String()
    notes = fields.String(allow_none=True)
    next_action_at = fields.AwareDateTime()
    due_date = fields.Date()
    contact = fields.Nested(ContactRef, allow_none=True)


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
