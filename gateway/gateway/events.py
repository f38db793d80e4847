"""Events the gateway publishes (exchange ``gateway.events``, routing key = type), in the standard
envelope ``{event_id, type, version, occurred_at, source, request_id, payload}``.

The gateway owns the user directory: every change to a user commits with its event through the
outbox (:mod:`gateway.users`). The services keep read copies of the directory from these events
(approvals, billing, contracts, customers, notify), so they are internal plumbing, not offered to
partners. ``CATALOGUE`` declares them for the event catalogue (:mod:`crm_common.catalogue`).
"""

from __future__ import annotations

from crm_common.catalogue import EventSpec
from marshmallow import Schema, fields

SOURCE = "gateway"

USER_CREATED = "user_created"
USER_UPDATED = "user_updated"
PUBLISHED = (USER_CREATED, USER_UPDATED)


class UserPayload(Schema):
    """A user as the directory shows it (``users.event_payload``): never the password hash."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    full_name = fields.String(required=True, allow_none=True)
    email = fields.String(required=True, allow_none=True)
    department = fields.String(required=True, allow_none=True)
    is_department_head = fields.Boolean(required=True)
    customer_id = fields.Integer(required=True, allow_none=True)  # portal users only
    active = fields.Boolean(required=True)
    language = fields.String(required=True)  # en | zh | tr | bg


# a portal user's username defaults to their e-mail address
_USER_PERSONAL = ("username", "full_name", "email")
_EXAMPLE_USER = {
    "id": 7,
    "username": "alice",
    "roles": ["sales_rep"],
    "full_name": "Alice Example",
    "email": "alice@example.com",
    "department": "sales-north",
    "is_department_head": False,
    "customer_id": None,
    "active": True,
    "language": "en",
}

CATALOGUE: tuple[EventSpec, ...] = (
    EventSpec(
        source=SOURCE,
        type=USER_CREATED,
        payload=UserPayload,
        summary="A user account was added (by an administrator or a portal invitation).",
        public=False,
        personal=_USER_PERSONAL,
        examples=(_EXAMPLE_USER,),
    ),
    EventSpec(
        source=SOURCE,
        type=USER_UPDATED,
        payload=UserPayload,
        summary=(
            "A user's directory fields changed (roles, name, e-mail, department, customer, "
            "active flag or language); the payload is the whole user after the change."
        ),
        public=False,
        personal=_USER_PERSONAL,
        examples=({**_EXAMPLE_USER, "roles": ["sales_rep", "sales_manager"]},),
    ),
)
