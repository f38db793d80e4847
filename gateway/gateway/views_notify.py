"""Response shapes of the notify routes (the in-app inbox, tasks, webhooks and their delivery
log, notification rules), as the ``notify`` service builds them (``notify.schemas``:
``NotificationOut``, ``TaskOut``, ``WebhookOut``, ``DeliveryOut``, ``RuleOut``).

Documentation only: the routes declare them with ``responses={200: {"model": ...}}`` and pass the
service's JSON through unfiltered. Dates and timestamps are ISO 8601 strings; a field typed
``X | None`` is always present and may be null."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from .schemas import Page

IsoDay = Annotated[str, Field(description="ISO 8601 date", examples=["2031-01-31"])]
IsoTime = Annotated[str, Field(description="ISO 8601 timestamp", examples=["2031-01-31T09:00:00+00:00"])]


# --------------------------------------------------------------------------------------
# Notifications
# --------------------------------------------------------------------------------------


class NotificationPublic(BaseModel):
    id: int
    event_type: str = Field(examples=["invoice_issued"])
    event_id: str
    title: str
    body: str
    language: str
    document_type: str | None
    document_id: str | None
    created_at: IsoTime
    read_at: IsoTime | None
    read: bool


class NotificationPage(Page[NotificationPublic]):
    unread: int = Field(description="the caller's unread count, whatever the filter")


class MarkedRead(BaseModel):
    marked: int = Field(description="notifications marked read")


# --------------------------------------------------------------------------------------
# Tasks
# --------------------------------------------------------------------------------------


class TaskPublic(BaseModel):
    id: int
    kind: Literal["collection", "follow_up", "approval", "renewal", "dispatch", "service_request"]
    title: str
    notes: str | None
    assignee_id: int | None
    assignee_role: str | None
    due_date: IsoDay | None
    document_type: str
    document_id: str
    reference: str | None
    status: Literal["open", "done", "cancelled"]
    opened_by_event: str | None
    closed_by_event: str | None
    close_reason: str | None = Field(
        None,
        description="paid / voided (billing closed it), or the reason finance gave (dispute, write_off, ...)",
    )
    close_note: str | None = None
    created_at: IsoTime
    updated_at: IsoTime
    closed_at: IsoTime | None


# --------------------------------------------------------------------------------------
# Webhooks
# --------------------------------------------------------------------------------------


class WebhookPublic(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    active: bool
    consecutive_failures: int
    disabled_at: IsoTime | None
    disabled_reason: str | None
    created_at: IsoTime
    secret_hint: str = Field(description="the secret's last 4 characters", examples=["…t-42"])
    failing_since: IsoTime | None = Field(
        None, description="the first failed attempt since the last successful one (null: healthy)"
    )
    secret_rotated_at: IsoTime | None = None
    previous_secret_expires_at: IsoTime | None = Field(
        None, description="until then deliveries carry a second v1 signature made with the previous secret"
    )


class WebhookRotated(WebhookPublic):
    secret: str = Field(description="the new secret: shown this once", examples=["whsec_3q2+7w..."])


class PingResult(BaseModel):
    delivery_id: int = Field(description="the ping's entry in the webhook's delivery log")
    ok: bool = Field(description="the endpoint answered 2xx")
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryAttempt(BaseModel):
    attempt: int
    at: IsoTime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int | None


class DeliveryPublic(BaseModel):
    id: int
    webhook_id: int | None
    channel: str = Field(examples=["webhook"])
    event_id: str
    event_type: str
    status: Literal["pending", "sent", "failed"]
    attempts: int
    status_code: int | None = Field(description="of the last attempt")
    last_error: str | None
    next_attempt_at: IsoTime | None
    first_attempt_at: IsoTime | None = Field(
        None, description="start of the 72-hour retry window (reset by a redelivery)"
    )
    created_at: IsoTime
    sent_at: IsoTime | None
    log: list[DeliveryAttempt]


# --------------------------------------------------------------------------------------
# The event log (GET /api/v1/events)
# --------------------------------------------------------------------------------------


class EventEnvelope(BaseModel):
    """A public event as webhooks receive it."""

    event_id: str
    type: str = Field(examples=["invoice_issued"])
    version: int
    occurred_at: IsoTime | None
    source: str = Field(examples=["billing"])
    payload: dict[str, Any] = Field(description="the type's schema: GET /api/v1/event-types")


class EventLogPage(Page[EventEnvelope]):
    next_after: str | None = Field(description="pass as ?after= for the next page (null: none on this page)")
    has_more: bool


# --------------------------------------------------------------------------------------
# Notification rules
# --------------------------------------------------------------------------------------


class RuleTemplate(BaseModel):
    subject: str | None = None
    body: str | None = None


class RulePublic(BaseModel):
    event_type: str
    recipients: list[str]
    channels: list[Literal["inbox", "email", "sms"]]
    template: str
    templates: dict[str, RuleTemplate] | None = Field(description="per-language overrides")
    enabled: bool
    description: str | None
    customised: bool = Field(description="false: the built-in default")


TaskPage = Page[TaskPublic]
WebhookPage = Page[WebhookPublic]
DeliveryPage = Page[DeliveryPublic]
RulePage = Page[RulePublic]
