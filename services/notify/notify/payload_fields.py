"""Reading what an event's payload names, whatever shape its producer chose (pure, no I/O): ids
as integers, dates, document ids, the owner, the customer, the approvers and the approval step,
and the day an event is about (its daily job's date). The bottom of notify's pure rules:
:mod:`notify.domain` and :mod:`notify.task_rules` build on it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any


def ints(values: Any) -> list[int]:
    out: list[int] = []
    if values is None:
        return out
    if not isinstance(values, (list, tuple)):
        values = [values]
    for v in values:
        if isinstance(v, Mapping):
            v = v.get("user_id", v.get("id"))
        if isinstance(v, bool) or v is None:
            continue
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


def approver_targets(payload: Mapping[str, Any]) -> tuple[list[int], list[str]]:
    """User ids and roles an approval event names, whatever shape the producer chose:
    ``approver_ids``/``user_ids``/``approvers`` (ints or ``{user_id|id}`` / ``{role}``) and
    ``approver_roles``/``roles``; also nested under ``step``."""
    users: list[int] = []
    roles: list[str] = []
    sources = [payload]
    step = payload.get("step")
    if isinstance(step, Mapping):
        sources.append(step)
    for src in sources:
        for key in ("users", "approver_ids", "approver_user_ids", "user_ids", "candidate_user_ids"):
            users += ints(src.get(key))
        approvers = src.get("approvers")
        if isinstance(approvers, Mapping):
            users += ints(approvers.get("user_ids") or approvers.get("users"))
            roles += [str(r) for r in approvers.get("roles") or []]
        elif isinstance(approvers, (list, tuple)):
            for a in approvers:
                if isinstance(a, Mapping) and a.get("role") and not a.get("user_id"):
                    roles.append(str(a["role"]))
                else:
                    users += ints([a])
        for key in ("approver_roles", "roles", "candidate_roles"):
            roles += [str(r) for r in src.get(key) or [] if isinstance(r, str)]
    return sorted(set(users)), sorted(set(roles))


def owner_of(payload: Mapping[str, Any]) -> int | None:
    for key in ("owner_id", "customer_owner_id", "assignee_id"):
        ids = ints(payload.get(key))
        if ids:
            return ids[0]
    customer = payload.get("customer")
    if isinstance(customer, Mapping):
        ids = ints(customer.get("owner_id"))
        if ids:
            return ids[0]
    return None


def customer_of(payload: Mapping[str, Any]) -> int | None:
    ids = ints(payload.get("customer_id"))
    if ids:
        return ids[0]
    customer = payload.get("customer")
    if isinstance(customer, Mapping):
        ids = ints(customer.get("id"))
        return ids[0] if ids else None
    return None


def as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def doc_id(payload: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        value = payload.get(key)
        if value is not None and value != "":
            return str(value)
    return None


def job_date(payload: Mapping[str, Any]) -> dt.date | None:
    """The ``as_of`` of the daily job that published an event (a billing run's invoice, an overdue
    scan, an expiry scan, a renewal); ``None`` for an event of a user's action."""
    return as_date(payload.get("as_of"))


def business_date(payload: Mapping[str, Any], fallback: dt.date) -> dt.date:
    """The day an event is about: its job's date (:func:`job_date`), else ``fallback`` (the day
    it is handled). Tasks opened for a job's event are dated by the job's date, so a back-dated
    or catch-up run gives the same tasks as a run made on the day."""
    return job_date(payload) or fallback


def overdue_since(payload: Mapping[str, Any]) -> dt.date | None:
    """The day the overdue scan found an invoice overdue: its ``as_of``, else (an older payload)
    the due date plus ``days_overdue``."""
    day = as_date(payload.get("as_of"))
    if day is not None:
        return day
    due, days = as_date(payload.get("due_date")), ints(payload.get("days_overdue"))
    return due + dt.timedelta(days=days[0]) if due is not None and days else None


def step_of(payload: Mapping[str, Any]) -> str | None:
    """The approval step an event is about: ``step.index`` (or ``step_index``)."""
    step = payload.get("step")
    value = step.get("index") if isinstance(step, Mapping) else payload.get("step_index", step)
    return None if value is None or isinstance(value, (dict, list)) else str(value)
