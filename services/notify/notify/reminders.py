"""Reminder rows in the event handler's transaction: storing the ones an event schedules and
cancelling the ones it makes pointless (the rules: :mod:`notify.domain`), and claiming one as fired
so that a reminder notifies once, whether our schedule or the producer's own scan fires it first.
Firing the due ones is :mod:`notify.events_in` (one) and :mod:`notify.daily` (the daily job)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from crm_common.db import dumps
from sqlalchemy import update
from sqlalchemy.orm import Session

from . import domain
from . import models as m
from .store import R, insert_ignore


def claim_reminder(
    session: Session, key: str, kind: str, payload: Mapping[str, Any], now, on: dt.date | None = None
) -> bool:
    """Mark a reminder fired (on ``on``, default the day of ``now``); False when it already had
    (whoever scheduled it)."""
    if insert_ignore(
        session,
        m.reminders,
        {
            "key": key,
            "kind": kind,
            "fire_on": on or now.date(),
            "payload": json.loads(dumps(dict(payload))),
            "status": "fired",
            "fired_at": now,
            "created_at": now,
        },
    ):
        return True
    result = session.execute(
        update(m.reminders)
        .where(R.key == key, R.status.in_(("scheduled", "cancelled")))
        .values(status="fired", fired_at=now)
    )
    return bool(result.rowcount)


def schedule(session: Session, event_type: str, payload: Mapping[str, Any], now: dt.datetime) -> list:
    """Store the reminders an event schedules (each key once) and cancel the scheduled ones it
    makes pointless; the scheduled ones (:class:`notify.domain.Reminder`)."""
    scheduled = domain.reminders_for(event_type, payload, now)
    for reminder in scheduled:
        insert_ignore(
            session,
            m.reminders,
            {
                "key": reminder.key,
                "kind": reminder.kind,
                "fire_on": reminder.fire_on,
                "payload": json.loads(dumps(reminder.payload)),
                "status": "scheduled",
                "created_at": now,
            },
        )
    for key in domain.reminder_cancellations(event_type, payload):
        match = R.key.startswith(key, autoescape=True) if key.endswith(":") else R.key == key
        session.execute(update(m.reminders).where(match, R.status == "scheduled").values(status="cancelled"))
    return scheduled
