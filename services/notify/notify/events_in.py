"""Consumed events: :func:`handle_event` runs one event handler's transaction — the event log,
then the event's handler from :data:`EVENT_HANDLERS` ((source, type) → a small function: read
copies of users and customers, notify's own events to webhooks only, everything else to
:func:`fan_out`). The fan-out schedules and cancels reminders, opens and closes tasks, notifies the
rule's recipients and queues webhook deliveries; :func:`fire_reminder` fans out one due reminder."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from crm_common.db import utcnow
from sqlalchemy import select, update

from . import (
    domain,
    event_log,
    notifying,
    payload_fields,
    public_events,
    readcopies,
    reminders,
    task_rules,
    tasks,
)
from . import events as ev
from . import models as m
from .payload_fields import as_date
from .store import R

# what an event handler does with one consumed event, in the handler's transaction
Handler = Callable[[Any, Mapping[str, Any], dt.datetime], dict[str, int]]


def _to_webhooks(uow, envelope: Mapping[str, Any], now: dt.datetime) -> dict[str, int]:
    """Notify's own events: the log and webhooks only, never its rules (``webhook_disabled``
    already told the admins)."""
    public = public_events.is_public(envelope.get("source"), envelope["type"])
    return {"webhooks": notifying.enqueue_webhooks(uow.session, envelope, now) if public else 0}


def _user_changed(uow, envelope: Mapping[str, Any], now: dt.datetime) -> dict[str, int]:
    """The gateway's user events: the read copy, then webhooks (no rules)."""
    readcopies.apply_user(uow.session, envelope)
    return _to_webhooks(uow, envelope, now)


def _customer_changed(uow, envelope: Mapping[str, Any], now: dt.datetime) -> dict[str, int]:
    """The customers service's customer events: the read copy, then the fan-out."""
    readcopies.apply_customer(uow.session, envelope)
    return fan_out(uow, envelope)


def _fan_out(uow, envelope: Mapping[str, Any], now: dt.datetime) -> dict[str, int]:
    """Every other event: the fan-out (:func:`fan_out`)."""
    return fan_out(uow, envelope)


# (source, type) → handler, for every event notify consumes; the catalogue's other public events
# fall back by source (:func:`handler_for`)
EVENT_HANDLERS: dict[tuple[str, str], Handler] = {
    **dict.fromkeys(ev.CONSUMED, _fan_out),
    **dict.fromkeys(ev.CUSTOMER_EVENTS, _customer_changed),
    **dict.fromkeys(ev.USER_EVENTS, _user_changed),
}


def handler_for(source: Any, event_type: str) -> Handler:
    """The handler of an event: its entry in :data:`EVENT_HANDLERS`, else notify's own events
    to webhooks only and any other public event to the fan-out."""
    handler = EVENT_HANDLERS.get((source, event_type))
    if handler is not None:
        return handler
    return _to_webhooks if source == ev.SOURCE else _fan_out


def handle_event(db, envelope: Mapping[str, Any]) -> dict[str, int]:
    """The one transaction of an event handler: the event log (public events), then the
    event's handler (read copies, the fan-out)."""
    with db.transaction() as uow:
        now = utcnow()
        event_log.record(uow.session, envelope, now)
        return handler_for(envelope.get("source"), envelope["type"])(uow, envelope, now)


def notify_kinds(event_type: str, payload: Mapping[str, Any]) -> list[str]:
    """The rule and task kinds an event stands for: its own type, and ``dispatch_approved`` for
    the approval of a dispatch request."""
    kinds = [event_type]
    if event_type == "approval_approved" and str(payload.get("document_type") or "") in (
        "dispatch_request",
        "dispatch",
    ):
        kinds.append("dispatch_approved")
    return kinds


def fan_out(
    uow, envelope: Mapping[str, Any], fired_reminder: bool = False, as_of: dt.date | None = None
) -> dict[str, int]:
    """Everything an event causes here. ``as_of``: the date of the daily job that fires it (a
    reminder); else the event's own ``as_of`` (a job's event) or the day it is handled — tasks
    and claimed reminders are dated by it, never by the clock of a back-dated run."""
    s = uow.session
    event_type = envelope["type"]
    event_id = str(envelope["event_id"])
    payload: dict[str, Any] = dict(envelope.get("payload") or {})
    now = utcnow()
    day = as_of or payload_fields.business_date(payload, now.date())
    out = {"notifications": 0, "deliveries": 0, "webhooks": 0, "tasks_opened": 0, "tasks_closed": 0}

    if not fired_reminder:
        _schedule_reminders(uow, event_type, payload, now)

    send = True
    key = None if fired_reminder else domain.reminder_key_of(event_type, payload)
    if key is not None:
        # the producer's own scan (contracts' expiry windows, approvals' SLA escalation) and
        # our schedule share one key: whichever comes first notifies, the other is a no-op
        send = reminders.claim_reminder(s, key, event_type, payload, now, day)

    for kind in notify_kinds(event_type, payload):
        # tasks
        opens, closes = task_rules.task_actions(kind, payload, day)
        for opening in opens:
            out["tasks_opened"] += tasks.open_tasks(uow, opening, event_id, kind)
        for closing in closes:
            out["tasks_closed"] += tasks.close_tasks(uow, closing, event_id, kind)
        if send:
            n, d = notifying.notify(
                uow, kind, event_id if kind == event_type else f"{event_id}:{kind}", payload
            )
            out["notifications"] += n
            out["deliveries"] += d

    if fired_reminder or public_events.is_public(envelope.get("source"), event_type):
        out["webhooks"] = notifying.enqueue_webhooks(s, envelope, now)
    return out


def _schedule_reminders(uow, event_type: str, payload: Mapping[str, Any], now: dt.datetime) -> None:
    """Reminders this event schedules or makes pointless; those due by the date of the daily job
    that published the event fire now."""
    s = uow.session
    scheduled = reminders.schedule(s, event_type, payload, now)
    # an event a daily job published for a date (an invoice a billing run issued): what our
    # own job for that date fires of it fires now, whether our job ran before or runs later
    job_day = payload_fields.job_date(payload)
    if job_day is None:
        return
    due = [r.key for r in scheduled if r.fire_on <= job_day]
    if due:
        rows = s.execute(select(m.reminders).where(R.key.in_(due), R.status == "scheduled")).mappings()
        for row in list(rows):
            fire_reminder(uow, row, job_day, now)


def fire_reminder(uow, row: Mapping[str, Any], as_of: dt.date, now: dt.datetime) -> bool:
    """Fire one scheduled reminder (its row claimed) for the job of ``as_of``: marked fired and
    fanned out, or cancelled when it came too late (an expiry window past the term's end)."""
    payload = dict(row["payload"] or {})
    stale = row["kind"] == "contract_expiring" and (as_date(payload.get("end_date")) or as_of) < as_of
    uow.session.execute(
        update(m.reminders)
        .where(R.key == row["key"])
        .values(status="cancelled" if stale else "fired", fired_at=now)
    )
    if stale:
        return False
    envelope = {
        "event_id": f"reminder:{row['key']}",
        "type": row["kind"],
        "source": ev.SOURCE,
        "occurred_at": now.isoformat(),
        "payload": payload,
    }
    fan_out(uow, envelope, fired_reminder=True, as_of=as_of)
    return True
