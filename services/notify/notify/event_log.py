"""The event log: every public event of the catalogue notify received, kept
:data:`RETENTION_DAYS` days, so a partner that was down catches up (``list_events``,
``GET /api/v1/events?after=``).

Order: the order the events arrived here (``event_log.id``), the cursor ``after`` is an event id
(the last one the caller has) or an ISO time (events that occurred after it).

Scope (who reads what):

* ``admin``, ``finance``, ``sales_manager``: every event;
* ``sales_rep``: events about their own customers — the payload's customer (``customer_id`` or
  ``customer.id``; the ``id`` of a ``customer_*`` event) is one whose owner in notify's read copy
  of customers is the caller, or the payload's ``owner_id`` is the caller; events naming neither
  are not shown;
* everyone else (approver, warehouse, readonly, portal users): 403.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from . import domain, payload_fields, public_events
from . import models as m
from .exceptions import PermissionDenied, invalid
from .store import insert_ignore, page_args, page_of, run_page

RETENTION_DAYS = 30
ALL_EVENTS_ROLES = ("admin", "finance", "sales_manager")
OWN_CUSTOMERS_ROLES = ("sales_rep",)
L, C = m.event_log.c, m.customers.c


def envelope_body(envelope: Mapping[str, Any]) -> str:
    """The envelope as partners get it (webhook body, event log): sorted keys, compact JSON."""
    return json.dumps(
        {
            "event_id": envelope["event_id"],
            "type": envelope["type"],
            "version": envelope.get("version", 1),
            "occurred_at": envelope.get("occurred_at"),
            "source": envelope.get("source"),
            "payload": envelope.get("payload") or {},
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
        default=str,
    )


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, str) and value:
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    return None


def customer_of(event_type: str, payload: Mapping[str, Any]) -> int | None:
    """The customer an event is about: its ``customer_id`` (or ``customer.id``); for the
    customers service's own ``customer_*`` events their ``id``."""
    found = domain.customer_of(payload)
    if found is None and event_type.startswith("customer_"):
        ids = payload_fields.ints(payload.get("id"))
        found = ids[0] if ids else None
    return found


def record(session: Session, envelope: Mapping[str, Any], now: dt.datetime) -> bool:
    """Keep a public event (once per event id); False when it is not public or already kept."""
    source, event_type = envelope.get("source"), envelope["type"]
    if not public_events.is_public(source, event_type):
        return False
    payload = envelope.get("payload") or {}
    return insert_ignore(
        session,
        m.event_log,
        {
            "event_id": str(envelope["event_id"])[:100],
            "type": event_type,
            "source": str(source),
            "version": int(envelope.get("version") or 1),
            "occurred_at": _time(envelope.get("occurred_at")),
            "recorded_at": now,
            "customer_id": customer_of(event_type, payload),
            "owner_id": domain.owner_of(payload),
            "envelope": envelope_body(envelope),
        },
    )


def purge(db, as_of: dt.date) -> int:
    """The daily job: drop what was recorded more than :data:`RETENTION_DAYS` days before
    ``as_of`` (the job's date, not the clock)."""
    cutoff = dt.datetime.combine(as_of - dt.timedelta(days=RETENTION_DAYS), dt.time(), tzinfo=dt.UTC)
    with db.transaction() as uow:
        return int(uow.session.execute(delete(m.event_log).where(L.recorded_at < cutoff)).rowcount or 0)


def _scope(caller: CallerContext):
    """The filter of the caller's events (None: all); 403 for roles without a scope."""
    if caller.has_any(ALL_EVENTS_ROLES):
        return None
    if caller.has_any(OWN_CUSTOMERS_ROLES) and caller.user_id is not None and not caller.is_system:
        me = int(caller.user_id)
        mine = select(C.id).where(C.owner_id == me)
        return or_(L.owner_id == me, L.customer_id.in_(mine))
    raise PermissionDenied(
        "The event log is for admins, finance, sales managers and sales reps (their customers)",
        {"required_roles": [*ALL_EVENTS_ROLES, *OWN_CUSTOMERS_ROLES], "roles": list(caller.roles)},
    )


def _after(session: Session, after: Any):
    """The cursor's condition: after an event id (by arrival) or after an ISO time (occurred)."""
    if after in (None, ""):
        return None
    text = str(after).strip()
    row = session.execute(select(L.id).where(L.event_id == text)).first()
    if row is not None:
        return L.id > row.id
    when = _time(text) if text[:1].isdigit() else None
    if when is None:
        raise invalid({"after": ["neither an event id in the log (the last 30 days) nor an ISO 8601 time"]})
    return L.occurred_at > when


def list_events(
    db, caller: CallerContext, after: Any = None, event_type: Any = None, page: Any = 1, page_size: Any = 100
) -> dict:
    """Public events in the order they arrived, after the cursor, within the caller's scope.
    ``next_after``: the event id to pass as ``after`` for the next page (None when none)."""
    scope = _scope(caller)
    page, page_size = page_args(page, page_size)
    types = [t.strip() for t in str(event_type).split(",") if t.strip()] if event_type else []
    unknown = [t for t in types if t not in public_events.public_types()]
    if unknown:
        raise invalid({"type": [f"not a public event type: {', '.join(unknown)}"]})
    with db.read() as s:
        query = select(m.event_log).order_by(L.id)
        for condition in (scope, _after(s, after), L.type.in_(types) if types else None):
            if condition is not None:
                query = query.where(condition)
        rows, total = run_page(s, query, page, page_size)
    items = [json.loads(r["envelope"]) for r in rows]
    more = total > page * page_size
    return page_of(items, total, page, page_size, next_after=items[-1]["event_id"] if items else None,
                   has_more=more)  # fmt: skip
