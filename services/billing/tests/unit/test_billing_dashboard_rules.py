"""Pure rules behind the reports and the dashboard (no database): aging bounds, expected months,
ranking, MRR of a schedule, the forecast of a schedule's remaining periods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing import domain

D = Decimal


def test_aging_bounds_put_every_due_date_in_the_same_bucket_as_aging_bucket():
    as_of = dt.date(2027, 3, 31)
    bounds = domain.aging_bounds(as_of)
    for days in range(-40, 200):
        due = as_of - dt.timedelta(days=days)
        by_bounds = next((name for name, bound in bounds if due >= bound), domain.AGING_BUCKETS[-1])
        assert by_bounds == domain.aging_bucket(due, as_of), due
    assert domain.aging_bucket(as_of, as_of) == "current"
    assert domain.aging_bucket(as_of - dt.timedelta(days=91), as_of) == "over_90"
    assert not domain.is_past_due("current") and domain.is_past_due("1_30")


def test_expected_month_is_the_due_month_or_as_of_once_overdue():
    as_of = dt.date(2027, 3, 20)
    assert domain.expected_month(dt.date(2027, 5, 2), as_of) == "2027-05"
    assert domain.expected_month(dt.date(2026, 11, 30), as_of) == "2027-03"


def test_scaled_sums_come_back_exact():
    assert domain.from_scaled(1_234_560_000) == D("1234.56")
    assert domain.from_scaled(-1) == D("-0.000001")


def test_top_ranked_largest_first_ties_by_key_and_at_most_n():
    totals = {5: D("10"), 3: D("30"), 9: D("30"), 1: D("-2"), 7: D("0")}
    assert domain.top_ranked(totals, 3) == [3, 9, 5]
    assert domain.top_ranked(totals, 10) == [3, 9, 5, 7, 1]


def _line(line_id, price, start, end, **kw):
    return domain.LineTerms(
        line_id=line_id, description=f"line {line_id}", quantity=D(kw.get("quantity", "1")),
        unit_price=D(price), discount_percent=D(kw.get("discount", "0")), start=start, end=end,
        category=kw.get("category"), product_kind=kw.get("kind"),
    )  # fmt: skip


def test_monthly_recurring_uses_the_version_in_force_and_lines_of_that_day():
    start, end = dt.date(2027, 1, 15), dt.date(2028, 1, 14)
    v1 = domain.Segment(start, (_line(1, "100", start, end), _line(2, "30", dt.date(2027, 6, 1), end)))
    v2 = domain.Segment(dt.date(2027, 9, 1), (_line(1, "120", start, end),))
    segments = [v2, v1]  # any order
    assert domain.monthly_recurring(segments, "monthly", dt.date(2027, 3, 1)) == D("100")
    assert domain.monthly_recurring(segments, "monthly", dt.date(2027, 7, 1)) == D("130")
    assert domain.monthly_recurring(segments, "monthly", dt.date(2027, 10, 1)) == D("120")
    assert domain.monthly_recurring(segments, "quarterly", dt.date(2027, 10, 1)) == D("40")
    assert domain.monthly_recurring(segments, "once", dt.date(2027, 10, 1)) == 0
    assert domain.monthly_recurring(segments, "monthly", dt.date(2027, 1, 1)) == 0  # before the start


def _naive_forecast(
    start, end, frequency, anchor, in_advance, cursor, terms, segments, cur, rate_of, first, last
):
    out = []
    for p in domain.periods(start, end, frequency, anchor, in_advance):
        if cursor is not None and p.start < cursor:
            continue
        due = p.bill_date + dt.timedelta(days=terms)
        if first <= due <= last:
            out.append((due, domain.period_gross(p, segments, frequency, end, cur, rate_of)))
    return out


def test_forecast_equals_every_period_computed_in_full():
    """The forecast reuses the gross of full periods that cost the same; partial periods, a
    line starting mid-period, an amendment and the term's end are each computed — the result
    is the same as computing every period."""
    start, end = dt.date(2027, 1, 31), dt.date(2028, 3, 10)
    v1 = domain.Segment(
        start,
        (_line(1, "100.005", start, end, category="services"),
         _line(2, "33.33", dt.date(2027, 4, 10), dt.date(2027, 9, 20), quantity="3", discount="12.5")),
    )  # fmt: skip
    v2 = domain.Segment(dt.date(2027, 7, 15), (_line(1, "120", start, end, category="services"),))
    rates = {"services": D("19")}

    def rate_of(line):
        return rates.get(line.category or "", D("7"))

    for frequency in ("monthly", "quarterly", "yearly", "once"):
        for cursor in (None, dt.date(2027, 5, 31), dt.date(2027, 8, 31)):
            for anchor in (None, 1):
                args = (start, end, frequency, anchor, True, cursor, 30, [v2, v1], "EUR", rate_of)
                window = (dt.date(2027, 1, 1), dt.date(2027, 12, 31))
                fast = list(domain.forecast(*args, *window))
                assert fast == _naive_forecast(*args[:6], 30, sorted([v1, v2], key=lambda s: s.effective_from),
                                               "EUR", rate_of, *window), (frequency, cursor, anchor)  # fmt: skip
    # one version whose lines run the whole term (the common case), also with a line id twice
    whole = domain.Segment(
        start, (_line(1, "100.005", start, end, category="services"), _line(2, "0.333", start, end))
    )
    twice = domain.Segment(start, (*whole.lines, _line(2, "0.333", start, end)))
    for segment in (whole, twice):
        for frequency in ("monthly", "quarterly", "yearly", "once"):
            for anchor in (None, 15):
                args = (start, end, frequency, anchor, False, None, 14, [segment], "EUR", rate_of)
                window = (dt.date(2027, 1, 1), dt.date(2028, 12, 31))
                assert list(domain.forecast(*args, *window)) == _naive_forecast(*args, *window)
    months = list(domain.forecast(start, end, "monthly", None, True, None, 0, [v1], "EUR", rate_of,
                                  dt.date(2027, 2, 1), dt.date(2027, 2, 28)))  # fmt: skip
    # 28 Feb: the period 28 Feb – 30 Mar; 100.005 → 100.01 (+19 % = 19.00)
    assert months == [(dt.date(2027, 2, 28), D("119.01"))]


def test_periods_skip_to_leaves_out_only_periods_ending_before_it():
    start, end = dt.date(2025, 1, 31), dt.date(2029, 1, 30)
    for frequency in ("monthly", "quarterly", "yearly"):
        every = list(domain.periods(start, end, frequency, None, False))
        for skip in (dt.date(2024, 1, 1), dt.date(2026, 3, 1), dt.date(2027, 12, 31), dt.date(2030, 1, 1)):
            some = list(domain.periods(start, end, frequency, None, False, skip_to=skip))
            assert some == every[len(every) - len(some) :]
            assert [p for p in every if p.full_end >= skip] == [p for p in some if p.full_end >= skip]
