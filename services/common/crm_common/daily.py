"""Daily jobs: each service's ``daily_jobs(as_of)`` runs by itself once a day (at the first tick
after ``CRM_DAILY_AT``, default 01:00 UTC), exactly once per date however many replicas run —
the replica that inserts the ``job_runs`` row for the date runs it. Administrators trigger a run
for any date through ``run_daily(as_of)``; the jobs themselves are idempotent."""

from __future__ import annotations

import datetime as dt
import logging
import os

from nameko.timer import Timer
from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from .context import CallerContext
from .db import utcnow

log = logging.getLogger(__name__)

JOB = "daily"


class DailyTimer(Timer):
    """A timer whose workers run with the service's system caller context (Nameko's own timer
    spawns workers with no context at all)."""

    def handle_timer_tick(self):
        caller = CallerContext.system(self.container.service_name)
        self.container.spawn_worker(
            self, (), {}, context_data=caller.to_context_data(), handle_result=self.handle_result
        )


def daily_timer(interval: float | None = None):
    interval = interval or float(os.environ.get("CRM_DAILY_CHECK_SECONDS", "300"))
    return DailyTimer.decorator(interval=interval)


def due(now: dt.datetime) -> bool:
    at = os.environ.get("CRM_DAILY_AT", "01:00")
    hh, mm = (int(x) for x in at.split(":"))
    return (now.hour, now.minute) >= (hh, mm)


def purge_idempotency_keys(db) -> int:
    """Delete the idempotency records past their retention (``CRM_IDEMPOTENCY_DAYS``)."""
    from .idempotency import purge

    try:
        return purge(db)
    except Exception:  # the daily jobs' own results matter more than this housekeeping
        log.exception("purging idempotency records failed")
        return 0


def run_daily_once(service, as_of: dt.date) -> dict | None:
    """Run ``service.daily_jobs(as_of)`` if no replica has claimed ``as_of`` yet."""
    if os.environ.get("CRM_DAILY_DISABLED") == "1" or not due(dt.datetime.now(dt.UTC)):
        return None
    db = service.db.handle if hasattr(service.db, "handle") else service.db
    runs = db.infra.job_runs
    try:
        with db.locked(), db.engine.begin() as conn:
            conn.execute(insert(runs).values(job=JOB, as_of=as_of, started_at=utcnow()))
    except IntegrityError:
        return None  # another replica (or an earlier tick) has it
    log.info("daily jobs for %s starting", as_of)
    result = service.daily_jobs(as_of)
    result = {**(result or {}), "idempotency_keys_purged": purge_idempotency_keys(db)}
    with db.locked(), db.engine.begin() as conn:
        conn.execute(
            update(runs)
            .where(runs.c.job == JOB, runs.c.as_of == as_of)
            .values(finished_at=utcnow(), result=result)
        )
    log.info("daily jobs for %s done: %s", as_of, result)
    return result
