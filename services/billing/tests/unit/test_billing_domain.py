"""The pure rules of billing: anchored periods, day-exact proration, charges over segments, tax
and totals, numbers, statuses, allocation, credit splits, aging and MRR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from billing import domain

D = dt.date
Q = Decimal


def line(price="100", line_id=1, start=D(2027, 1, 1), end=D(2027, 12, 31), quantity="1", discount="0"):
    return domain.LineTerms(line_id, f"line {line_id}", Q(quantity), Q(price), Q(discount), start, end)


def spans(ps):
    return [(p.start, p.end, p.full_start, p.full_end, p.bill_date) for p in ps]


# -- periods ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day, months, anchor, expected",
    [
        (D(2027, 1, 31), 1, None, D(2027, 2, 28)),
        (D(2027, 1, 31), 2, None, D(2027, 3, 31)),
        (D(2027, 2, 28), 1, 31, D(2027, 3, 31)),
        (D(2028, 1, 31), 1, None, D(2028, 2, 29)),
        (D(2027, 11, 15), 3, None, D(2028, 2, 15)),
        (D(2027, 3, 31), -1, None, D(2027, 2, 28)),
    ],
)
def test_billing_add_months_clamps_to_the_month_end(day, months, anchor, expected):
    assert domain.add_months(day, months, anchor) == expected


def test_billing_a_twelve_month_contract_billed_monthly_is_twelve_full_periods_and_twelve_amounts():
    ps = list(domain.periods(D(2027, 1, 1), D(2027, 12, 31), "monthly"))
    assert len(ps) == 12
    assert [p.start for p in ps] == [D(2027, m, 1) for m in range(1, 13)]
    assert ps[-1].end == D(2027, 12, 31) and all(p.days == p.full_days for p in ps)
    seg = [domain.Segment(D(2027, 1, 1), (line("100"),))]
    charges = [c for p in ps for c in domain.period_charges(p, seg, "monthly", D(2027, 12, 31))]
    assert len(charges) == 12 and all(c.full for c in charges)
    assert sum((c.amount for c in charges), Q(0)) == Q("1200")


@pytest.mark.parametrize(
    "frequency, bounds",
    [
        ("yearly", [(D(2027, 1, 1), D(2027, 12, 31), 365)]),
        (
            "quarterly",
            [
                (D(2027, 1, 1), D(2027, 3, 31), 90),
                (D(2027, 4, 1), D(2027, 6, 30), 91),
                (D(2027, 7, 1), D(2027, 9, 30), 92),
                (D(2027, 10, 1), D(2027, 12, 31), 92),
            ],
        ),
    ],
)
def test_billing_a_calendar_year_yearly_and_quarterly(frequency, bounds):
    ps = list(domain.periods(D(2027, 1, 1), D(2027, 12, 31), frequency))
    assert [(p.start, p.end, p.full_days) for p in ps] == bounds
    assert all(p.start == p.full_start and p.end == p.full_end for p in ps)


def test_billing_periods_are_anchored_on_the_start_day():
    ps = list(domain.periods(D(2027, 1, 15), D(2027, 4, 30), "monthly"))
    assert spans(ps) == [
        (D(2027, 1, 15), D(2027, 2, 14), D(2027, 1, 15), D(2027, 2, 14), D(2027, 1, 15)),
        (D(2027, 2, 15), D(2027, 3, 14), D(2027, 2, 15), D(2027, 3, 14), D(2027, 2, 15)),
        (D(2027, 3, 15), D(2027, 4, 14), D(2027, 3, 15), D(2027, 4, 14), D(2027, 3, 15)),
        (D(2027, 4, 15), D(2027, 4, 30), D(2027, 4, 15), D(2027, 5, 14), D(2027, 4, 15)),
    ]
    assert (ps[-1].days, ps[-1].full_days) == (16, 30)


@pytest.mark.parametrize(
    "year, expected",
    [
        (2027, [(D(2027, 1, 31), D(2027, 2, 27)), (D(2027, 2, 28), D(2027, 3, 30)), (D(2027, 3, 31), D(2027, 4, 29))]),
        (2028, [(D(2028, 1, 31), D(2028, 2, 28)), (D(2028, 2, 29), D(2028, 3, 30)), (D(2028, 3, 31), D(2028, 4, 29))]),
    ],
)  # fmt: skip
def test_billing_a_31st_anchor_falls_back_to_the_month_end_then_returns(year, expected):
    ps = list(domain.periods(D(year, 1, 31), D(year, 4, 29), "monthly"))
    assert [(p.start, p.end) for p in ps] == expected


def test_billing_a_leap_year_has_366_days_and_a_29_day_february():
    (year,) = domain.periods(D(2028, 1, 1), D(2028, 12, 31), "yearly")
    assert year.full_days == 366
    feb = list(domain.periods(D(2028, 1, 1), D(2028, 12, 31), "monthly"))[1]
    assert (feb.start, feb.end, feb.full_days) == (D(2028, 2, 1), D(2028, 2, 29), 29)


def test_billing_an_anchor_day_makes_the_first_period_partial():
    ps = list(domain.periods(D(2027, 1, 11), D(2027, 3, 31), "monthly", anchor_day=1))
    assert spans(ps)[0] == (D(2027, 1, 11), D(2027, 1, 31), D(2027, 1, 1), D(2027, 1, 31), D(2027, 1, 11))
    assert [p.start for p in ps] == [D(2027, 1, 11), D(2027, 2, 1), D(2027, 3, 1)]
    seg = [domain.Segment(D(2027, 1, 11), (line("310", start=D(2027, 1, 11), end=D(2027, 3, 31)),))]
    (first,) = domain.period_charges(ps[0], seg, "monthly", D(2027, 3, 31))
    assert (first.covered_days, first.period_days, first.amount) == (21, 31, Q("210"))


def test_billing_a_first_period_of_one_day_is_kept():
    ps = list(domain.periods(D(2027, 1, 31), D(2027, 2, 28), "monthly", anchor_day=1))
    assert [(p.start, p.end, p.days, p.full_days) for p in ps] == [
        (D(2027, 1, 31), D(2027, 1, 31), 1, 31),
        (D(2027, 2, 1), D(2027, 2, 28), 28, 28),
    ]


def test_billing_an_anchor_later_in_the_month_counts_from_the_month_before():
    ps = list(domain.periods(D(2027, 2, 15), D(2027, 4, 30), "monthly", anchor_day=31))
    assert [(p.start, p.end, p.full_start) for p in ps][:2] == [
        (D(2027, 2, 15), D(2027, 2, 27), D(2027, 1, 31)),
        (D(2027, 2, 28), D(2027, 3, 30), D(2027, 2, 28)),
    ]


def test_billing_arrears_bill_at_the_period_end():
    ps = list(domain.periods(D(2027, 1, 15), D(2027, 3, 31), "monthly", in_advance=False))
    assert [p.bill_date for p in ps] == [D(2027, 2, 14), D(2027, 3, 14), D(2027, 3, 31)]


@pytest.mark.parametrize("in_advance, bill", [(True, D(2027, 3, 1)), (False, D(2027, 8, 31))])
def test_billing_once_is_one_period_over_the_whole_term(in_advance, bill):
    (p,) = domain.periods(D(2027, 3, 1), D(2027, 8, 31), "once", in_advance=in_advance)
    assert (p.start, p.end, p.full_start, p.full_end, p.bill_date) == (D(2027, 3, 1), D(2027, 8, 31),
                                                                       D(2027, 3, 1), D(2027, 8, 31), bill)  # fmt: skip


def test_billing_periods_refuse_an_unknown_frequency_and_an_empty_term_has_none():
    with pytest.raises(ValueError):
        list(domain.periods(D(2027, 1, 1), D(2027, 12, 31), "weekly"))
    assert list(domain.periods(D(2027, 2, 1), D(2027, 1, 31), "monthly")) == []


def test_billing_a_thirty_year_contract_is_generated_lazily():
    ps = domain.periods(D(2027, 1, 1), D(2056, 12, 31), "monthly")
    assert next(ps).start == D(2027, 1, 1)
    assert len(list(domain.periods(D(2027, 1, 1), D(2056, 12, 31), "monthly"))) == 360


# -- charges -----------------------------------------------------------------------------------


def charges_of(start, end, frequency, segments, billing_end=None, index=0, **kw):
    billing_end = billing_end or end
    p = list(domain.periods(start, billing_end, frequency, **kw))[index]
    return domain.period_charges(p, segments, frequency, billing_end)


def test_billing_a_monthly_line_is_prorated_by_the_days_of_its_own_month():
    seg = [domain.Segment(D(2027, 1, 1), (line("280", end=D(2027, 2, 10)),))]
    (c,) = charges_of(D(2027, 1, 1), D(2027, 2, 10), "monthly", seg, index=1)
    assert (c.covered_days, c.period_days, c.amount, c.full) == (10, 28, Q("100"), False)


def test_billing_a_quarterly_contract_ending_mid_quarter_prorates_by_that_quarters_days():
    seg = [domain.Segment(D(2027, 1, 1), (line("910", end=D(2027, 5, 15)),))]
    (c,) = charges_of(D(2027, 1, 1), D(2027, 5, 15), "quarterly", seg, index=1)
    assert (c.covered_days, c.period_days, c.amount) == (45, 91, Q("450"))


def test_billing_co_terminated_and_mid_term_lines_are_prorated_by_their_own_dates():
    ended = line("310", line_id=1, end=D(2027, 3, 10))
    added = line("620", line_id=2, start=D(2027, 3, 11))
    outside = line("999", line_id=3, end=D(2027, 2, 28))
    seg = [domain.Segment(D(2027, 1, 1), (ended, added, outside))]
    march = charges_of(D(2027, 1, 1), D(2027, 12, 31), "monthly", seg, index=2)
    assert [(c.line.line_id, c.covered_days, c.period_days, c.amount) for c in march] == [
        (1, 10, 31, Q("100")),
        (2, 21, 31, Q("420")),
    ]


def test_billing_a_price_change_inside_a_period_gives_two_charges_that_split_the_days():
    segs = [
        domain.Segment(D(2027, 1, 11), (line("620"),)),  # out of order on purpose
        domain.Segment(D(2027, 1, 1), (line("310"),)),
    ]
    jan = charges_of(D(2027, 1, 1), D(2027, 12, 31), "monthly", segs)
    assert [(c.line.unit_price, c.covered_days, c.amount) for c in jan] == [
        (Q("310"), 10, Q("100")),
        (Q("620"), 21, Q("420")),
    ]
    (feb,) = charges_of(D(2027, 1, 1), D(2027, 12, 31), "monthly", segs, index=1)
    assert (feb.line.unit_price, feb.amount, feb.full) == (Q("620"), Q("620"), True)


def test_billing_pieces_of_one_line_on_the_same_terms_merge_but_a_return_to_old_terms_does_not():
    same = [domain.Segment(D(2027, 1, 1), (line("310"),)), domain.Segment(D(2027, 1, 11), (line("310"),))]
    (c,) = charges_of(D(2027, 1, 1), D(2027, 12, 31), "monthly", same)
    assert (c.covered_days, c.amount, c.full) == (31, Q("310"), True)
    back = same[:1] + [
        domain.Segment(D(2027, 1, 11), (line("620"),)),
        domain.Segment(D(2027, 1, 21), (line("310"),)),
    ]
    jan = charges_of(D(2027, 1, 1), D(2027, 12, 31), "monthly", back)
    assert [(c.line.unit_price, c.covered_days) for c in jan] == [
        (Q("310"), 10),
        (Q("620"), 10),
        (Q("310"), 11),
    ]
    assert sum((c.amount for c in jan), Q(0)) == Q("100") + Q("200") + Q("110")


def test_billing_a_termination_cuts_billing_at_the_day_before_it_takes_effect():
    seg = [domain.Segment(D(2027, 1, 1), (line("310"),))]
    billing_end = D(2027, 3, 16) - dt.timedelta(days=1)
    ps = list(domain.periods(D(2027, 1, 1), billing_end, "monthly"))
    assert [p.end for p in ps] == [D(2027, 1, 31), D(2027, 2, 28), D(2027, 3, 15)]
    (c,) = domain.period_charges(ps[-1], seg, "monthly", billing_end)
    assert (c.covered_days, c.period_days, c.amount) == (15, 31, Q("150"))
    full_march = list(domain.periods(D(2027, 1, 1), D(2027, 12, 31), "monthly"))[2]
    (cut,) = domain.period_charges(full_march, seg, "monthly", billing_end)  # a planned period, cut
    assert cut.amount == Q("150")
    assert domain.period_charges(full_march, seg, "monthly", D(2027, 2, 28)) == []


def test_billing_once_charges_every_line_in_the_term_in_full_and_once():
    lines = (line("500", line_id=1, end=D(2027, 1, 5)), line("70", line_id=2, start=D(2027, 6, 1)),
             line("9", line_id=3, start=D(2028, 1, 1), end=D(2028, 2, 1)))  # fmt: skip
    segs = [domain.Segment(D(2027, 1, 1), lines), domain.Segment(D(2027, 7, 1), lines[1:])]
    cs = charges_of(D(2027, 1, 1), D(2027, 12, 31), "once", segs)
    assert [(c.line.line_id, c.amount, c.full) for c in cs] == [(1, Q("500"), True), (2, Q("70"), True)]


def test_billing_line_amounts_prorate_and_line_tax_are_exact_until_the_document_rounds():
    assert line("33.33", quantity="3", discount="10").amount == Q("89.991")
    assert domain.prorate(Q("100"), 10, 31) == Q(100) * 10 / 31
    assert domain.prorate(Q("100"), 31, 31) == Q("100")
    with pytest.raises(ValueError):
        domain.prorate(Q("1"), 0, 0)
    assert domain.line_tax(Q("32.26"), Q("19"), "EUR") == Q("6.13")  # 6.1294
    assert domain.line_tax(Q("10.05"), Q("10"), "EUR") == Q("1.01")  # 1.005 half-up
    assert domain.line_tax(Q("1055"), Q("10"), "JPY") == Q("106")  # 105.5 half-up
    totals = domain.invoice_totals([(Q("100.00"), Q("20.00")), (Q("32.26"), Q("6.13"))], "EUR")
    assert totals == domain.Totals(Q("132.26"), Q("26.13"), Q("158.39"))
    assert str(domain.invoice_totals([], "EUR").total) == "0.00"


# -- due periods ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_start, as_of, in_advance, expected",
    [
        (None, D(2027, 12, 31), True, [D(2027, m, 1) for m in range(1, 13)]),
        (None, D(2026, 12, 31), True, []),
        (D(2027, 6, 1), D(2027, 7, 15), True, [D(2027, 6, 1), D(2027, 7, 1)]),
        (D(2027, 6, 1), D(2027, 5, 31), True, []),
        (D(2027, 6, 1), D(2027, 7, 15), False, [D(2027, 6, 1)]),
        (None, D(2027, 1, 31), False, [D(2027, 1, 1)]),
        (D(2028, 1, 1), D(2030, 1, 1), True, []),
    ],
)
def test_billing_due_periods(next_start, as_of, in_advance, expected):
    due = domain.due_periods(D(2027, 1, 1), D(2027, 12, 31), "monthly", None, in_advance, next_start, as_of)
    assert [p.start for p in due] == expected


def test_billing_a_missed_year_is_caught_up_once_and_never_billed_twice():
    cursor, billed = None, []
    for as_of in [D(2028, 1, 10), D(2028, 1, 11), D(2028, 6, 1)]:
        due = domain.due_periods(D(2027, 1, 15), D(2028, 1, 14), "monthly", None, True, cursor, as_of)
        billed += due
        if due:
            cursor = due[-1].end + dt.timedelta(days=1)
    assert len(billed) == 12 and len({p.start for p in billed}) == 12
    assert billed[-1].start == D(2027, 12, 15) and cursor == D(2028, 1, 15)


# -- numbers, statuses ------------------------------------------------------------------------


def test_billing_document_numbers_and_counters():
    assert domain.document_number("INV", 2027, 1) == "INV-2027-000001"
    assert domain.document_number("CN", 2027, 42) == "CN-2027-000042"
    assert domain.counter_name("INV", 2027) == "INV-2027"
    assert domain.month_key(D(2027, 3, 9)) == "2027-03"


@pytest.mark.parametrize(
    "status, total, paid, credited, overdue, expected",
    [
        ("draft", "100", "0", "0", True, "draft"),
        ("void", "100", "0", "0", False, "void"),
        ("issued", "100", "0", "0", False, "issued"),
        ("issued", "100", "0", "0", True, "overdue"),
        ("issued", "100", "40", "0", False, "partially_paid"),
        ("issued", "100", "0", "10", False, "partially_paid"),
        ("partially_paid", "100", "40", "0", True, "overdue"),
        ("overdue", "100", "60", "40", True, "paid"),
        ("issued", "100", "100", "0", False, "paid"),
        ("paid", "100", "50", "0", False, "partially_paid"),  # a refund reopens it
        ("issued", "0", "0", "0", False, "paid"),
    ],
)
def test_billing_invoice_status(status, total, paid, credited, overdue, expected):
    assert domain.invoice_status(status, Q(total), Q(paid), Q(credited), overdue) == expected
    assert expected in domain.INVOICE_STATUSES


def test_billing_balance_and_overdue():
    assert domain.balance(Q("120.00"), Q("50.00"), Q("20.00")) == Q("50.00")
    due = D(2027, 2, 14)
    assert domain.is_overdue(due, D(2027, 2, 15), Q("1"), "issued")
    assert domain.is_overdue(due, D(2027, 2, 15), Q("1"), "partially_paid")
    assert not domain.is_overdue(due, D(2027, 2, 14), Q("1"), "issued")  # due today is not late
    assert not domain.is_overdue(due, D(2027, 3, 1), Q("0"), "issued")
    assert not domain.is_overdue(due, D(2027, 3, 1), Q("1"), "draft")
    assert not domain.is_overdue(due, D(2027, 3, 1), Q("1"), "void")


# -- allocation -------------------------------------------------------------------------------


INVOICES = [
    domain.OpenInvoice(3, Q("30.00"), D(2027, 3, 1), D(2027, 2, 1), "INV-2027-000003"),
    domain.OpenInvoice(2, Q("20.00"), D(2027, 2, 1), D(2027, 1, 10), "INV-2027-000002"),
    domain.OpenInvoice(1, Q("10.00"), D(2027, 2, 1), D(2027, 1, 10), "INV-2027-000001"),
    domain.OpenInvoice(4, Q("50.00"), D(2027, 2, 1), D(2027, 1, 5), "INV-2027-000004"),
    domain.OpenInvoice(5, Q("0.00"), D(2027, 1, 1), D(2027, 1, 1), "INV-2027-000005"),
]


@pytest.mark.parametrize(
    "amount, expected, leftover",
    [
        ("65.00", [(4, "50.00"), (1, "10.00"), (2, "5.00")], "0.00"),
        ("110.00", [(4, "50.00"), (1, "10.00"), (2, "20.00"), (3, "30.00")], "0.00"),
        ("125.50", [(4, "50.00"), (1, "10.00"), (2, "20.00"), (3, "30.00")], "15.50"),
        ("0.00", [], "0.00"),
    ],
)
def test_billing_payments_are_allocated_oldest_first(amount, expected, leftover):
    chosen, left = domain.allocate_oldest_first(Q(amount), INVOICES)
    assert chosen == [(i, Q(a)) for i, a in expected]
    assert left == Q(leftover)
    assert sum((a for _, a in chosen), Q(0)) + left == Q(amount)


@pytest.mark.parametrize(
    "requested, problems",
    [
        ([(1, "10"), (2, "20")], set()),
        ([(1, "0")], {"allocations.0.amount"}),
        ([(1, "-5")], {"allocations.0.amount"}),
        ([(1, "5"), (1, "5")], {"allocations.1.invoice_id"}),
        ([(1, "10.01")], {"allocations.0.amount"}),
        ([(2, "20"), (3, "40.01")], {"allocations", "allocations.1.amount"}),
        ([(2, "20"), (3, "30")], {"allocations"}),
    ],
)
def test_billing_check_allocations(requested, problems):
    balances = {1: Q("10"), 2: Q("20"), 3: Q("40")}
    found = domain.check_allocations(Q("45"), [(i, Q(a)) for i, a in requested], balances)
    assert set(found) == problems
    assert all(isinstance(v, list) and v for v in found.values())


# -- credit notes -------------------------------------------------------------------------------


CREDIT_LINES = [
    (1, Q("100.00"), Q("20")),
    (2, Q("50.00"), Q("10")),
    (3, Q("33.33"), Q("0")),
]  # gross 120 + 55 + 33.33 = 208.33


@pytest.mark.parametrize("gross", ["0.01", "10.00", "99.99", "133.33", "200.00", "208.32"])
def test_billing_a_credit_is_split_in_proportion_and_sums_exactly(gross):
    parts = domain.split_credit(Q(gross), CREDIT_LINES, "EUR")
    assert [p[0] for p in parts] == [1, 2, 3]
    assert sum((n + t for _, n, t in parts), Q(0)) == Q(gross)
    for (_, net, tax), (_, rest, _pct) in zip(parts, CREDIT_LINES, strict=True):
        assert Q(0) <= net <= rest and tax >= 0
        assert net == net.quantize(Q("0.01")) and tax == tax.quantize(Q("0.01"))


def test_billing_credit_shares_follow_each_lines_remaining_gross():
    parts = domain.split_credit(Q("104.17"), CREDIT_LINES, "EUR")  # half of 208.33, rounded
    assert parts[0] == (1, Q("50.00"), Q("10.00"))  # 60 of the line's 120
    assert parts[1] == (2, Q("25.00"), Q("2.50"))  # 27.50 of 55
    assert parts[2] == (3, Q("16.67"), Q("0.00"))  # the rest


def test_billing_the_whole_credit_is_each_lines_rest_and_more_is_refused():
    parts = domain.split_credit(Q("208.33"), CREDIT_LINES, "EUR")
    assert parts == [(1, Q("100.00"), Q("20.00")), (2, Q("50.00"), Q("5.00")), (3, Q("33.33"), Q("0.00"))]
    with pytest.raises(ValueError):
        domain.split_credit(Q("208.34"), CREDIT_LINES, "EUR")
    with pytest.raises(ValueError):
        domain.split_credit(Q("-1"), CREDIT_LINES, "EUR")
    (jpy,) = domain.split_credit(Q("55"), [(9, Q("100"), Q("10"))], "JPY")
    assert jpy == (9, Q("50"), Q("5"))


# -- reports ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "late, bucket",
    [(-5, "current"), (0, "current"), (1, "1_30"), (30, "1_30"), (31, "31_60"), (60, "31_60"),
     (61, "61_90"), (90, "61_90"), (91, "over_90"), (400, "over_90")],
)  # fmt: skip
def test_billing_aging_buckets(late, bucket):
    due = D(2027, 6, 30)
    assert domain.aging_bucket(due, due + dt.timedelta(days=late)) == bucket
    assert bucket in domain.AGING_BUCKETS


@pytest.mark.parametrize(
    "frequency, amount, mrr",
    [("monthly", "100", "100"), ("quarterly", "300", "100"), ("yearly", "1200", "100"), ("once", "500", "0"),
     ("yearly", "100", Q(100) / 12)],
)  # fmt: skip
def test_billing_monthly_value(frequency, amount, mrr):
    assert domain.monthly_value(Q(amount), frequency) == Q(mrr)
