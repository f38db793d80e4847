"""Reports, always per currency (amounts of different currencies are never added up):

* receivables aging — open balances by days past due (current, 1–30, 31–60, 61–90, over 90), per
  customer and in total;
* cash flow — per month of a year: invoiced (issued invoices less credit notes), collected
  (payments received less refunds) and forecast (open balances by due month, plus what the
  schedules will still invoice, by expected due date);
* revenue by customer or by product (net of tax and of credit notes) for a date range;
* recurring revenue — MRR and ARR of the schedules in force on a date.

A sales rep's reports cover the customers they own; portal users have none.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from crm_common.errors import PermissionDenied, ValidationFailed
from crm_common.money import quantize
from crm_common.paging import parse_date, parse_id
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import domain, schedules, scopes, taxes
from . import models as m
from .invoices import OPEN_STATUSES
from .support import ZERO, iso, money, today

I = m.invoices.c  # noqa: E741
IL = m.invoice_lines.c
CN = m.credit_notes.c
CNL = m.credit_note_lines.c
P = m.payments.c
S = m.schedules.c


def _access(caller) -> scopes.Access:
    access = scopes.read_access(caller)
    if access.customer_id is not None:
        raise PermissionDenied("Portal users have no reports")
    return access


def _scoped(query, access: scopes.Access, column):
    return scopes.scoped(query, access, column)


def _args(args: Any) -> Mapping[str, Any]:
    if args is None:
        return {}
    if not isinstance(args, Mapping):
        raise ValidationFailed("Report arguments must be an object", {"_schema": ["must be an object"]})
    return args


def _currency(args: Mapping[str, Any]) -> str | None:
    cur = args.get("currency")
    if cur in (None, ""):
        return None
    from crm_common.money import CURRENCIES

    cur = str(cur).strip().upper()
    if cur not in CURRENCIES:
        raise ValidationFailed.field("currency", "Not an ISO 4217 currency code.")
    return cur


def _year(args: Mapping[str, Any]) -> int:
    raw = args.get("year")
    if raw in (None, ""):
        return today().year
    try:
        year = int(str(raw))
    except ValueError:
        raise ValidationFailed.field("year", "must be a year like 2027") from None
    if not 1900 <= year <= 2200:
        raise ValidationFailed.field("year", "must be a year between 1900 and 2200")
    return year


# --------------------------------------------------------------------------------------
# Receivables aging
# --------------------------------------------------------------------------------------


def receivables_aging(db, caller, args: Any = None) -> dict[str, Any]:
    access = _access(caller)
    a = _args(args)
    as_of = parse_date(a.get("as_of"), "as_of", default=today())
    currency = _currency(a)
    customer_id = (
        parse_id(a["customer_id"], "customer_id") if a.get("customer_id") not in (None, "") else None
    )
    query = select(I.customer_id, I.customer, I.currency, I.total, I.paid, I.credited, I.due_date).where(
        I.status.in_(OPEN_STATUSES), I.issue_date <= as_of
    )
    query = _scoped(query, access, I.customer_id)
    if currency:
        query = query.where(I.currency == currency)
    if customer_id:
        query = query.where(I.customer_id == customer_id)
    per: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    with db.read() as s:
        for r in s.execute(query):
            bal = domain.balance(r.total, r.paid, r.credited)
            if bal <= 0:
                continue
            row = per[r.currency].setdefault(
                r.customer_id,
                {"customer_id": r.customer_id, "customer_name": (r.customer or {}).get("name"),
                 **dict.fromkeys(domain.AGING_BUCKETS, ZERO), "total": ZERO, "invoices": 0},
            )  # fmt: skip
            row[domain.aging_bucket(r.due_date, as_of)] += bal
            row["total"] += bal
            row["invoices"] += 1
    out = {}
    for cur, rows in sorted(per.items()):
        total = {**dict.fromkeys(domain.AGING_BUCKETS, ZERO), "total": ZERO, "invoices": 0}
        for row in rows.values():
            for key in (*domain.AGING_BUCKETS, "total", "invoices"):
                total[key] += row[key]
        listed = sorted(rows.values(), key=lambda x: (-x["total"], x["customer_id"]))
        out[cur] = {
            "total": _money_row(total, cur),
            "customers": [_money_row(row, cur) for row in listed],
        }
    return {"as_of": as_of.isoformat(), "buckets": list(domain.AGING_BUCKETS), "currencies": out}


def _money_row(row: Mapping[str, Any], cur: str) -> dict[str, Any]:
    return {k: (money(v, cur) if isinstance(v, Decimal) else v) for k, v in row.items()}


# --------------------------------------------------------------------------------------
# Cash flow
# --------------------------------------------------------------------------------------


def _months(year: int) -> list[str]:
    return [f"{year}-{mo:02d}" for mo in range(1, 13)]


def cash_flow(db, caller, args: Any = None) -> dict[str, Any]:
    access = _access(caller)
    a = _args(args)
    year = _year(a)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    months = _months(year)
    acc: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: {mo: {"invoiced": ZERO, "collected": ZERO, "forecast": ZERO} for mo in months}
    )
    with db.read() as s:
        q = select(I.currency, I.issue_date, I.total).where(
            I.status.not_in(("draft", "void")), I.issue_date.between(first, last)
        )
        for r in s.execute(_scoped(q, access, I.customer_id)):
            acc[r.currency][domain.month_key(r.issue_date)]["invoiced"] += r.total
        q = select(CN.currency, CN.issue_date, CN.amount).where(CN.issue_date.between(first, last))
        for r in s.execute(_scoped(q, access, CN.customer_id)):
            acc[r.currency][domain.month_key(r.issue_date)]["invoiced"] -= r.amount
        start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
        end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
        q = select(P.currency, P.received_at, P.amount).where(
            P.status == "confirmed", P.received_at >= start, P.received_at < end
        )
        for r in s.execute(_scoped(q, access, P.customer_id)):
            acc[r.currency][domain.month_key(r.received_at.date())]["collected"] += r.amount
        R = m.refunds.c
        q = (
            select(P.currency, R.refunded_at, R.amount)
            .join(m.payments, P.id == R.payment_id)
            .where(R.refunded_at >= start, R.refunded_at < end)
        )
        for r in s.execute(_scoped(q, access, P.customer_id)):
            acc[r.currency][domain.month_key(r.refunded_at.date())]["collected"] -= r.amount
        # forecast: what is still owed, when it falls due ...
        q = select(I.currency, I.due_date, I.total, I.paid, I.credited).where(I.status.in_(OPEN_STATUSES))
        for r in s.execute(_scoped(q, access, I.customer_id)):
            due = max(r.due_date, today())  # an overdue balance is expected from now on
            if first <= due <= last:
                acc[r.currency][domain.month_key(due)]["forecast"] += domain.balance(
                    r.total, r.paid, r.credited
                )
        # ... and what the schedules will still invoice, when that falls due
        _schedule_forecast(s, access, first, last, acc)
    out = {
        cur: [{"month": mo, **{k: money(v, cur) for k, v in vals[mo].items()}} for mo in months]
        for cur, vals in sorted(acc.items())
    }
    return {"year": year, "currencies": out}


def _schedule_forecast(s: Session, access: scopes.Access, first: dt.date, last: dt.date, acc) -> None:
    rates = taxes.load_rates(s)
    q = _scoped(
        select(m.schedules).where(S.status == schedules.ACTIVE, S.next_bill_date.is_not(None)),
        access,
        S.customer_id,
    )
    for row in s.execute(q).mappings():
        row = dict(row)
        end = schedules.billing_end(row)
        segments = schedules.domain_segments(row["segments"])
        cursor = row["next_period_start"]
        for p in schedules.all_periods(row):
            if cursor is not None and p.start < cursor:
                continue
            due = p.bill_date + dt.timedelta(days=row["payment_terms_days"])
            if due > last:
                break
            if due < first:
                continue
            gross = ZERO
            for c in domain.period_charges(p, segments, row["frequency"], end):
                net = quantize(c.amount, row["currency"])
                gross += net + domain.line_tax(
                    net, taxes.rate_for(rates, c.line.category, c.line.product_kind), row["currency"]
                )
            acc[row["currency"]][domain.month_key(due)]["forecast"] += gross


# --------------------------------------------------------------------------------------
# Revenue
# --------------------------------------------------------------------------------------


def revenue(db, caller, args: Any = None) -> dict[str, Any]:
    access = _access(caller)
    a = _args(args)
    by = a.get("by") or "customer"
    if by not in ("customer", "product"):
        raise ValidationFailed.field("by", "must be customer or product")
    if a.get("from") or a.get("to"):
        start = parse_date(a.get("from"), "from", default=dt.date(1900, 1, 1))
        end = parse_date(a.get("to"), "to", default=dt.date(2200, 12, 31))
    else:
        year = _year(a)
        start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    if end < start:
        raise ValidationFailed.field("to", "must not be before from")
    acc: dict[str, dict[Any, dict[str, Any]]] = defaultdict(dict)

    def add(cur: str, key: Any, name: str | None, amount: Decimal) -> None:
        row = acc[cur].setdefault(key, {"key": key, "name": name, "amount": ZERO})
        row["amount"] += amount
        if name and not row["name"]:
            row["name"] = name

    def key_of(r) -> tuple[Any, str | None]:
        if by == "customer":
            return r.customer_id, (r.customer or {}).get("name")
        return (r.sku or r.product_id or r.description), r.description

    with db.read() as s:
        q = (
            select(I.currency, I.customer_id, I.customer, IL.sku, IL.product_id, IL.description, IL.amount)
            .join(m.invoices, I.id == IL.invoice_id)
            .where(I.status.not_in(("draft", "void")), I.issue_date.between(start, end))
        )
        for r in s.execute(_scoped(q, access, I.customer_id)):
            k, n = key_of(r)
            add(r.currency, k, n, r.amount)
        q = (
            select(I.currency, I.customer_id, I.customer, IL.sku, IL.product_id, IL.description, CNL.amount)
            .join(m.credit_notes, CN.id == CNL.credit_note_id)
            .join(m.invoice_lines, IL.id == CNL.invoice_line_id)
            .join(m.invoices, I.id == IL.invoice_id)
            .where(CN.issue_date.between(start, end))
        )
        for r in s.execute(_scoped(q, access, I.customer_id)):
            k, n = key_of(r)
            add(r.currency, k, n, -r.amount)
    out = {}
    for cur, rows in sorted(acc.items()):
        listed = sorted(rows.values(), key=lambda x: (-x["amount"], str(x["key"])))
        out[cur] = {
            "total": money(sum((x["amount"] for x in listed), ZERO), cur),
            "items": [{**x, "amount": money(x["amount"], cur)} for x in listed],
        }
    return {"from": start.isoformat(), "to": end.isoformat(), "by": by, "currencies": out}


# --------------------------------------------------------------------------------------
# MRR / ARR
# --------------------------------------------------------------------------------------


def recurring_revenue(db, caller, args: Any = None) -> dict[str, Any]:
    """MRR (and ARR = 12 × MRR) of the schedules in force on ``as_of``: each line in force that
    day contributes its amount per period ÷ the months of a period; ``once`` contributes none."""
    access = _access(caller)
    a = _args(args)
    as_of = parse_date(a.get("as_of"), "as_of", default=today())
    acc: dict[str, dict[str, Any]] = defaultdict(lambda: {"mrr": ZERO, "contracts": 0})
    with db.read() as s:
        q = _scoped(
            select(m.schedules).where(S.start_date <= as_of, S.end_date >= as_of), access, S.customer_id
        )
        for row in s.execute(q).mappings():
            row = dict(row)
            if (
                row["contract_status"] == "cancelled"
                or schedules.billing_end(row) < as_of
                or row["frequency"] == "once"
            ):
                continue
            segment = None
            for seg in schedules.domain_segments(row["segments"]):
                if seg.effective_from <= as_of:
                    segment = seg
            if segment is None:
                continue
            value = sum(
                (
                    domain.monthly_value(li.amount, row["frequency"])
                    for li in segment.lines
                    if li.start <= as_of <= li.end
                ),
                ZERO,
            )
            if value > 0:
                acc[row["currency"]]["mrr"] += value
                acc[row["currency"]]["contracts"] += 1
    out = {
        cur: {
            "mrr": money(quantize(v["mrr"], cur), cur),
            "arr": money(quantize(v["mrr"] * 12, cur), cur),
            "contracts": v["contracts"],
        }
        for cur, v in sorted(acc.items())
    }
    return {"as_of": iso(as_of), "currencies": out}
