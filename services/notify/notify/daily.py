"""The daily jobs: fire every scheduled reminder due on or before the job's date (missed days
caught up, each reminder once, ``SKIP LOCKED`` on PostgreSQL), and A-level customers' birthdays to
their owners, once a year each, the last few days caught up. Each fires through
:func:`notify.events_in.fan_out` in its own transaction."""

from __future__ import annotations

import datetime as dt

from crm_common.db import is_sqlite, utcnow
from sqlalchemy import select

from . import domain
from . import models as m
from .events_in import fan_out, fire_reminder
from .reminders import claim_reminder
from .store import C, R

BIRTHDAY_CATCH_UP_DAYS = 3


def fire_due_reminders(db, as_of: dt.date, limit: int = 500) -> int:
    """Fire every scheduled reminder due on or before ``as_of`` (missed days are caught up),
    each once: the row is claimed (``SKIP LOCKED`` on PostgreSQL) and marked fired in the
    transaction that writes its notifications."""
    fired = 0
    handle = db.handle if hasattr(db, "handle") else db
    while True:
        with db.transaction() as uow:
            query = (
                select(m.reminders)
                .where(R.status == "scheduled", R.fire_on <= as_of)
                .order_by(R.fire_on, R.key)
                .limit(limit)
            )
            if not is_sqlite(handle.url):
                query = query.with_for_update(skip_locked=True)
            rows = uow.session.execute(query).mappings().all()
            now = utcnow()
            for row in rows:
                fired += fire_reminder(uow, row, as_of, now)
        if len(rows) < limit:
            return fired


def fire_birthdays(db, as_of: dt.date) -> int:
    """A-level customers' birthdays to their owners (the customer-care list), once a year each;
    the last few days are caught up when the job did not run."""
    fired = 0
    with db.read() as s:
        rows = (
            s.execute(
                select(m.customers).where(C.level == "A", C.deleted.is_(False), C.birthday.is_not(None))
            )
            .mappings()
            .all()
        )
    for row in rows:
        for back in range(BIRTHDAY_CATCH_UP_DAYS):
            day = as_of - dt.timedelta(days=back)
            if not domain.is_birthday(row["birthday"], day):
                continue
            key = f"customer_birthday:{row['id']}:{day.year}"
            payload = {
                "customer_id": row["id"],
                "customer_name": row["name"],
                "customer_code": row["code"],
                "owner_id": row["owner_id"],
                "birthday": row["birthday"].isoformat(),
                "date": day.isoformat(),
            }
            with db.transaction() as uow:
                if not claim_reminder(uow.session, key, "customer_birthday", payload, utcnow(), day):
                    continue
                envelope = {"event_id": f"reminder:{key}", "type": "customer_birthday", "payload": payload}
                fan_out(uow, envelope, fired_reminder=True, as_of=as_of)
                fired += 1
    return fired
