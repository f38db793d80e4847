"""Marshmallow schemas of the notify RPC payloads: what comes in (Create / Update / Filters,
unknown fields refused so a misspelt one is a 422 naming it) and what goes out."""

from __future__ import annotations

from crm_common.fields import AwareDateTime, Date
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from . import domain, task_rules


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


class EventName(fields.String):
    def _deserialize(self, value, attr, data, **kwargs):
        s = super()._deserialize(value, attr, data, **kwargs).strip()
        if s != "*" and not (s.replace("_", "").replace(".", "").isalnum() and s.isascii()):
            raise ValidationError("not an event type")
        if len(s) > 100:
            raise ValidationError("longer than 100 characters")
        return s


class WebhookCreate(Schema):
    url = fields.String(required=True, validate=validate.Length(max=2000))
    events = fields.List(EventName(), required=True, validate=validate.Length(min=1, max=100))
    secret = fields.String(required=True, validate=validate.Length(min=8, max=200))
    description = Text(allow_none=True, validate=validate.Length(max=300))


class WebhookUpdate(Schema):
    url = fields.String(validate=validate.Length(max=2000))
    events = fields.List(EventName(), validate=validate.Length(min=1, max=100))
    secret = fields.String(validate=validate.Length(min=8, max=200))
    description = Text(allow_none=True, validate=validate.Length(max=300))
    active = fields.Boolean()


class RotateSecret(Schema):
    # how long the previous secret stays valid: 0 (at once) to 7 days; default 24 h
    grace_seconds = fields.Integer(load_default=24 * 3600, validate=validate.Range(min=0, max=7 * 24 * 3600))


class TemplateText(Schema):
    subject = fields.String(validate=validate.Length(max=1000))
    body = fields.String(validate=validate.Length(max=20000))


class RuleUpdate(Schema):
    recipients = fields.List(fields.String(validate=validate.OneOf(domain.RECIPIENTS)))
    channels = fields.List(fields.String(validate=validate.OneOf(domain.CHANNELS)))
    template = fields.String(validate=validate.Length(min=1, max=100))
    templates = fields.Dict(
        keys=fields.String(validate=validate.OneOf(domain.LANGUAGES)),
        values=fields.Nested(TemplateText),
        allow_none=True,
    )
    enabled = fields.Boolean()
    description = Text(allow_none=True, validate=validate.Length(max=1000))

    @validates_schema
    def _templates_parse(self, data, **kwargs):
        errors = {k: v for k, v in domain.validate_rule(data).items() if k.startswith("templates")}
        if errors:
            raise ValidationError(errors)


class DocumentId(fields.String):
    """A document id as tasks store it (text); an integer id is taken as its digits."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class TaskFilters(Schema):
    status = fields.String(validate=validate.OneOf(task_rules.TASK_STATUSES))
    kind = fields.String(validate=validate.OneOf(task_rules.TASK_KINDS))
    assignee_id = fields.Integer(strict=True, validate=validate.Range(min=1))
    document_type = fields.String(validate=validate.Length(max=50))
    document_id = DocumentId(validate=validate.Length(max=64))


class ExpiresAt(fields.Field):
    """A timestamp with a zone (ISO 8601) or a date."""

    default_error_messages = {"invalid": "must be an ISO 8601 timestamp with a zone, or a date"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and len(value.strip()) == 10:
            return Date()._deserialize(value.strip(), attr, data, **kwargs)
        try:
            return AwareDateTime()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            raise self.make_error("invalid") from None


class PortalInvitation(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    full_name = Text(allow_none=True, validate=validate.Length(max=300))
    customer_name = Text(allow_none=True, validate=validate.Length(max=300))
    language = fields.String(
        load_default=domain.DEFAULT_LANGUAGE,
        allow_none=True,
        validate=validate.OneOf([*domain.LANGUAGES, *(lang.upper() for lang in domain.LANGUAGES)]),
    )
    accept_url = fields.Url(
        required=True,
        relative=False,
        require_tld=False,
        schemes={"http", "https"},
        validate=validate.Length(max=2000),
    )
    expires_at = ExpiresAt(required=True)


class TaskUpdate(Schema):
    status = fields.String(validate=validate.OneOf(task_rules.TASK_STATUSES))
    assignee_id = fields.Integer(strict=True, validate=validate.Range(min=1), allow_none=True)
    due_date = Date(allow_none=True)
    title = Text(validate=validate.Length(min=1, max=500))
    notes = Text(allow_none=True, validate=validate.Length(max=5000))
    # closing an unpaid invoice's collection task (finance, admins): why, and a note
    close_reason = fields.String(
        allow_none=True, validate=validate.OneOf(task_rules.COLLECTION_CLOSE_REASONS)
    )
    note = Text(allow_none=True, validate=validate.Length(max=2000))


class NotificationOut(Schema):
    id = fields.Integer()
    event_type = fields.String()
    event_id = fields.String()
    title = fields.String()
    body = fields.String()
    language = fields.String()
    document_type = fields.String(allow_none=True)
    document_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
    read = fields.Function(lambda n: n["read_at"] is not None)


class TaskOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    notes = fields.String(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    assignee_role = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    document_type = fields.String()
    document_id = fields.String()
    reference = fields.String(allow_none=True)
    status = fields.String()
    opened_by_event = fields.String(allow_none=True)
    closed_by_event = fields.String(allow_none=True)
    close_reason = fields.String(allow_none=True)
    close_note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)


class WebhookOut(Schema):
    id = fields.Integer()
    url = fields.String()
    events = fields.List(fields.String())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    consecutive_failures = fields.Integer()
    disabled_at = fields.AwareDateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    secret_hint = fields.Function(lambda w: "…" + w["secret"][-4:])
    # the first failed attempt since the last success (None: healthy)
    failing_since = fields.AwareDateTime(allow_none=True)
    secret_rotated_at = fields.AwareDateTime(allow_none=True)
    # until then deliveries carry a second signature made with the previous secret
    previous_secret_expires_at = fields.AwareDateTime(allow_none=True)


class AttemptOut(Schema):
    attempt = fields.Integer()
    at = fields.AwareDateTime()
    ok = fields.Boolean()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer(allow_none=True)


class DeliveryOut(Schema):
    id = fields.Integer()
    webhook_id = fields.Integer(allow_none=True)
    channel = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    status_code = fields.Integer(attribute="last_status_code", allow_none=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = fields.AwareDateTime(allow_none=True)
    first_attempt_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    log = fields.List(fields.Nested(AttemptOut))


class RuleOut(Schema):
    event_type = fields.String()
    recipients = fields.List(fields.String())
    channels = fields.List(fields.String())
    template = fields.String()
    templates = fields.Raw(allow_none=True)
    enabled = fields.Boolean()
    description = fields.String(allow_none=True)
    customised = fields.Boolean()


webhook_create = WebhookCreate()
webhook_update = WebhookUpdate()
rotate_secret = RotateSecret()
rule_update = RuleUpdate()
task_filters = TaskFilters()
task_update = TaskUpdate()
portal_invitation = PortalInvitation()
notification_out = NotificationOut()
task_out = TaskOut()
webhook_out = WebhookOut()
delivery_out = DeliveryOut()
rule_out = RuleOut()
