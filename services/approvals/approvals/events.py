"""Events the approvals service publishes (exchange ``approvals.events``, routing key = type) and
consumes. Every event leaves through the transactional outbox in the envelope ``{event_id, type,
version, occurred_at, source, request_id, payload}``; amounts are decimal strings, timestamps
ISO 8601 UTC.

``CATALOGUE`` declares each published payload (:mod:`crm_common.catalogue`; the generated
reference is ``docs/events/``): every one is the request (:class:`RequestPayload`, built by
:func:`approvals.usecases.event_base`) plus what the event adds. ``approval_step_decided``
(approving) and ``approval_approved`` of a ``trade_in`` also carry ``approved_value`` (the
valuation decided, default the requested amount).

Consumed: ``gateway.user_created`` / ``user_updated`` (users read copy), every registered
``<source>.<document_type>_submitted`` (see :mod:`approvals.registry`) and
``inventory.trade_in_decided`` (a trade-in decided directly: its pending request is withdrawn,
``approval_withdrawn`` with ``reason: "decided_elsewhere"`` and ``decision``).
"""

from __future__ import annotations

from crm_common.catalogue import EventSpec
from crm_common.fields import AwareDateTime
from crm_common.money import Money
from marshmallow import EXCLUDE, Schema, fields, validate

from . import domain

SOURCE = "approvals"

APPROVAL_REQUESTED = "approval_requested"
APPROVAL_STEP_DECIDED = "approval_step_decided"
APPROVAL_APPROVED = "approval_approved"
APPROVAL_REJECTED = "approval_rejected"
APPROVAL_WITHDRAWN = "approval_withdrawn"
APPROVAL_OVERDUE = "approval_overdue"

PUBLISHED = (
    APPROVAL_REQUESTED,
    APPROVAL_STEP_DECIDED,
    APPROVAL_APPROVED,
    APPROVAL_REJECTED,
    APPROVAL_WITHDRAWN,
    APPROVAL_OVERDUE,
)

GATEWAY = "gateway"
USER_CREATED = "user_created"
USER_UPDATED = "user_updated"
# a trade-in decided directly (not through its request): the pending request is withdrawn
INVENTORY = "inventory"
TRADE_IN_DECIDED = "trade_in_decided"


class UserEventPayload(Schema):
    """``gateway.user_created`` / ``user_updated``: the fields kept; others ignored."""

    class Meta:
        unknown = EXCLUDE

    id = fields.Integer(required=True)
    username = fields.String(allow_none=True)
    full_name = fields.String(allow_none=True)
    roles = fields.List(fields.String(), allow_none=True)
    department = fields.String(allow_none=True)
    is_department_head = fields.Boolean(allow_none=True)
    active = fields.Boolean(allow_none=True)
    language = fields.String(allow_none=True)


user_event_payload = UserEventPayload()


# -- published payloads -------------------------------------------------------------------------

# a decided step: still pending (an ``all`` step waiting for more approvers), approved, rejected
DECIDED_STEP_STATUSES = (domain.STEP_PENDING, domain.STEP_APPROVED, domain.STEP_REJECTED)


class DocumentId(fields.Field):
    """The document's id in its service: an integer, or a string where the service's ids are
    not numbers (``"CN-9"``)."""

    def __init__(self, **kwargs):
        schema = {"type": ["integer", "string"]}
        description = "the document's id in its service (an integer, or a string id)"
        super().__init__(metadata={"jsonschema": schema, "description": description}, **kwargs)


class RequestPayload(Schema):
    """What every approvals event carries: the request (:func:`approvals.usecases.event_base`)."""

    id = fields.Integer(required=True, metadata={"description": "the approval request"})
    approval_id = fields.Integer(required=True, metadata={"description": "= id"})
    document_type = fields.String(required=True, metadata={"description": "contract, trade_in, …"})
    document_id = DocumentId(required=True)
    document_number = fields.String(
        required=True, allow_none=True, metadata={"description": "the number people know it by"}
    )
    source = fields.String(
        required=True, allow_none=True, metadata={"description": "the submitting service (null: not named)"}
    )
    submitter = fields.Integer(required=True, allow_none=True, metadata={"description": "a user id"})
    summary = fields.String(required=True, allow_none=True)
    amount = Money(required=True, allow_none=True, allow_negative=True)
    currency = fields.String(required=True, allow_none=True)
    department = fields.String(required=True, allow_none=True)


class StepPayload(Schema):
    index = fields.Integer(required=True, metadata={"description": "1-based"})
    name = fields.String(required=True)
    mode = fields.String(required=True, validate=validate.OneOf(domain.MODES))


class DecidedStepPayload(StepPayload):
    status = fields.String(required=True, validate=validate.OneOf(DECIDED_STEP_STATUSES))


class RejectedStepPayload(Schema):
    index = fields.Integer(required=True)
    name = fields.String(required=True)


class FlowPayload(Schema):
    id = fields.Integer(required=True, allow_none=True, metadata={"description": "null: the default flow"})
    version = fields.Integer(required=True, allow_none=True)
    name = fields.String(required=True, allow_none=True)


def _user_ids(description: str) -> fields.List:
    return fields.List(fields.Integer(), required=True, metadata={"description": description})


def _roles() -> fields.List:
    return fields.List(fields.String(), required=True, metadata={"description": "any holder may decide"})


class ApprovalRequestedPayload(RequestPayload):
    step = fields.Nested(StepPayload, required=True)
    users = _user_ids("who may decide (in ``all`` mode every one must)")
    roles = _roles()
    department_head = fields.Boolean(required=True)
    flow = fields.Nested(FlowPayload, required=True)
    previous_request_id = fields.Integer(
        required=True, allow_none=True, metadata={"description": "the document's earlier request"}
    )
    due_at = AwareDateTime(required=True, allow_none=True)


class DecisionPayload(RequestPayload):
    """Who decided: the request plus the decider."""

    user = fields.Integer(required=True, metadata={"description": "the deciding user's id"})
    username = fields.String(required=True, allow_none=True)
    comment = fields.String(required=True, allow_none=True)
    decided_at = AwareDateTime(required=True)


class ApprovedPayload(DecisionPayload):
    approved_value = Money(
        allow_none=True,
        allow_negative=True,
        metadata={"description": "trade_in only: the valuation decided (default the amount)"},
    )


class StepDecidedPayload(ApprovedPayload):
    step = fields.Nested(DecidedStepPayload, required=True)
    decision = fields.String(required=True, validate=validate.OneOf(domain.DECISIONS))


class RejectedPayload(DecisionPayload):
    step = fields.Nested(RejectedStepPayload, required=True)


class WithdrawnPayload(RequestPayload):
    user = fields.Integer(required=True, allow_none=True, metadata={"description": "null: decided elsewhere"})
    comment = fields.String(required=True, allow_none=True)
    reason = fields.String(
        validate=validate.OneOf(("decided_elsewhere",)),
        metadata={"description": "only when the document was decided directly"},
    )
    decision = fields.String(
        validate=validate.OneOf(("approved", "rejected", "decided")),
        metadata={"description": "with reason: what the document's service decided"},
    )


class OverduePayload(RequestPayload):
    step = fields.Nested(StepPayload, required=True)
    users = _user_ids("who may decide")
    roles = _roles()
    pending_since = AwareDateTime(required=True)
    due_at = AwareDateTime(required=True, allow_none=True)
    sla_hours = fields.Integer(required=True)


# approvers' names, and the summary (it often names the customer), are personal data
_PERSONAL = ("summary",)
_DECIDER = ("summary", "username")

CATALOGUE: tuple[EventSpec, ...] = (
    EventSpec(
        SOURCE,
        APPROVAL_REQUESTED,
        ApprovalRequestedPayload,
        "A step of an approval request starts waiting for its approvers (also the first step).",
        personal=_PERSONAL,
    ),
    EventSpec(
        SOURCE,
        APPROVAL_STEP_DECIDED,
        StepDecidedPayload,
        "An approver approved or rejected a step of an approval request.",
        personal=_DECIDER,
    ),
    EventSpec(
        SOURCE,
        APPROVAL_APPROVED,
        ApprovedPayload,
        "A document was approved: the last step of its approval request was approved.",
        personal=_DECIDER,
    ),
    EventSpec(
        SOURCE,
        APPROVAL_REJECTED,
        RejectedPayload,
        "A document was rejected: a step of its approval request was rejected.",
        personal=_DECIDER,
    ),
    EventSpec(
        SOURCE,
        APPROVAL_WITHDRAWN,
        WithdrawnPayload,
        "A pending approval request was withdrawn, by its submitter or because its document was "
        "decided directly.",
        personal=_PERSONAL,
    ),
    EventSpec(
        SOURCE,
        APPROVAL_OVERDUE,
        OverduePayload,
        "A step of an approval request has waited past its SLA (published once per step).",
        personal=_PERSONAL,
    ),
)
