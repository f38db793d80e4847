"""Reports: aging, cash flow, revenue, MRR/ARR — per currency, never mixed."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from billing import reports, runs
from billing_fixtures import FINANCE, line
from crm_common.errors import PermissionDenied, ValidationFailed
from crm_common.testing import new_caller


def test_aging_buckets_per_customer_and_currency(db, finance, customers_known):
    for issue, amount, cur in (("2027-01-01", "100.00", "EUR"), ("2027-03-01", "50.00", "EUR"),
                               ("2027-04-20", "70.00", "EUR"), ("2027-01-01", "30.00", "USD")):  # fmt: skip
        finance.create_invoice({"customer_id": 10, "currency": cur, "issue_date": issue,
                                "lines": [{"description": "x", "quantity": "1", "unit_price": amount}]})  # fmt: skip
    report = finance.receivables_aging({"as_of": "2027-05-15"})
    eur = report["currencies"]["EUR"]["total"]
    # due 31 Jan (104 days late), 31 Mar (45), 20 May (not yet due)
    assert (eur["current"], eur["31_60"], eur["over_90"], eur["total"]) == (
        "70.00",
        "50.00",
        "100.00",
        "220.00",
    )
    assert report["currencies"]["USD"]["total"]["over_90"] == "30.00"
    assert report["currencies"]["EUR"]["customers"][0]["customer_name"] == "上海精密仪器有限公司"
    with pytest.raises(ValidationFailed):
        finance.receivables_aging({"as_of": "yesterday"})


def test_cash_flow_invoiced_collected_and_forecast(db, activate, finance):
    activate()
    runs.run_billing(db, FINANCE, dt.date(2027, 3, 31))  # Jan, Feb, Mar periods
    finance.record_payment({"customer_id": 10, "amount": "100.00", "currency": "EUR", "method": "cash",
                            "received_at": "2027-02-10T08:00:00Z"})  # fmt: skip
    report = finance.cash_flow({"year": 2027})
    months = {r["month"]: r for r in report["currencies"]["EUR"]}
    assert [months[f"2027-{mo:02d}"]["invoiced"] for mo in (1, 2, 3, 4)] == [
        "100.00",
        "100.00",
        "100.00",
        "0.00",
    ]
    assert months["2027-02"]["collected"] == "100.00"
    # open balances by due date: Feb's and Mar's invoices (due 16 Mar / 14 Apr; the January one
    # is paid); the periods not invoiced yet (15 Apr … 15 Dec) fall due 30 days after their bill
    # dates: 15 May … 14 Jan 2028 (the last outside the year)
    assert [months[f"2027-{mo:02d}"]["forecast"] for mo in range(3, 13)] == (
        ["100.00", "100.00"] + ["100.00"] * 8
    )


def test_revenue_by_customer_and_product(db, activate, finance):
    activate(
        lines=[line(501), line(502, sku="PRN-1", product_name="Printer", unit_price="50.00", amount="50.00")]
    )
    runs.run_billing(db, FINANCE, dt.date(2027, 2, 28))
    by_product = finance.revenue({"year": 2027, "by": "product"})["currencies"]["EUR"]
    assert [(i["key"], i["amount"]) for i in by_product["items"]] == [
        ("SVC-MAINT", "200.00"),
        ("PRN-1", "100.00"),
    ]
    by_customer = finance.revenue({"year": 2027})["currencies"]["EUR"]
    assert by_customer["total"] == "300.00" and by_customer["items"][0]["key"] == 10


def test_mrr_and_arr_per_currency(db, activate, finance):
    activate(1)
    activate(
        2,
        currency="USD",
        billing={"frequency": "yearly"},
        lines=[line(unit_price="1200.00", amount="1200.00")],
    )
    activate(3, start_date="2028-06-01", end_date="2029-05-31")  # not in force yet
    report = finance.recurring_revenue({"as_of": "2027-06-01"})
    assert report["currencies"] == {
        "EUR": {"mrr": "100.00", "arr": "1200.00", "contracts": 1},
        "USD": {"mrr": "100.00", "arr": "1200.00", "contracts": 1},
    }


def test_portal_users_have_no_reports(db):
    portal = replace(new_caller("portal", user_id=9), customer_id=10)
    with pytest.raises(PermissionDenied):
        reports.cash_flow(db, portal, {"year": 2027})
