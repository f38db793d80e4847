"""Events the notify service consumes and publishes (exchange ``notify.events``, routing key =
type), in the standard envelope ``{event_id, type, version, occurred_at, source, request_id,
payload}``. Consumed payloads are read tolerantly (``.get`` with aliases): the fields relied on
are listed in the README."""

from __future__ import annotations

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


class NotificationSentPayload(Schema):
    delivery_id = fields.Integer()
    channel = fields.String()  # email | sms
    event_id = fields.String()
    event_type = fields.String()
    user_id = fields.Integer(allow_none=True)
    language = fields.String(allow_none=True)
    attempts = fields.Integer()


class WebhookDeliveredPayload(Schema):
    delivery_id = fields.Integer()
    webhook_id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    status_code = fields.Integer(allow_none=True)
    attempts = fields.Integer()


class WebhookDisabledPayload(Schema):
    webhook_id = fields.Integer()
    subscription_id = fields.Integer()
    url = fields.String()
    failures = fields.Integer()
    last_error = fields.String(allow_none=True)


class TaskPayload(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    assignee_role = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    document_type = fields.String()
    document_id = fields.String()
    reference = fields.String(allow_none=True)
    status = fields.String()
    closed_by_event = fields.String(allow_none=True)
    close_reason = fields.String(allow_none=True)


class InboxNotificationCreatedPayload(Schema):
    """The new entry as ``list_notifications`` shows it to its recipient, plus ``user_id``."""

    id = fields.Integer()
    user_id = fields.Integer()
    event_type = fields.String()
    event_id = fields.String()
    title = fields.String()
    body = fields.String()
    language = fields.String()
    document_type = fields.String(allow_none=True)
    document_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
    read = fields.Function(lambda n: n.get("read_at") is not None)


notification_sent_payload = NotificationSentPayload()
webhook_delivered_payload = WebhookDeliveredPayload()
webhook_disabled_payload = WebhookDisabledPayload()
task_payload = TaskPayload()
inbox_notification_created_payload = InboxNotificationCreatedPayload()
