"""Request shapes of the notify routes (inbox, tasks, webhooks, notification rules). The gateway
checks shape and types; the notify service checks the rules (URL targets, template syntax,
record scopes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from .schemas import IsoDate, ResourceId, Strict

# = notify's domain.TASK_KINDS (gateway/tests/test_task_kinds.py fails on drift)
TaskKind = Literal["collection", "follow_up", "approval", "renewal", "dispatch", "service_request"]
# = notify's domain.COLLECTION_CLOSE_REASONS
CollectionCloseReason = Literal["dispute", "write_off", "payment_arranged", "other"]
TaskStatus = Literal["open", "done", "cancelled"]
EventType = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(\*|[a-z][a-z0-9_.]{0,99})$")]
Channel = Literal["inbox", "email", "sms"]
Recipient = Literal[
    "owner", "contacts", "approvers", "submitter", "finance", "warehouse", "admins", "assignee"
]


class TaskUpdate(Strict):
    status: TaskStatus | None = None
    assignee_id: ResourceId | None = Field(None, description="managers and admins only")
    due_date: IsoDate | None = None
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)] | None = (
        None
    )
    notes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)] | None = None
    close_reason: CollectionCloseReason | None = Field(
        None,
        description="closing an unpaid invoice's collection task (finance, admins only; others get 409): why",
    )
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = Field(
        None, description="with the status change closing the task: a note (required for close_reason other)"
    )


class WebhookCreate(Strict):
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] = Field(
        examples=["https://partner.example.com/hooks/crm"]
    )
    events: list[EventType] = Field(
        min_length=1, max_length=100, examples=[["invoice_issued", "customer_created"]]
    )
    secret: Annotated[str, StringConstraints(min_length=8, max_length=200)] = Field(
        description="shared secret of the HMAC-SHA256 signature (header X-CRM-Signature: t=<unix>,v1=<hex>)"
    )
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None


class WebhookUpdate(Strict):
    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)] | None = None
    events: list[EventType] | None = Field(None, min_length=1, max_length=100)
    secret: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    active: bool | None = Field(None, description="true re-enables a webhook disabled after failures")


class RotateSecret(Strict):
    grace_seconds: int | None = Field(
        None,
        ge=0,
        le=7 * 24 * 3600,
        description="how long the previous secret stays valid (default 86400 = 24 h; 0: at once)",
    )


class TemplateText(Strict):
    subject: Annotated[str, StringConstraints(max_length=1000)] | None = None
    body: Annotated[str, StringConstraints(max_length=20000)] | None = None


class RuleUpdate(Strict):
    recipients: list[Recipient] | None = None
    channels: list[Channel] | None = None
    template: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    templates: dict[Literal["en", "zh", "tr", "bg"], TemplateText] | None = Field(
        None, description="per-language overrides (Jinja2, sandboxed); missing ones fall back to the built-in"
    )
    enabled: bool | None = None
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] | None = None
