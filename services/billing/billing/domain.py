"""Pure rules of the billing service (no I/O): billing periods anchored on the contract start,
day-exact proration, the charges of a period over the contract's segments, tax and totals,
document numbers, invoice statuses, payment allocation, credit splits, aging and MRR."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from crm_common.money import quantize

FREQUENCY_MONTHS: dict[str, int] = {"monthly": 1, "quarterly": 3, "yearly": 12}
FREQUENCIES = ("once", "monthly", "quarterly", "yearly")
INVOICE_STATUSES = ("draft", "issued", "partially_paid", "paid", "overdue", "void")
AGING_BUCKETS = ("current", "1_30", "31_60", "61_90", "over_90")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
DAY = dt.timedelta(days=1)


# -- periods -----------------------------------------------------------------------------------


def add_months(day: dt.date, months: int, anchor_day: int | None = None) -> dt.date:
    """``day`` plus ``months`` calendar months on ``anchor_day`` (default ``day``'s own day),
    clamped to the end of a shorter month (31 Jan + 1 month = 28/29 Feb; + 2 months = 31 Mar)."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    want = anchor_day or day.day
    if want <= 28:
        return dt.date(year, month + 1, want)
    return dt.date(year, month + 1, min(want, calendar.monthrange(year, month + 1)[1]))


class Period(NamedTuple):
    """A billing period (a named tuple: made by the ten thousand in a forecast)."""

    start: dt.date
    end: dt.date
    full_start: dt.date
    full_end: dt.date
    bill_date: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def full_days(self) -> int:
        return (self.full_end - self.full_start).days + 1


def _reference(start: dt.date, anchor_day: int | None) -> dt.date:
    """The anchored date on or before ``start`` periods count from."""
    if not anchor_day or anchor_day == start.day:
        return start
    same_month = add_months(start, 0, anchor_day)
    return same_month if same_month <= start else add_months(start, -1, anchor_day)


def periods(
    start: dt.date,
    end: dt.date,
    frequency: str,
    anchor_day: int | None = None,
    in_advance: bool = True,
    skip_to: dt.date | None = None,
) -> Iterator[Period]:
    """Every billing period of the term ``start``–``end`` in order, truncated to the term (a
    truncated period keeps its full range for proration). ``skip_to``: periods that end before
    that day may be left out (a long term is not walked from its start)."""
    if frequency not in FREQUENCIES:
        raise ValueError(f"unknown billing frequency {frequency!r}")
    if end < start:
        return
    if frequency == "once":
        yield Period(start, end, start, end, start if in_advance else end)
        return
    months = FREQUENCY_MONTHS[frequency]
    ref = _reference(start, anchor_day)
    anchor = anchor_day or start.day
    k = 0
    if skip_to is not None and skip_to > ref:
        # period k - 1 ends before the first of (skip_to's month - 1): every one skipped ends before skip_to
        k = max(0, ((skip_to.year - ref.year) * 12 + skip_to.month - ref.month) // months - 1)
    following = add_months(ref, months * k, anchor)
    while True:
        full_start = following
        k += 1
        following = add_months(ref, months * k, anchor)
        full_end = following - DAY
        if full_end < start:
            continue
        if full_start > end:
            return
        s, e = max(full_start, start), min(full_end, end)
        yield Period(s, e, full_start, full_end, s if in_advance else e)


def due_and_next(
    start: dt.date,
    end: dt.date,
    frequency: str,
    anchor_day: int | None,
    in_advance: bool,
    next_period_start: dt.date | None,
    as_of: dt.date,
) -> tuple[list[Period], Period | None]:
    """In one pass: the periods not invoiced yet (starting on or after ``next_period_start``)
    whose bill date is on or before ``as_of``, in order, and the first one after them (the next
    bill), ``None`` when the term has no more."""
    out: list[Period] = []
    for p in periods(start, end, frequency, anchor_day, in_advance):
        if next_period_start is not None and p.start < next_period_start:
            continue
        if p.bill_date > as_of:
            return out, p
        out.append(p)
    return out, None


def due_periods(
    start: dt.date,
    end: dt.date,
    frequency: str,
    anchor_day: int | None,
    in_advance: bool,
    next_period_start: dt.date | None,
    as_of: dt.date,
) -> list[Period]:
    """Periods not invoiced yet (starting on or after ``next_period_start``) whose bill date is
    on or before ``as_of``, in order."""
    return due_and_next(start, end, frequency, anchor_day, in_advance, next_period_start, as_of)[0]


# -- lines, segments, charges ------------------------------------------------------------------


class LineTerms(NamedTuple):
    line_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    start: dt.date
    end: dt.date
    product_id: int | None = None
    sku: str | None = None
    category: str | None = None
    product_kind: str | None = None

    @property
    def amount(self) -> Decimal:
        """Per billing period, exact: quantity × unit price × (100 − discount) / 100."""
        return self.quantity * self.unit_price * (HUNDRED - self.discount_percent) / HUNDRED


class Segment(NamedTuple):
    effective_from: dt.date
    lines: tuple[LineTerms, ...]


class Charge(NamedTuple):
    line: LineTerms
    covered_days: int
    period_days: int
    amount: Decimal

    @property
    def full(self) -> bool:
        return self.covered_days == self.period_days


def prorate(amount: Decimal, covered_days: int, period_days: int) -> Decimal:
    """``amount`` × covered ÷ period days, exact (rounding happens on the document)."""
    if period_days <= 0:
        raise ValueError("a period has at least one day")
    if covered_days == period_days:
        return amount
    return amount * Decimal(covered_days) / Decimal(period_days)


def _overlap(a: dt.date, b: dt.date, c: dt.date, d: dt.date) -> int:
    lo, hi = max(a, c), min(b, d)
    return (hi - lo).days + 1 if hi >= lo else 0


def period_charges(
    period: Period, segments: Sequence[Segment], frequency: str, billing_end: dt.date
) -> list[Charge]:
    """What each line costs in ``period``: per segment piece, the line's amount × the days the
    line is in force in the period (and the segment, and before ``billing_end``) ÷ the days of the
    full period; ``once``: the full amount of every line in force in the term. Consecutive
    pieces of one line at the same price are merged."""
    ordered = sorted(segments, key=lambda s: s.effective_from)
    pieces: list[Charge] = []
    full_days = period.full_days
    for i, seg in enumerate(ordered):
        seg_start = seg.effective_from
        seg_end = ordered[i + 1].effective_from - DAY if i + 1 < len(ordered) else dt.date.max
        lo = max(period.start, seg_start)
        hi = min(period.end, seg_end, billing_end)
        if hi < lo:
            continue
        for line in seg.lines:
            days = _overlap(lo, hi, line.start, line.end)
            if days <= 0:
                continue
            if frequency == "once":
                pieces.append(Charge(line, full_days, full_days, line.amount))
                continue
            pieces.append(Charge(line, days, full_days, prorate(line.amount, days, full_days)))
    merged: list[Charge] = []
    for c in pieces:
        prev = _last_of(merged, c.line.line_id)
        if prev is not None and frequency == "once":
            continue  # once: a line is charged once, on its first terms
        if prev is not None and _same_terms(prev.line, c.line):
            days = prev.covered_days + c.covered_days
            merged[merged.index(prev)] = Charge(
                prev.line, days, full_days, prorate(prev.line.amount, days, full_days)
            )
        else:
            merged.append(c)
    return merged


def _last_of(charges: Sequence[Charge], line_id: int | None) -> Charge | None:
    if line_id is None:
        return None
    return next((c for c in reversed(charges) if c.line.line_id == line_id), None)


def _same_terms(a: LineTerms, b: LineTerms) -> bool:
    return (a.quantity, a.unit_price, a.discount_percent) == (b.quantity, b.unit_price, b.discount_percent)


def period_gross(
    period: Period,
    segments: Sequence[Segment],
    frequency: str,
    billing_end: dt.date,
    currency: str,
    rate_of: Callable[[LineTerms], Decimal],
) -> Decimal:
    """What the invoice of ``period`` will come to: each charge rounded as an invoice line is,
    plus its tax at ``rate_of(line)``."""
    gross = ZERO
    for c in period_charges(period, segments, frequency, billing_end):
        net = quantize(c.amount, currency)
        gross += net + line_tax(net, rate_of(c.line), currency)
    return gross


def _full_period_shape(period: Period, segments: Sequence[Segment]) -> tuple[int, tuple[int, ...]] | None:
    """For a full period inside one segment whose lines each cover all of it or none of it: the
    segment's index and the covering lines' (then every such period costs the same); else None."""
    if period.start != period.full_start or period.end != period.full_end:
        return None
    index = None
    for i, seg in enumerate(segments):
        if seg.effective_from <= period.start:
            index = i
        elif seg.effective_from <= period.end:
            return None  # a new version takes effect inside the period
    if index is None:
        return None
    covering = []
    for j, li in enumerate(segments[index].lines):
        if li.start <= period.start and li.end >= period.end:
            covering.append(j)
        elif li.end >= period.start and li.start <= period.end:
            return None  # a line starts or ends inside the period: prorated
    return index, tuple(covering)


def forecast(
    start: dt.date,
    billing_end: dt.date,
    frequency: str,
    anchor_day: int | None,
    in_advance: bool,
    cursor: dt.date | None,
    payment_terms_days: int,
    segments: Sequence[Segment],
    currency: str,
    rate_of: Callable[[LineTerms], Decimal],
    first: dt.date,
    last: dt.date,
) -> Iterator[tuple[dt.date, Decimal]]:
    """``(due date, gross)`` of each period of a schedule not invoiced yet (starting on or after
    ``cursor``) that falls due between ``first`` and ``last``; the same as :func:`period_gross`
    of each, computed once for the full periods that cost the same."""
    segments = sorted(segments, key=lambda x: x.effective_from)
    terms = dt.timedelta(days=payment_terms_days)
    same: dict[tuple[int, tuple[int, ...]], Decimal] = {}
    # one version whose lines all run the whole term: every full period has the same shape
    simple = (
        len(segments) == 1
        and segments[0].effective_from <= start
        and all(li.start <= start and li.end >= billing_end for li in segments[0].lines)
    )
    whole: tuple[int, tuple[int, ...]] = (0, tuple(range(len(segments[0].lines)))) if simple else (0, ())
    if simple and frequency != "once":
        ids = [li.line_id for li in segments[0].lines if li.line_id is not None]
        if len(ids) == len(set(ids)):
            # each line charged in full, nothing to merge: what period_charges comes to, directly
            same[whole] = sum(
                (net + line_tax(net, rate_of(li), currency) for li in segments[0].lines
                 for net in (quantize(li.amount, currency),)),
                ZERO,
            )  # fmt: skip
    # a period ending before first − terms falls due before first
    skip_to = max(cursor, first - terms) if cursor is not None else first - terms
    for p in periods(start, billing_end, frequency, anchor_day, in_advance, skip_to=skip_to):
        if cursor is not None and p.start < cursor:
            continue
        due = p.bill_date + terms
        if due > last:
            return
        if due < first:
            continue
        if simple:
            shape = whole if p.start == p.full_start and p.end == p.full_end else None
        else:
            shape = _full_period_shape(p, segments)
        if shape is None:
            yield due, period_gross(p, segments, frequency, billing_end, currency, rate_of)
            continue
        if shape not in same:
            same[shape] = period_gross(p, segments, frequency, billing_end, currency, rate_of)
        yield due, same[shape]


# -- tax, totals, numbers --------------------------------------------------------------------


def line_tax(net: Decimal, tax_percent: Decimal, currency: str) -> Decimal:
    return quantize(net * tax_percent / HUNDRED, currency)


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def invoice_totals(lines: Iterable[tuple[Decimal, Decimal]], currency: str) -> Totals:
    """Subtotal = Σ net, tax = Σ line tax (both already rounded), total = subtotal + tax."""
    subtotal, tax = ZERO, ZERO
    for net, t in lines:
        subtotal += net
        tax += t
    subtotal, tax = quantize(subtotal, currency), quantize(tax, currency)
    return Totals(subtotal, tax, subtotal + tax)


def counter_name(series: str, year: int) -> str:
    return f"{series}-{year}"


def document_number(series: str, year: int, n: int) -> str:
    return f"{series}-{year}-{n:06d}"


# -- statuses ---------------------------------------------------------------------------------


def balance(total: Decimal, paid: Decimal, credited: Decimal) -> Decimal:
    return total - credited - paid


def invoice_status(status: str, total: Decimal, paid: Decimal, credited: Decimal, overdue: bool) -> str:
    """The status an issued invoice has after a payment, credit, refund or due date passes."""
    if status in ("draft", "void"):
        return status
    if balance(total, paid, credited) <= 0:
        return "paid"
    if overdue:
        return "overdue"
    if paid > 0 or credited > 0:
        return "partially_paid"
    return "issued"


def is_overdue(due_date: dt.date, as_of: dt.date, balance: Decimal, status: str) -> bool:
    """An open invoice with something left to pay after its due date (the due day itself is not late)."""
    return status in ("issued", "partially_paid") and balance > 0 and due_date < as_of


# -- allocation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    balance: Decimal
    due_date: dt.date
    issue_date: dt.date
    number: str | None = None


def allocate_oldest_first(
    amount: Decimal, invoices: Sequence[OpenInvoice]
) -> tuple[list[tuple[int, Decimal]], Decimal]:
    """Pay the oldest due first (then the oldest issued, then the lowest id); what is left over."""
    out: list[tuple[int, Decimal]] = []
    left = amount
    for inv in sorted(invoices, key=lambda i: (i.due_date, i.issue_date, i.id)):
        if left <= 0:
            break
        if inv.balance <= 0:
            continue
        take = min(left, inv.balance)
        out.append((inv.id, take))
        left -= take
    return out, left


def check_allocations(
    payment_amount: Decimal, requested: Sequence[tuple[int, Decimal]], balances: Mapping[int, Decimal]
) -> dict[str, list[str]]:
    """Problems of explicit allocations by field; unknown invoices are the caller's to report."""
    problems: dict[str, list[str]] = {}
    seen: set[int] = set()
    total = ZERO
    for i, (invoice_id, amount) in enumerate(requested):
        if not amount.is_finite() or amount <= 0:
            problems[f"allocations.{i}.amount"] = ["must be greater than 0"]
            continue
        if invoice_id in seen:
            problems[f"allocations.{i}.invoice_id"] = ["named twice"]
            continue
        seen.add(invoice_id)
        bal = balances.get(invoice_id)
        if bal is not None and amount > bal:
            problems[f"allocations.{i}.amount"] = [f"more than the invoice's balance {format(bal, 'f')}"]
        total += amount
    if total > payment_amount:
        problems.setdefault("allocations", []).append(
            f"they add up to {format(total, 'f')}, more than the payment's {format(payment_amount, 'f')}"
        )
    return problems


# -- credit notes -----------------------------------------------------------------------------


def split_credit(
    gross: Decimal, lines: Sequence[tuple[int, Decimal, Decimal]], currency: str
) -> list[tuple[int, Decimal, Decimal]]:
    """Spread a gross credit over lines (id, net remaining, tax %) in proportion to their
    remaining gross; net + tax of the result add up to ``gross`` exactly."""
    if gross < 0:
        raise ValueError("a credit is not negative")
    grosses = [(lid, net, pct, net + line_tax(net, pct, currency)) for lid, net, pct in lines if net > 0]
    available = sum((g for *_, g in grosses), ZERO)
    if gross > available:
        raise ValueError(f"{gross} is more than the creditable {available}")
    if gross == available:
        return [(lid, net, line_tax(net, pct, currency)) for lid, net, pct, _ in grosses]
    out: list[tuple[int, Decimal, Decimal]] = []
    left = gross
    for i, (lid, net, pct, g) in enumerate(grosses):
        share = left if i == len(grosses) - 1 else min(quantize(gross * g / available, currency), left)
        # the net of this share: share / (1 + pct/100), tax the rest, never beyond the line
        part_net = min(quantize(share * HUNDRED / (HUNDRED + pct), currency), net)
        part_tax = share - part_net
        out.append((lid, part_net, part_tax))
        left -= share
    return out


# -- reports ----------------------------------------------------------------------------------


# (bucket, most days past due): an invoice is in the first bucket whose limit its lateness keeps
AGING_LIMITS: tuple[tuple[str, int], ...] = (("current", 0), ("1_30", 30), ("31_60", 60), ("61_90", 90))
EXACT_PLACES = 6  # money is stored with six decimals at most (NUMERIC(24, 6))


def aging_bucket(due_date: dt.date, as_of: dt.date) -> str:
    """The receivables bucket by days past due: 0 or less current, then 1–30, 31–60, 61–90, over 90."""
    late = (as_of - due_date).days
    for bucket, limit in AGING_LIMITS:
        if late <= limit:
            return bucket
    return AGING_BUCKETS[-1]


def aging_bounds(as_of: dt.date) -> list[tuple[str, dt.date]]:
    """The same buckets as due dates (for a query): an invoice falls due on or after the bound
    of its bucket, the first that matches; before every bound: over 90."""
    return [(bucket, as_of - dt.timedelta(days=limit)) for bucket, limit in AGING_LIMITS]


def is_past_due(bucket: str) -> bool:
    return bucket != AGING_BUCKETS[0]


def expected_month(due_date: dt.date, as_of: dt.date) -> str:
    """When an open balance is expected: its due month, or ``as_of``'s month once overdue."""
    return month_key(max(due_date, as_of))


def from_scaled(value: int) -> Decimal:
    """An amount summed as an integer of millionths, back as an exact decimal."""
    return Decimal(value).scaleb(-EXACT_PLACES)


def top_ranked(totals: Mapping[int, Decimal], n: int) -> list[int]:
    """The ``n`` keys with the largest totals, largest first (ties: the smaller key first)."""
    return [k for k, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def segment_on(segments: Sequence[Segment], day: dt.date) -> Segment | None:
    """The segment (contract version) in force on ``day``."""
    current = None
    for seg in sorted(segments, key=lambda x: x.effective_from):
        if seg.effective_from <= day:
            current = seg
    return current


def monthly_recurring(segments: Sequence[Segment], frequency: str, day: dt.date) -> Decimal:
    """A schedule's MRR on ``day``: each line in force that day, its amount per period ÷ the
    months of a period, exact; ``once`` contributes none."""
    segment = segment_on(segments, day)
    if segment is None or frequency == "once":
        return ZERO
    return sum(
        (monthly_value(li.amount, frequency) for li in segment.lines if li.start <= day <= li.end), ZERO
    )


def monthly_value(amount_per_period: Decimal, frequency: str) -> Decimal:
    """A period amount as monthly recurring revenue, exact; one-off charges are not recurring."""
    months = FREQUENCY_MONTHS.get(frequency)
    if not months:
        return ZERO
    return amount_per_period / Decimal(months)


def month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"
