"""Billing schedules, built from the contract events.

One schedule per contract holds the billing terms, the contract's lines over time (segments: the
version in force from the start, then one per amendment from its effective date) and a cursor:
``next_period_start`` (the first period not yet invoiced) and ``next_bill_date`` (when it falls
due; ``None`` once nothing is left). The periods themselves are never stored: they follow from
the terms (:func:`billing.domain.periods`), so an amendment re-plans every period not yet invoiced,
and the periods already invoiced are settled by the next billing run (``true_up_from``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from crm_common.db import utcnow
from crm_common.errors import not_found
from crm_common.paging import parse_id
from crm_common.readcopy import event_time
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import customers, domain, scopes
from . import events as ev
from . import models as m
from .support import iso, money

S = m.schedules.c
ACTIVE = "active"
ENDED = "ended"


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _opt_date(value: Any) -> dt.date | None:
    return None if value in (None, "") else _date(value)


def _dec(value: Any, default: str = "0") -> str:
    return format(Decimal(str(value if value not in (None, "") else default)), "f")


# --------------------------------------------------------------------------------------
# Segments: the contract's lines over time
# --------------------------------------------------------------------------------------


def segment_of(payload: Mapping[str, Any], effective_from: dt.date) -> dict[str, Any]:
    """A segment (JSON) from a contract payload: its lines as billing needs them."""
    start, end = _date(payload["start_date"]), _date(payload["end_date"])
    lines = []
    for li in payload.get("lines") or []:
        name = li.get("product_name") or li.get("description") or li.get("sku") or "Line"
        extra = " · ".join(str(x) for x in (li.get("model"), li.get("serial_number")) if x)
        lines.append(
            {
                "line_id": li.get("line_id", li.get("id")),
                "description": f"{name} ({extra})" if extra else str(name),
                "product_id": li.get("product_id"),
                "sku": li.get("sku"),
                "category": li.get("category"),
                "product_kind": li.get("product_kind"),
                "quantity": _dec(li.get("quantity"), "1"),
                "unit_price": _dec(li.get("unit_price")),
                "discount_percent": _dec(li.get("discount_percent")),
                "start": (_opt_date(li.get("start_date")) or start).isoformat(),
                "end": (_opt_date(li.get("end_date")) or end).isoformat(),
            }
        )
    return {"effective_from": effective_from.isoformat(), "version": payload.get("version"), "lines": lines}


def domain_segments(segments: Sequence[Mapping[str, Any]]) -> list[domain.Segment]:
    out = []
    for seg in sorted(segments, key=lambda x: x["effective_from"]):
        lines = tuple(
            domain.LineTerms(
                line_id=li.get("line_id"),
                description=li["description"],
                quantity=Decimal(li["quantity"]),
                unit_price=Decimal(li["unit_price"]),
                discount_percent=Decimal(li["discount_percent"]),
                start=_date(li["start"]),
                end=_date(li["end"]),
                product_id=li.get("product_id"),
                sku=li.get("sku"),
                category=li.get("category"),
                product_kind=li.get("product_kind"),
            )
            for li in seg["lines"]
        )
        out.append(domain.Segment(_date(seg["effective_from"]), lines))
    return out


# --------------------------------------------------------------------------------------
# Terms and cursor
# --------------------------------------------------------------------------------------


def billing_end(row: Mapping[str, Any]) -> dt.date:
    """The last day billed: the term's end, or the day before a termination takes effect."""
    end = row["end_date"]
    term = row.get("termination_date")
    if term is not None:
        end = min(end, term - dt.timedelta(days=1))
    return end


def all_periods(row: Mapping[str, Any], until: dt.date | None = None) -> list[domain.Period]:
    """Every period of the schedule up to ``until`` (default: its billing end)."""
    last = until if until is not None else billing_end(row)
    if last < row["start_date"]:
        return []
    return list(
        domain.periods(row["start_date"], last, row["frequency"], row["anchor_day"], row["in_advance"])
    )


def next_period(row: Mapping[str, Any], cursor: dt.date | None) -> domain.Period | None:
    """The first period starting on or after ``cursor`` (the first period when ``None``)."""
    return domain.due_and_next(
        row["start_date"], billing_end(row), row["frequency"], row["anchor_day"], row["in_advance"], cursor,
        dt.date.min,
    )[1]  # fmt: skip


def cursor_values(row: Mapping[str, Any], cursor: dt.date | None) -> dict[str, Any]:
    """``next_period_start`` / ``next_bill_date`` / ``status`` for a cursor at ``cursor``."""
    nxt = next_period(row, cursor)
    status = ACTIVE if nxt is not None or row.get("true_up_from") is not None else ENDED
    return {"next_period_start": cursor, "next_bill_date": nxt.bill_date if nxt else None, "status": status}


def _terms(*candidates: Any) -> int:
    """The first payment term given (0 is a term: due on receipt), else 30 days."""
    for value in candidates:
        if value is not None and not isinstance(value, bool):
            return int(value)
    return 30


def schedule_values(payload: Mapping[str, Any], event_at: dt.datetime) -> dict[str, Any]:
    """The ``schedules`` row of a contract as a contract event describes it (a new schedule: the
    version in force as one segment from the start, nothing invoiced yet)."""
    billing = payload.get("billing") or {}
    start, end = _date(payload["start_date"]), _date(payload["end_date"])
    frequency = billing.get("frequency") or "monthly"
    if frequency not in domain.FREQUENCIES:
        raise ValueError(f"contract {payload.get('id')}: unknown billing frequency {frequency!r}")
    now = utcnow()
    row: dict[str, Any] = {
        "contract_id": payload["id"],
        "contract_number": payload.get("number"),
        "customer_id": payload["customer_id"],
        "customer_name": payload.get("customer_name"),
        "customer_code": payload.get("customer_code"),
        "customer_language": payload.get("customer_language") or payload.get("language"),
        "owner_id": payload.get("owner_id"),
        "title": payload.get("title"),
        "kind": payload.get("kind"),
        "currency": payload["currency"],
        "contract_status": payload.get("status"),
        "frequency": frequency,
        "in_advance": bool(billing.get("in_advance", True)),
        "payment_terms_days": _terms(billing.get("payment_terms_days"), payload.get("payment_terms_days")),
        "anchor_day": billing.get("anchor_day"),
        "start_date": start,
        "end_date": end,
        "termination_date": None,
        "version": int(payload.get("version") or 1),
        "renewal_of_id": payload.get("renewal_of_id"),
        "segments": [segment_of(payload, start)],
        "true_up_from": None,
        "last_error": None,
        "event_at": event_at,
        "created_at": now,
        "updated_at": now,
    }
    row.update(cursor_values(row, None))
    return row


# --------------------------------------------------------------------------------------
# Contract events
# --------------------------------------------------------------------------------------


def _insert_schedule(s: Session, values: dict[str, Any]) -> bool:
    make = postgresql.insert if s.get_bind().dialect.name == "postgresql" else sqlite.insert
    result = s.execute(
        make(m.schedules).values(**values).on_conflict_do_nothing(index_elements=["contract_id"])
    )
    return bool(result.rowcount)


def _current(s: Session, contract_id: int) -> dict[str, Any] | None:
    row = (
        s.execute(select(m.schedules).where(S.contract_id == contract_id).with_for_update())
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def _start_or_amend(
    s: Session, payload: Mapping[str, Any], at: dt.datetime, effective: dt.date | None
) -> str:
    current = _current(s, payload["id"])
    if current is None:
        values = schedule_values(payload, at)
        _insert_schedule(s, values)
        return f"schedule of {payload.get('number')} created ({values['frequency']}, next bill {values['next_bill_date']})"
    if int(payload.get("version") or 1) <= current["version"]:
        _follow_status(s, current, payload)
        return f"schedule of {payload.get('number')} already at version {current['version']}"
    return _amend(s, current, payload, at, effective)


def _follow_status(s: Session, current: Mapping[str, Any], payload: Mapping[str, Any]) -> None:
    """Activation is only a status: the schedule built at approval already bills from the start
    date; ``contract_activated`` (same version) just records that the contract is active."""
    if payload.get("status") == "active" and current.get("contract_status") in (None, "approved"):
        s.execute(
            update(m.schedules)
            .where(S.contract_id == current["contract_id"])
            .values(contract_status="active", updated_at=utcnow())
        )


def _amend(
    s: Session,
    current: dict[str, Any],
    payload: Mapping[str, Any],
    at: dt.datetime,
    effective: dt.date | None,
) -> str:
    """A new version from ``effective``: lines, end date and terms re-planned from then on;
    periods already invoiced from then on are settled (true-up) by the next run."""
    fresh = schedule_values(payload, at)
    effective = max(effective or current["start_date"], current["start_date"])
    kept = [seg for seg in current["segments"] if _date(seg["effective_from"]) < effective]
    segments = [*kept, segment_of(payload, effective)]
    row = {**current, **{k: fresh[k] for k in _TERMS}, "segments": segments, "version": fresh["version"]}
    cursor = current["next_period_start"]
    true_up = current["true_up_from"]
    if cursor is not None and effective < cursor:
        true_up = min(true_up, effective) if true_up else effective
    row["true_up_from"] = true_up
    row.update(cursor_values(row, cursor))
    row["updated_at"] = utcnow()
    row["event_at"] = at
    s.execute(update(m.schedules).where(S.contract_id == current["contract_id"]).values(**_without_key(row)))
    return f"schedule of {row['contract_number']} re-planned from {effective} (version {row['version']})"


_TERMS = (
    "contract_number",
    "customer_name",
    "customer_code",
    "customer_language",
    "owner_id",
    "title",
    "kind",
    "contract_status",
    "frequency",
    "in_advance",
    "payment_terms_days",
    "anchor_day",
    "end_date",
)


def _without_key(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "contract_id"}


def _terminate(s: Session, payload: Mapping[str, Any], at: dt.datetime) -> str:
    current = _current(s, payload["id"])
    effective = _opt_date(payload.get("effective_date")) or at.date()
    if current is None:
        # terminated before billing heard of it: a schedule that bills up to the termination
        values = schedule_values(payload, at)
        values["termination_date"] = effective
        values.update(cursor_values(values, None))
        _insert_schedule(s, values)
        return f"schedule of {payload.get('number')} created, terminated from {effective}"
    if current["termination_date"] is not None and current["termination_date"] <= effective:
        return f"schedule of {current['contract_number']} already terminated"
    row = {**current, "termination_date": effective, "contract_status": "terminated"}
    cursor = current["next_period_start"]
    if cursor is not None and effective < cursor:
        row["true_up_from"] = min(current["true_up_from"] or effective, effective)
    row.update(cursor_values(row, cursor))
    row["updated_at"] = utcnow()
    s.execute(update(m.schedules).where(S.contract_id == current["contract_id"]).values(**_without_key(row)))
    return f"schedule of {current['contract_number']} ends: terminated from {effective}"


def _cancel(s: Session, payload: Mapping[str, Any]) -> str:
    current = _current(s, payload["id"])
    if current is None:
        return "no schedule"
    s.execute(
        update(m.schedules)
        .where(S.contract_id == current["contract_id"])
        .values(status=ENDED, next_bill_date=None, contract_status="cancelled", updated_at=utcnow())
    )
    return f"schedule of {current['contract_number']} cancelled"


def apply_contract_event(db, envelope: Mapping[str, Any]) -> str:
    """The schedule change one contract event makes (idempotent: a redelivered or older version
    changes nothing). Returns what it did."""
    event_type = envelope.get("type")
    payload = envelope.get("payload") or {}
    if not isinstance(payload.get("id"), int):
        raise ValueError(f"{event_type}: payload without an integer contract id")
    at = event_time(envelope)
    with db.transaction() as uow:
        s = uow.session
        customers.remember_from_contract(s, payload)
        if event_type in (ev.CONTRACT_APPROVED, ev.CONTRACT_ACTIVATED):
            # approval builds the schedule (it bills from the start date whether or not the
            # activation has run yet); activation, and contracts imported active, only confirm it
            return _start_or_amend(s, payload, at, None)
        if event_type == ev.CONTRACT_AMENDED:
            return _start_or_amend(s, payload, at, _opt_date(payload.get("effective_date")))
        if event_type == ev.CONTRACT_RENEWED:
            renewal = payload.get("renewal")
            if not isinstance(renewal, Mapping) or not isinstance(renewal.get("id"), int):
                return "renewal without its contract payload"
            renewal = {**renewal, "renewal_of_id": renewal.get("renewal_of_id") or payload["id"]}
            customers.remember_from_contract(s, renewal)
            return _start_or_amend(s, renewal, at, None)
        if event_type == ev.CONTRACT_TERMINATED:
            return _terminate(s, payload, at)
        if event_type == ev.CONTRACT_CANCELLED:
            return _cancel(s, payload)
    return f"ignored: {event_type}"


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def period_amount(row: Mapping[str, Any], period: domain.Period, segments: list[domain.Segment]) -> Decimal:
    charges = domain.period_charges(period, segments, row["frequency"], billing_end(row))
    return sum((c.amount for c in charges), Decimal(0))


def _period_views(row: Mapping[str, Any], invoiced: Mapping[dt.date, int]) -> list[dict[str, Any]]:
    segments = domain_segments(row["segments"])
    today = utcnow().date()
    cursor = row["next_period_start"]
    out = []
    for p in all_periods(row):
        invoice_id = invoiced.get(p.start)
        done = invoice_id is not None or (cursor is not None and p.start < cursor)
        out.append(
            {
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "bill_date": p.bill_date.isoformat(),
                "days": p.days,
                "period_days": p.full_days,
                "amount": money(period_amount(row, p, segments), row["currency"]),
                "invoice_id": invoice_id,
                "status": "invoiced" if done else ("due" if p.bill_date <= today else "planned"),
            }
        )
    return out


def get_schedule(db, caller, contract_id: Any) -> dict[str, Any]:
    """The schedule of a contract with every period: invoiced (with its invoice), due, planned."""
    access = scopes.read_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        row = s.execute(select(m.schedules).where(S.contract_id == contract_id)).mappings().first()
        if row is None:
            raise not_found("schedule", contract_id)
        row = dict(row)
        if not scopes.allows(access, row["customer_id"], customers.owner_of(s, row["customer_id"]), "issued"):
            raise not_found("schedule", contract_id)
        invoiced = {
            r.period_start: r.id
            for r in s.execute(
                select(m.invoices.c.id, m.invoices.c.period_start).where(
                    m.invoices.c.contract_id == contract_id,
                    m.invoices.c.kind.in_(("contract", "renewal")),
                    m.invoices.c.status != "void",
                )
            )
        }
    try:
        periods = _period_views(row, invoiced)
        problem = None
    except (ValueError, KeyError, TypeError) as exc:  # terms billing cannot plan: say so, no 500
        periods, problem = [], f"the terms cannot be planned: {exc}"
    return {
        "contract_id": row["contract_id"],
        "contract_number": row["contract_number"],
        "customer_id": row["customer_id"],
        "status": row["status"],
        "contract_status": row["contract_status"],
        "currency": row["currency"],
        "frequency": row["frequency"],
        "in_advance": row["in_advance"],
        "payment_terms_days": row["payment_terms_days"],
        "anchor_day": row["anchor_day"],
        "start_date": iso(row["start_date"]),
        "end_date": iso(row["end_date"]),
        "termination_date": iso(row["termination_date"]),
        "billing_end": iso(billing_end(row)),
        "version": row["version"],
        "next_period_start": iso(row["next_period_start"]),
        "next_bill_date": iso(row["next_bill_date"]),
        "true_up_from": iso(row["true_up_from"]),
        "last_error": row["last_error"] or problem,
        "segments": row["segments"],
        "periods": periods,
    }
