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
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any

from crm_common.errors import PermissionDenied, ValidationFailed
from crm_common.money import quantize
from crm_common.paging import parse_date, parse_id
from sqlalchemy import Text, and_, case, cast, or_, select
from sqlalchemy.orm import Session

from . import customers, domain, schedules, scopes, sums, taxes
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


def report_args(args: Any) -> Mapping[str, Any]:
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


def report_year(args: Mapping[str, Any]) -> int:
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
# Shared figures (the reports below and billing.dashboard): grouped in SQL, summed exactly
# --------------------------------------------------------------------------------------

BALANCE = sums.Amount(((1, I.total), (-1, I.paid), (-1, I.credited)))


def _open_invoices(currency: str | None = None, customer_id: int | None = None, access=None, as_of=None):
    def base(columns):
        q = select(*columns).where(I.status.in_(OPEN_STATUSES))
        if as_of is not None:
            q = q.where(I.issue_date <= as_of)
        if currency:
            q = q.where(I.currency == currency)
        if customer_id:
            q = q.where(I.customer_id == customer_id)
        return _scoped(q, access, I.customer_id)

    return base


def receivables(
    s: Session,
    access: scopes.Access,
    as_of: dt.date,
    currency: str | None = None,
    customer_id: int | None = None,
) -> dict[tuple[str, int, str], sums.Group]:
    """Open balances on ``as_of`` — invoices issued by then and not (fully) paid, of any year —
    as ``{(currency, customer id, aging bucket): Group(balance, invoices)}``."""
    bounds = domain.aging_bounds(as_of)
    bucket = case(*((I.due_date >= bound, name) for name, bound in bounds), else_=domain.AGING_BUCKETS[-1])
    base = _open_invoices(currency, customer_id, access, as_of)
    groups = sums.grouped(s, base, [I.currency, I.customer_id, bucket], BALANCE, positive=True)
    return {(cur, cid, str(b)): g for (cur, cid, b), g in groups.items()}


def expected_balances(s: Session, access: scopes.Access, as_of: dt.date) -> dict[tuple[str, str], Decimal]:
    """What open invoices (of any year) still owe, by the month it is expected
    (:func:`domain.expected_month`: the due month, ``as_of``'s month once overdue):
    ``{(currency, month): amount}``."""
    base = _open_invoices(access=access)
    groups = sums.grouped(s, base, [I.currency, sums.month_of(s, I.due_date)], BALANCE, positive=True)
    out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    now = domain.month_key(as_of)
    for (cur, month), g in groups.items():
        out[(cur, max(month, now))] += g.amount
    return out


def flows(
    s: Session, access: scopes.Access, year: int, by_customer: bool = False
) -> dict[tuple[Any, ...], dict[str, Decimal]]:
    """Invoiced (issued invoices less credit notes, by issue date) and collected (confirmed
    payments less refunds, by day received) in ``year``, as ``{(currency, month):
    {"invoiced", "collected"}}`` — or per customer over the year, ``{(currency, customer id):
    …}`` (two grouped scans are faster than one by customer and month, measured)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    start = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC)
    R = m.refunds.c
    out: dict[tuple[Any, ...], dict[str, Decimal]] = defaultdict(
        lambda: {"invoiced": ZERO, "collected": ZERO}
    )

    def add(figure: str, sign: int, currency, customer, month, amount, *criteria, join=None) -> None:
        def base(columns):
            q = select(*columns).where(*criteria)
            if join is not None:
                q = q.select_from(join)
            return _scoped(q, access, customer)

        keys = [currency, customer if by_customer else month]
        for key, g in sums.grouped(s, base, keys, sums.Amount.of(amount)).items():
            out[key][figure] += g.amount if sign > 0 else -g.amount

    add(
        "invoiced",
        1,
        I.currency,
        I.customer_id,
        sums.month_of(s, I.issue_date),
        I.total,
        I.status.not_in(("draft", "void")),
        I.issue_date.between(first, last),
    )
    add(
        "invoiced",
        -1,
        CN.currency,
        CN.customer_id,
        sums.month_of(s, CN.issue_date),
        CN.amount,
        CN.issue_date.between(first, last),
    )
    add(
        "collected",
        1,
        P.currency,
        P.customer_id,
        sums.month_of(s, P.received_at, True),
        P.amount,
        P.status == "confirmed",
        P.received_at >= start,
        P.received_at < end,
    )
    add("collected", -1, P.currency, P.customer_id, sums.month_of(s, R.refunded_at, True), R.amount,
        R.refunded_at >= start, R.refunded_at < end, join=m.refunds.join(m.payments, P.id == R.payment_id))  # fmt: skip
    return out


SCHEDULE_DATES = ("start_date", "end_date", "termination_date", "next_period_start", "next_bill_date")


def _schedule_columns(s: Session) -> list[Any]:
    """Dates as ISO text (parsed through a cache: ten thousand schedules share a few hundred
    days), the segments as their JSON text (parsed once per distinct text)."""
    return [
        S.contract_id, S.customer_id, S.currency, S.status, S.contract_status, S.frequency, S.in_advance,
        S.payment_terms_days, S.anchor_day, *(sums.date_text(s, S[name]).label(name) for name in SCHEDULE_DATES),
        cast(S.segments, Text).label("segments_json"),
    ]  # fmt: skip


def schedule_rows(
    s: Session, access: scopes.Access, in_force_on: dt.date | None = None, to_invoice: bool = False
) -> list[dict[str, Any]]:
    """The schedules in force on ``in_force_on`` and / or with periods still ``to_invoice``,
    with their segments parsed once (``_segments``) for :func:`mrr` and :func:`schedule_forecast`."""
    wanted = []
    if in_force_on is not None:
        wanted.append(and_(S.start_date <= in_force_on, S.end_date >= in_force_on))
    if to_invoice:
        wanted.append(and_(S.status == schedules.ACTIVE, S.next_bill_date.is_not(None)))
    columns = _schedule_columns(s)
    q = _scoped(select(*columns).where(or_(*wanted)), access, S.customer_id)
    rows = []
    names = [c.key for c in columns]
    for r in s.execute(q):
        row = dict(zip(names, r, strict=True))
        for name in SCHEDULE_DATES:
            row[name] = _day(row[name])
        row["_segments"] = parsed_segments(row.pop("segments_json"))
        rows.append(row)
    return rows


@lru_cache(maxsize=16_384)
def _day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text[:10])


@dataclass
class ParsedSegments:
    segments: tuple[domain.Segment, ...]
    # what mrr and schedule_forecast computed from these segments, keyed by all else they used
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)


@lru_cache(maxsize=32_768)
def parsed_segments(text: str) -> ParsedSegments:
    """A schedule's ``segments`` as stored (JSON text), parsed — once per distinct text: the
    dashboard reads every schedule, most of them unchanged since the last call."""
    return ParsedSegments(tuple(schedules.domain_segments(json.loads(text))))


def mrr(rows: Sequence[Mapping[str, Any]], as_of: dt.date) -> dict[str, dict[str, Any]]:
    """``{currency: {"mrr", "contracts"}}`` of the schedules in force on ``as_of``."""
    acc: dict[str, dict[str, Any]] = defaultdict(lambda: {"mrr": ZERO, "contracts": 0})
    for row in rows:
        if (
            not row["start_date"] <= as_of <= row["end_date"]
            or row["contract_status"] == "cancelled"
            or schedules.billing_end(row) < as_of
        ):
            continue
        parsed: ParsedSegments = row["_segments"]
        key = ("mrr", row["frequency"], as_of)
        value = parsed.memo.get(key)
        if value is None:
            value = domain.monthly_recurring(parsed.segments, row["frequency"], as_of)
            if len(parsed.memo) >= 4:
                parsed.memo.clear()
            parsed.memo[key] = value
        if value > 0:
            acc[row["currency"]]["mrr"] += value
            acc[row["currency"]]["contracts"] += 1
    return acc


def schedule_forecast(
    rows: Sequence[Mapping[str, Any]], rates: Mapping[str, Decimal], first: dt.date, last: dt.date
) -> dict[tuple[str, str], Decimal]:
    """What the schedules will still invoice (gross, each charge rounded as an invoice line
    would be), by the month it falls due between ``first`` and ``last``: ``{(currency, month):
    amount}``. A schedule's part is remembered with its parsed segments, keyed by everything it
    depends on (terms, cursor, tax rates, the year), so an unchanged schedule costs a lookup."""
    out: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    rate_cache: dict[tuple[str | None, str | None], Decimal] = {}
    rates_key = (tuple(sorted(rates.items())), taxes.default_percent())

    def rate_of(line: domain.LineTerms) -> Decimal:
        key = (line.category, line.product_kind)
        if key not in rate_cache:
            rate_cache[key] = taxes.rate_for(rates, line.category, line.product_kind)
        return rate_cache[key]

    for row in rows:
        if row["status"] != schedules.ACTIVE or row["next_bill_date"] is None:
            continue
        cur = row["currency"]
        end = schedules.billing_end(row)
        parsed: ParsedSegments = row["_segments"]
        args = (row["start_date"], end, row["frequency"], row["anchor_day"], row["in_advance"],
                row["next_period_start"], row["payment_terms_days"])  # fmt: skip
        key = (*args, cur, rates_key, first, last)
        months = parsed.memo.get(key)
        if months is None:
            months = defaultdict(lambda: ZERO)
            for due, gross in domain.forecast(*args, parsed.segments, cur, rate_of, first, last):
                months[domain.month_key(due)] += gross
            if len(parsed.memo) >= 4:
                parsed.memo.clear()
            parsed.memo[key] = months = dict(months)
        for month, amount in months.items():
            out[(cur, month)] += amount
    return out


def cash_flow_months(
    s: Session,
    access: scopes.Access,
    year: int,
    as_of: dt.date,
    rows: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """The cash flow of ``year`` per currency: 12 months of invoiced, collected and forecast
    (open balances when expected from ``as_of`` on, plus what the schedules will still invoice)
    as Decimals. ``rows``: :func:`schedule_rows` (with ``to_invoice``) already read."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    months = months_of(year)
    acc: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(
        lambda: {mo: {"invoiced": ZERO, "collected": ZERO, "forecast": ZERO} for mo in months}
    )
    for (cur, month), vals in flows(s, access, year).items():
        acc[cur][month]["invoiced"] += vals["invoiced"]
        acc[cur][month]["collected"] += vals["collected"]
    if rows is None:
        rows = schedule_rows(s, access, to_invoice=True)
    forecast = expected_balances(s, access, as_of)
    for key, amount in schedule_forecast(rows, taxes.load_rates(s), first, last).items():
        forecast[key] += amount
    for (cur, month), amount in forecast.items():
        if first <= dt.date(int(month[:4]), int(month[5:7]), 1) <= last:
            acc[cur][month]["forecast"] += amount
    return {cur: [{"month": mo, **acc[cur][mo]} for mo in months] for cur in sorted(acc)}


# --------------------------------------------------------------------------------------
# Receivables aging
# --------------------------------------------------------------------------------------


def receivables_aging(db, caller, args: Any = None) -> dict[str, Any]:
    access = _access(caller)
    a = report_args(args)
    as_of = parse_date(a.get("as_of"), "as_of", default=today())
    currency = _currency(a)
    customer_id = (
        parse_id(a["customer_id"], "customer_id") if a.get("customer_id") not in (None, "") else None
    )
    per: dict[str, dict[int, dict[str, Any]]] = defaultdict(dict)
    with db.read() as s:
        groups = receivables(s, access, as_of, currency, customer_id)
        names = customer_names(s, {cid for _, cid, _ in groups})
    for (cur, cid, bucket), g in groups.items():
        row = per[cur].setdefault(
            cid,
            {"customer_id": cid, "customer_name": names.get(cid),
             **dict.fromkeys(domain.AGING_BUCKETS, ZERO), "total": ZERO, "invoices": 0},
        )  # fmt: skip
        row[bucket] += g.amount
        row["total"] += g.amount
        row["invoices"] += g.count
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


def customer_names(s: Session, customer_ids: Iterable[int]) -> dict[int, str | None]:
    """Names from the customers copy; a customer it lacks: the name its latest invoice kept."""
    ids = set(customer_ids)
    names = {cid: row.get("name") for cid, row in customers.rows_of(s, ids).items()}
    for cid in ids:
        if not names.get(cid):
            snap = s.execute(
                select(I.customer).where(I.customer_id == cid).order_by(I.id.desc()).limit(1)
            ).scalar()
            names[cid] = (snap or {}).get("name")
    return names


def _money_row(row: Mapping[str, Any], cur: str) -> dict[str, Any]:
    return {k: (money(v, cur) if isinstance(v, Decimal) else v) for k, v in row.items()}


# --------------------------------------------------------------------------------------
# Cash flow
# --------------------------------------------------------------------------------------


def months_of(year: int) -> list[str]:
    return [f"{year}-{mo:02d}" for mo in range(1, 13)]


def cash_flow(db, caller, args: Any = None) -> dict[str, Any]:
    access = _access(caller)
    a = report_args(args)
    year = report_year(a)
    as_of = parse_date(a.get("as_of"), "as_of", default=today())
    with db.read() as s:
        per = cash_flow_months(s, access, year, as_of)
    out = {
        cur: [{"month": r["month"], **{k: money(r[k], cur) for k in FIGURES}} for r in rows]
        for cur, rows in per.items()
    }
    return {"year": year, "currencies": out}


FIGURES = ("invoiced", "collected", "forecast")


# --------------------------------------------------------------------------------------
# Revenue
# --------------------------------------------------------------------------------------


def revenue(db, caller, args: Any = None) -> dict[str, Any]:
    access = _access(caller)
    a = report_args(args)
    by = a.get("by") or "customer"
    if by not in ("customer", "product"):
        raise ValidationFailed.field("by", "must be customer or product")
    if a.get("from") or a.get("to"):
        start = parse_date(a.get("from"), "from", default=dt.date(1900, 1, 1))
        end = parse_date(a.get("to"), "to", default=dt.date(2200, 12, 31))
    else:
        year = report_year(a)
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
    a = report_args(args)
    as_of = parse_date(a.get("as_of"), "as_of", default=today())
    with db.read() as s:
        acc = mrr(schedule_rows(s, access, in_force_on=as_of), as_of)
    out = {
        cur: {**recurring_figures(v["mrr"], cur), "contracts": v["contracts"]}
        for cur, v in sorted(acc.items())
    }
    return {"as_of": iso(as_of), "currencies": out}


def recurring_figures(value: Decimal, cur: str) -> dict[str, str | None]:
    """``{"mrr", "arr"}`` as the API shows them (rounded to the minor unit)."""
    return {"mrr": money(quantize(value, cur), cur), "arr": money(quantize(value * 12, cur), cur)}
