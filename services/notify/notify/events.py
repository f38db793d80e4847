"""Events the notify service consumes and publishes (exchange ``notify.events``, routing key =
type), in the standard envelope ``{event_id, type, version, occurred_at, source, request_id,
payload}``. Consumed payloads are read tolerantly (``.get`` with aliases): the fields relied on
are listed in the README."""

from __future__ import annotations

from crm_common.catalogue import EventSpec
from marshmallow import Schema, fields

SOURCE = "notify"

# published
NOTIFICATION_SENT = "notification_sent"
WEBHOOK_DELIVERED = "webhook_delivered"
WEBHOOK_DISABLED = "webhook_disabled"
TASK_OPENED = "task_opened"
TASK_CLOSED = "task_closed"
# one per new inbox entry, for its recipient (the gateway's notifications stream)
INBOX_NOTIFICATION_CREATED = "inbox_notification_created"
PUBLISHED = (
    NOTIFICATION_SENT,
    WEBHOOK_DELIVERED,
    WEBHOOK_DISABLED,
    TASK_OPENED,
    TASK_CLOSED,
    INBOX_NOTIFICATION_CREATED,
)

# consumed: (source, event type)
USER_EVENTS = (("gateway", "user_created"), ("gateway", "user_updated"))
CUSTOMER_EVENTS = (
    ("customers", "customer_created"),
    ("customers", "customer_updated"),
    ("customers", "customer_deleted"),
)
CONSUMED = (
    *USER_EVENTS,
    *CUSTOMER_EVENTS,
    ("customers", "follow_up_due"),
    ("customers", "opportunity_stage_changed"),
    ("customers", "opportunity_won"),
    ("contracts", "contract_submitted"),
    ("contracts", "contract_approved"),
    ("contracts", "contract_activated"),
    ("contracts", "contract_amended"),
    ("contracts", "contract_expiring"),
    ("contracts", "contract_expired"),
    ("contracts", "contract_renewed"),
    ("contracts", "contract_terminated"),
    ("contracts", "contract_cancelled"),
    ("contracts", "service_request_created"),
    ("approvals", "approval_requested"),
    ("approvals", "approval_step_decided"),
    ("approvals", "approval_approved"),
    ("approvals", "approval_rejected"),
    ("approvals", "approval_withdrawn"),
    ("approvals", "approval_overdue"),
    ("billing", "invoice_issued"),
    ("billing", "invoice_overdue"),
    ("billing", "payment_received"),
    ("billing", "invoice_paid"),
    ("billing", "invoice_voided"),
    ("billing", "credit_note_issued"),
    ("inventory", "stock_received"),
    ("inventory", "stock_reserved"),
    ("inventory", "stock_released"),
    ("inventory", "stock_dispatched"),
    ("inventory", "stock_low"),
    ("inventory", "purchase_order_created"),
)


# Published payloads: the schemas dump them and declare them (CATALOGUE below); ``required``
# marks the keys every payload of the type carries.


class NotificationSentPayload(Schema):
    delivery_id = fields.Integer(required=True)
    channel = fields.String(required=True)  # email | sms
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    user_id = fields.Integer(required=True, allow_none=True)
    language = fields.String(required=True, allow_none=True)
    attempts = fields.Integer(required=True)


class WebhookDeliveredPayload(Schema):
    delivery_id = fields.Integer(required=True)
    webhook_id = fields.Integer(required=True)
    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    status_code = fields.Integer(required=True, allow_none=True)
    attempts = fields.Integer(required=True)


class WebhookDisabledPayload(Schema):
    webhook_id = fields.Integer(required=True)
    subscription_id = fields.Integer(required=True)
    url = fields.String(required=True)
    failures = fields.Integer(required=True)
    last_error = fields.String(required=True, allow_none=True)


class TaskPayload(Schema):
    """A task; ``closed_by_event`` and ``close_reason`` only once it was closed."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    assignee_id = fields.Integer(required=True, allow_none=True)
    assignee_role = fields.String(required=True, allow_none=True)
    due_date = fields.Date(required=True, allow_none=True)
    document_type = fields.String(required=True)
    document_id = fields.String(required=True)
    reference = fields.String(required=True, allow_none=True)
    status = fields.String(required=True)  # open | done | cancelled
    closed_by_event = fields.String(allow_none=True)
    close_reason = fields.String(allow_none=True)


class InboxNotificationCreatedPayload(Schema):
    """The new entry as ``list_notifications`` shows it to its recipient, plus ``user_id``."""

    id = fields.Integer(required=True)
    user_id = fields.Integer(required=True)
    event_type = fields.String(required=True)
    event_id = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    language = fields.String(required=True)
    document_type = fields.String(required=True, allow_none=True)
    document_id = fields.String(required=True, allow_none=True)
    created_at = fields.AwareDateTime(required=True)
    read_at = fields.AwareDateTime(required=True, allow_none=True)
    read = fields.Function(
        lambda n: n.get("read_at") is not None, required=True, metadata={"jsonschema": {"type": "boolean"}}
    )


notification_sent_payload = NotificationSentPayload()
webhook_delivered_payload = WebhookDeliveredPayload()
webhook_disabled_payload = WebhookDisabledPayload()
task_payload = TaskPayload()
inbox_notification_created_payload = InboxNotificationCreatedPayload()


_EXAMPLE_TASK = {
    "id": 31,
    "kind": "collection",
    "title": "Collect overdue invoice INV-2027-000123",
    "assignee_id": None,
    "assignee_role": "finance",
    "due_date": "2027-03-01",
    "document_type": "invoice",
    "document_id": "123",
    "reference": None,
    "status": "open",
}

CATALOGUE: tuple[EventSpec, ...] = (
    EventSpec(
        source=SOURCE,
        type=NOTIFICATION_SENT,
        payload=NotificationSentPayload,
        summary="An e-mail or SMS notification was handed to the mail or SMS gateway.",
        public=False,
    ),
    EventSpec(
        source=SOURCE,
        type=WEBHOOK_DELIVERED,
        payload=WebhookDeliveredPayload,
        summary="A webhook delivery was answered with a 2xx status by the subscriber's endpoint.",
        public=False,
    ),
    EventSpec(
        source=SOURCE,
        type=WEBHOOK_DISABLED,
        payload=WebhookDisabledPayload,
        summary=(
            "A webhook subscription was disabled after too many consecutive failed deliveries; "
            "its pending deliveries were failed."
        ),
        public=False,
    ),
    EventSpec(
        source=SOURCE,
        type=TASK_OPENED,
        payload=TaskPayload,
        summary=(
            "A task (collection, follow-up, approval, renewal, dispatch or service request) was "
            "opened for a user or a role by an event of another service."
        ),
        personal=("title",),
        examples=(_EXAMPLE_TASK,),
    ),
    EventSpec(
        source=SOURCE,
        type=TASK_CLOSED,
        payload=TaskPayload,
        summary="A task was closed: done or cancelled, by an event or by a user.",
        personal=("title",),
        examples=(
            {**_EXAMPLE_TASK, "status": "done", "closed_by_event": "invoice_paid", "close_reason": "paid"},
        ),
    ),
    EventSpec(
        source=SOURCE,
        type=INBOX_NOTIFICATION_CREATED,
        payload=InboxNotificationCreatedPayload,
        summary=(
            "A new entry landed in a user's inbox (one event per recipient); the gateway's "
            "notification stream pushes it to that user."
        ),
        public=False,
        personal=("title", "body"),
    ),
)
