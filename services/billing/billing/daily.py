"""The daily job and the contract events that daily jobs publish, made independent of the order
in which the services run their jobs for a date (ADR 0011).

* The billing run for ``as_of`` bills from schedules that exist before that date: a schedule is
  built when the contract is *approved* (``contract_approved``), so the activation that contracts'
  job makes on the start date is only a status here and its first period is due in billing's run
  for the start date, whichever job runs first.
* A contract that another service's daily job for ``as_of`` creates and starts in the same run (an
  automatic renewal), or activates without billing having heard of its approval, arrives as an
  event that carries that ``as_of``: applying it bills the contract as billing's run for ``as_of``
  does (:func:`billing.runs.bill_contract`) and marks its invoices overdue by then. If billing's
  run has not happened yet it finds nothing left to do; the cursor and the period keys make both
  paths invoice a period once.
* Every document the job writes is dated by ``as_of`` or by the period it bills: invoices on
  their bill date, credit notes of a true-up on ``as_of``, overdue on ``as_of``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any

from . import events as ev
from . import invoices, runs, schedules

log = logging.getLogger(__name__)

# events a contracts daily job publishes for a date, and the contract whose billing they start
_STARTED_BY_A_JOB = (ev.CONTRACT_ACTIVATED, ev.CONTRACT_RENEWED)


def started_by_job(envelope: Mapping[str, Any]) -> tuple[int, dt.date] | None:
    """``(contract id, as_of)`` when the event says a daily job for ``as_of`` started that
    contract's billing (activation, renewal); ``None`` for everything else."""
    if envelope.get("type") not in _STARTED_BY_A_JOB:
        return None
    payload = envelope.get("payload") or {}
    raw = payload.get("as_of")
    if not raw:
        return None
    try:
        as_of = dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None
    target = payload.get("renewal") if envelope.get("type") == ev.CONTRACT_RENEWED else payload
    contract_id = target.get("id") if isinstance(target, Mapping) else None
    if not isinstance(contract_id, int) or isinstance(contract_id, bool):
        return None
    return contract_id, as_of


def on_contract_event(db, envelope: Mapping[str, Any]) -> str:
    """Apply a contract event to the schedules, then, for a contract a daily job started, do now
    what billing's run for that date does for it (whether that run came before or comes later)."""
    done = schedules.apply_contract_event(db, envelope)
    started = started_by_job(envelope)
    if started is None:
        return done
    contract_id, as_of = started
    try:
        billed = runs.bill_contract(db, contract_id, as_of)
        overdue = invoices.mark_overdue(db, as_of, contract_id=contract_id)
    except Exception:  # the schedule stays due: the next run bills it
        log.exception(
            "contract %s: billing up to %s after %s failed", contract_id, as_of, envelope.get("type")
        )
        return f"{done}; billing up to {as_of} left to the next run"
    for failure in billed["failures"]:
        log.warning("contract %s: not billed up to %s: %s", contract_id, as_of, failure["reason"])
    return f"{done}; billed up to {as_of}: {billed['invoices']} invoices, {billed['notes']} credit notes, {overdue} overdue"


def daily_jobs(db, caller, as_of: dt.date) -> dict[str, Any]:
    """Billing's daily work for ``as_of``: the billing run, then the overdue scan (both by
    ``as_of``, never by the clock)."""
    run = runs.run_billing(db.handle if hasattr(db, "handle") else db, caller, as_of)
    return {
        "billing_run_id": run["id"],
        "invoices_created": run["invoices_created"],
        "credit_notes_created": run["credit_notes_created"],
        "billing_failed": run["failed"],
        "invoices_overdue": invoices.mark_overdue(db, as_of),
    }
