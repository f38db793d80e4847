"""Events the approvals service publishes (exchange ``approvals.events``, routing key = type) and
consumes. Every event leaves through the transactional outbox in the envelope ``{event_id, type,
version, occurred_at, source, request_id, payload}``; amounts are strings, timestamps ISO 8601 UTC.

Published payloads (every one carries ``id`` (the approval request), ``document_type``,
``document_id``, ``submitter``, ``summary``):

* ``approval_requested``: a step starts waiting — ``step`` {index, name, mode}, ``users`` (ids who
  may decide), ``roles`` (any holder may decide), ``department_head``, ``amount``, ``currency``,
  ``department``, ``flow`` {id, version, name}, ``previous_request_id``, ``due_at``
* ``approval_step_decided``: ``step`` {index, name, mode, status}, ``decision``, ``user``,
  ``comment``, ``decided_at``
* ``approval_approved``: the last step approved — ``user``, ``comment``, ``decided_at``
* ``approval_rejected``: back to the submitter — ``step``, ``user``, ``comment``, ``decided_at``
* ``approval_withdrawn``: ``user``, ``comment``
* ``approval_overdue``: ``step``, ``users``, ``roles``, ``pending_since``, ``due_at``, ``sla_hours``

Consumed: ``gateway.user_created`` / ``user_updated`` (users read copy), every registered
``<source>.<document_type>_submitted`` (see :mod:`approvals.registry`) and
``inventory.trade_in_decided`` (a trade-in decided directly: its pending request is withdrawn,
``approval_withdrawn`` with ``reason: "decided_elsewhere"`` and ``decision``).

``approval_step_decided`` (approving) and ``approval_approved`` of a ``trade_in`` also carry
``approved_value`` (the valuation decided, default the requested amount) and ``currency``.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields

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
