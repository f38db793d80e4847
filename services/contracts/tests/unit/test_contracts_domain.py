"""The pure rules of contracts: lifecycle, amounts, terms and renewals, expiry windows, version
comparison and delivery progress."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from contracts import domain
from crm_common.errors import Conflict, PermissionDenied
from crm_common.testing import new_caller

D = dt.date


@pytest.mark.parametrize(
    "status, action, expected",
    [
        ("draft", "submit", "pending_approval"),
        ("pending_approval", "approve", "approved"),
        ("pending_approval", "reject", "draft"),
        ("approved", "activate", "active"),
        ("approved", "cancel", "cancelled"),
        ("draft", "cancel", "cancelled"),
        ("active", "terminate", "terminated"),
        ("active", "expire", "expired"),
        ("active", "mark_renewed", "renewed"),
        ("active", "amend", "active"),
    ],
)
def test_contracts_legal_transitions(status, action, expected):
    assert domain.transition(status, action) == expected


@pytest.mark.parametrize(
    "status, action",
    [
        ("active", "cancel"),
        ("draft", "approve"),
        ("approved", "submit"),
        ("expired", "terminate"),
        ("pending_approval", "edit"),
        ("draft", "amend"),
        ("cancelled", "submit"),
    ],
)
def test_contracts_illegal_transitions_are_conflicts_naming_the_state(status, action):
    with pytest.raises(Conflict) as err:
        domain.transition(status, action, "C-2027-000001")
    assert status in err.value.message and "C-2027-000001" in err.value.message
    assert err.value.details["status"] == status


def test_contracts_line_amounts_are_exact():
    assert domain.line_amount(Decimal("3"), Decimal("33.33"), Decimal("10")) == Decimal("89.991")
    assert domain.contract_total([Decimal("0.1")] * 3) == Decimal("0.3")


def test_contracts_uplift_rounds_half_up_to_the_minor_unit():
    assert domain.apply_percent(Decimal("100.00"), Decimal("3"), "EUR") == Decimal("103.00")
    assert domain.apply_percent(Decimal("33.33"), Decimal("2.5"), "EUR") == Decimal("34.16")
    assert domain.apply_percent(Decimal("1000"), Decimal("2.5"), "JPY") == Decimal("1025")


def test_contracts_renewal_term_keeps_calendar_years_and_month_ends():
    assert domain.next_term(D(2027, 1, 1), D(2027, 12, 31)) == (D(2028, 1, 1), D(2028, 12, 31))
    assert domain.next_term(D(2027, 1, 15), D(2027, 2, 14)) == (D(2027, 2, 15), D(2027, 3, 14))
    # 29 Feb starts: the next year clamps to 28 Feb and comes back on leap years
    assert domain.next_term(D(2024, 3, 1), D(2025, 2, 28)) == (D(2025, 3, 1), D(2026, 2, 28))
    # an odd term renews for as many days
    assert domain.next_term(D(2027, 1, 1), D(2027, 1, 10)) == (D(2027, 1, 11), D(2027, 1, 20))


def test_contracts_term_value_counts_whole_periods_and_prorates_the_last_by_days():
    monthly = Decimal("100")
    assert domain.term_value(monthly, "monthly", D(2027, 1, 1), D(2027, 12, 31)) == Decimal("1200")
    assert domain.term_value(monthly, "quarterly", D(2027, 1, 15), D(2028, 1, 14)) == Decimal("400")
    # 1 Jan – 15 Feb: January whole, then 15 of February's 28 days
    value = domain.term_value(monthly, "monthly", D(2027, 1, 1), D(2027, 2, 15))
    assert value == Decimal("100") + Decimal("100") * 15 / 28
    assert domain.term_value(monthly, "once", D(2027, 1, 1), D(2030, 1, 1)) == monthly


def test_contracts_term_and_line_dates_are_checked():
    assert domain.term_problems(D(2027, 2, 1), D(2027, 1, 1)) == {
        "end_date": ["must not be before start_date"]
    }
    assert domain.line_term_problems(D(2026, 12, 1), None, D(2027, 1, 1), D(2027, 12, 31)) == {
        "start_date": ["must lie inside the contract term 2027-01-01 – 2027-12-31"]
    }
    assert domain.line_term_problems(D(2027, 3, 1), D(2027, 2, 1), D(2027, 1, 1), D(2027, 12, 31)) == {
        "end_date": ["must not be before the line's start_date"]
    }


def test_contracts_expiry_window_once_per_window_and_late_starters_get_the_smallest():
    end = D(2027, 12, 31)
    assert domain.expiry_window(end, D(2027, 9, 1), []) == (None, [])
    assert domain.expiry_window(end, D(2027, 10, 2), []) == (90, [])
    assert domain.expiry_window(end, D(2027, 10, 3), [90]) == (None, [])
    assert domain.expiry_window(end, D(2027, 11, 2), [90]) == (60, [])
    assert domain.expiry_window(end, D(2027, 12, 10), []) == (30, [90, 60])
    assert domain.expiry_window(end, D(2028, 1, 1), []) == (None, [])


def test_contracts_scopes():
    rep = domain.read_access(new_caller("sales_rep", user_id=3))
    assert rep.allows(3) and not rep.allows(4)
    assert not domain.read_access(new_caller("finance", user_id=5)).restricted
    with pytest.raises(PermissionDenied):
        domain.write_access(new_caller("finance", user_id=5))
    with pytest.raises(PermissionDenied):
        domain.read_access(new_caller("portal", user_id=6))  # a portal user without a customer


def test_contracts_diff_of_two_snapshots_names_fields_and_lines():
    a = {"title": "A", "total": "10.00", "lines": [{"id": 1, "quantity": "1", "product_name": "X"},
                                                  {"id": 2, "quantity": "2", "product_name": "Y"}]}  # fmt: skip
    b = {"title": "B", "total": "10.00", "lines": [{"id": 1, "quantity": "3", "product_name": "X"},
                                                  {"id": 3, "quantity": "1", "product_name": "Z"}]}  # fmt: skip
    diff = domain.diff_snapshots(a, b)
    assert diff["fields"] == {"title": {"from": "A", "to": "B"}}
    assert [li["id"] for li in diff["lines"]["added"]] == [3]
    assert [li["id"] for li in diff["lines"]["removed"]] == [2]
    assert diff["lines"]["changed"] == [
        {"id": 1, "product_name": "X", "changes": {"quantity": {"from": "1", "to": "3"}}}
    ]


def test_contracts_delivery_progress_against_plan():
    ms = [
        {"id": 1, "weight": Decimal(1), "percent_complete": 100, "planned_date": D(2027, 2, 1)},
        {"id": 2, "weight": Decimal(1), "percent_complete": 20, "planned_date": D(2027, 3, 1)},
        {"id": 3, "weight": Decimal(2), "percent_complete": 0, "planned_date": D(2027, 6, 1)},
    ]
    p = domain.delivery_progress(ms, D(2027, 3, 15))
    assert p["actual_percent"] == "30.0" and p["planned_percent"] == "50.0"
    assert p["behind"] is True and p["overdue"] == [2]
    assert domain.delivery_progress([], D(2027, 1, 1))["actual_percent"] is None
