"""Local read copies of other services' data, fed by their events (a service never reads
another's database). Events of one record can arrive out of order (``user_created`` and
``user_updated`` travel on different queues), so each copied row remembers the ``occurred_at``
of the newest event applied (column ``event_at``) and an older event changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from .db import utcnow

# a user the copy has not seen before: no roles, active, not a department head
USER_DEFAULTS: dict[str, Any] = {"roles": [], "active": True, "is_department_head": False}


def event_time(envelope: Mapping[str, Any]) -> dt.datetime:
    """The event's ``occurred_at`` as an aware UTC timestamp (now, when it has none)."""
    raw = envelope.get("occurred_at")
    try:
        at = dt.datetime.fromisoformat(raw) if raw else utcnow()
    except (TypeError, ValueError):
        at = utcnow()
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)


def user_values(payload: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The fields of a gateway user event a copy keeps: only those the event carries (absent
    ones keep their value), roles as a list of strings, no ``None`` for the two flags."""
    values = {k: payload[k] for k in fields if k in payload}
    if "roles" in values:
        values["roles"] = [str(r) for r in values["roles"] or []]
    for flag in ("active", "is_department_head"):
        if flag in values and values[flag] is None:
            del values[flag]
    return values


def apply_newer(
    session: Session,
    table: Table,
    row_id: Any,
    values: Mapping[str, Any],
    occurred: dt.datetime,
    defaults: Mapping[str, Any] | None = None,
) -> str:
    """Insert or update the copied row ``id = row_id`` with ``values`` unless a newer event was
    applied already. Returns ``"created"``, ``"updated"`` or ``"stale"``."""
    current = session.execute(select(table.c.event_at).where(table.c.id == row_id)).first()
    if current is None:
        session.execute(insert(table).values(id=row_id, event_at=occurred, **{**(defaults or {}), **values}))
        return "created"
    if current.event_at > occurred:
        return "stale"
    session.execute(update(table).where(table.c.id == row_id).values(event_at=occurred, **values))
    return "updated"


SCOPE_FIELDS = ("department", "roles", "active")


def apply_user_event(
    session: Session, table: Table, envelope: Mapping[str, Any], fields: Iterable[str] = SCOPE_FIELDS
) -> str:
    """A gateway ``user_created`` / ``user_updated`` event applied to a users copy keeping
    ``fields`` (default: what a department scope needs): a blank department is none, an older
    event than the one applied changes nothing. Returns ``created`` / ``updated`` / ``stale``;
    a payload without an integer ``id`` raises ``ValueError`` (the handler's dead-letter path)."""
    payload = envelope.get("payload") or {}
    user_id = payload.get("id") if isinstance(payload, Mapping) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise ValueError("user event without an integer id")
    fields = tuple(fields)
    values = user_values(payload, fields)
    if "department" in values:
        values["department"] = str(values["department"] or "").strip() or None
    defaults = {k: v for k, v in USER_DEFAULTS.items() if k in fields}
    return apply_newer(session, table, user_id, values, event_time(envelope), defaults)
