"""The dashboard through the service's entrypoints on a real database: figures against the
invoices and payments made here, the same figures as the reports, scopes (a rep's customers, a
manager's department, everything for admin, 403 for portal users); the users copy; exact sums
on SQLite and PostgreSQL; the payment and invoice filters of the contract view and the portal."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from billing import models as m
from billing import runs, sums, users
from billing.support import today
from billing_fixtures import FINANCE, OTHER_REP, REP
from crm_common.db import DatabaseHandle, ExactDecimal, make_envelope
from crm_common.errors import NotFound, PermissionDenied, ValidationFailed
from crm_common.testing import new_caller
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select

AS_OF = "2027-03-20"


def user_event(event_type, user_id, department, occurred_at=None, **extra):
    payload = {"id": user_id, "username": f"u{user_id}", "roles": ["sales_rep"], "full_name": "X",
               "email": None, "department": department, "is_department_head": False, "customer_id": None,
               "active": True, "language": "en", **extra}  # fmt: skip
    return make_envelope("gateway", event_type, payload, occurred_at=occurred_at)


def portal(customer_id):
    return replace(new_caller("portal", user_id=90 + customer_id), customer_id=customer_id)


def one_off(finance, customer_id, amount, issue_date, currency="EUR"):
    return finance.create_invoice({"customer_id": customer_id, "currency": currency, "issue_date": issue_date,
                                   "lines": [{"description": "Work", "quantity": "1", "unit_price": amount}]})  # fmt: skip


@pytest.fixture
def book(db, admin, activate, finance):
    """Customer 10 (owner 3, department north): a monthly EUR contract of 100.00 from 15 Jan
    2027 billed for January and February (the January invoice paid on 10 Feb), a USD invoice
    of 30.00 of 1 March; customer 11 (owner 4, department south): an EUR invoice of 500.00 of
    10 January. Nothing of it is locked, voided or credited."""
    admin.handle_user_created(user_event("user_created", 3, "north"))
    admin.handle_user_created(user_event("user_created", 4, "south"))
    activate()
    runs.run_billing(db, FINANCE, dt.date(2027, 2, 28))
    one_off(finance, 11, "500.00", "2027-01-10")
    one_off(finance, 10, "30.00", "2027-03-01", "USD")
    finance.record_payment({"customer_id": 10, "amount": "100.00", "currency": "EUR", "method": "bank_transfer",
                            "received_at": "2027-02-10T09:00:00Z"})  # fmt: skip


def test_dashboard_figures_from_the_invoices_and_payments(book, admin):
    board = admin.dashboard({"year": 2027, "as_of": AS_OF})
    assert (board["year"], board["as_of"], board["currencies"]) == (2027, AS_OF, ["EUR", "USD"])
    assert (board["mrr"], board["arr"]) == ({"EUR": "100.00"}, {"EUR": "1200.00"})
    # open on 20 March: February's invoice of customer 10 (due 17 March) and customer 11's
    # (due 9 February) — both past due; the USD invoice is due on 31 March
    assert board["receivables"] == {"EUR": "600.00", "USD": "30.00"}
    assert board["overdue"] == {"EUR": "600.00", "USD": "0.00"}
    assert board["overdue_invoices"] == 2
    months = {r["month"]: r for r in board["cash_flow"]}
    assert len(board["cash_flow"]) == 12 and list(months) == [f"2027-{mo:02d}" for mo in range(1, 13)]
    assert months["2027-01"]["invoiced"] == {"EUR": "600.00", "USD": "0.00"}
    assert months["2027-02"]["invoiced"]["EUR"] == "100.00"
    assert months["2027-02"]["collected"] == {"EUR": "100.00", "USD": "0.00"}
    assert months["2027-03"]["invoiced"] == {"EUR": "0.00", "USD": "30.00"}
    # overdue balances are expected now (March); the 15 March period, not invoiced yet, falls
    # due on 14 April, and so on each month
    assert months["2027-03"]["forecast"] == {"EUR": "600.00", "USD": "30.00"}
    assert months["2027-04"]["forecast"] == {"EUR": "100.00", "USD": "0.00"}
    assert board["top_customers"] == [
        {"customer_id": 11, "name": "İstanbul Makine Sanayi A.Ş.", "currency": "EUR", "invoiced": "500.00",
         "collected": "0.00", "balance": "500.00"},
        {"customer_id": 10, "name": "上海精密仪器有限公司", "currency": "EUR", "invoiced": "200.00",
         "collected": "100.00", "balance": "100.00"},
        {"customer_id": 10, "name": "上海精密仪器有限公司", "currency": "USD", "invoiced": "30.00",
         "collected": "0.00", "balance": "30.00"},
    ]  # fmt: skip


def test_dashboard_agrees_with_the_reports(book, admin, finance):
    board = admin.dashboard({"year": 2027, "as_of": AS_OF})
    flow = finance.cash_flow({"year": 2027, "as_of": AS_OF})["currencies"]
    for cur, rows in flow.items():
        assert [{k: r[k] for k in ("invoiced", "collected", "forecast")} for r in rows] == [
            {k: month[k][cur] for k in ("invoiced", "collected", "forecast")} for month in board["cash_flow"]
        ]
    recurring = finance.recurring_revenue({"as_of": AS_OF})["currencies"]
    assert board["mrr"] == {cur: v["mrr"] for cur, v in recurring.items()}
    assert board["arr"] == {cur: v["arr"] for cur, v in recurring.items()}
    aging = finance.receivables_aging({"as_of": AS_OF})["currencies"]
    assert board["receivables"] == {cur: v["total"]["total"] for cur, v in aging.items()}


def test_dashboard_scopes(book, service):
    north = service(new_caller("sales_manager", user_id=20, department="north"))
    south = service(new_caller("sales_manager", user_id=21, department="south"))
    everyone = service(new_caller("sales_manager", user_id=22))
    rep = service(REP)
    board = north.dashboard({"year": 2027, "as_of": AS_OF})
    assert board["receivables"] == {"EUR": "100.00", "USD": "30.00"}
    assert {t["customer_id"] for t in board["top_customers"]} == {10}
    assert board["mrr"] == {"EUR": "100.00"}
    board = south.dashboard({"year": 2027, "as_of": AS_OF})
    assert board["receivables"] == {"EUR": "500.00"} and board["mrr"] == {}
    assert [t["customer_id"] for t in board["top_customers"]] == [11]
    assert board["cash_flow"][0]["invoiced"] == {"EUR": "500.00"}
    assert everyone.dashboard({"year": 2027, "as_of": AS_OF})["receivables"] == {
        "EUR": "600.00",
        "USD": "30.00",
    }
    assert rep.dashboard({"year": 2027, "as_of": AS_OF}) == north.dashboard({"year": 2027, "as_of": AS_OF})
    assert service(OTHER_REP).dashboard({"year": 2027, "as_of": AS_OF})["receivables"] == {"EUR": "500.00"}
    with pytest.raises(PermissionDenied):
        service(portal(10)).dashboard({"year": 2027})
    # the lists keep their rule: a manager with a department reads every invoice
    assert {i["customer_id"] for i in north.list_invoices()["items"]} == {10, 11}


def test_a_user_moving_department_moves_their_customers(book, admin, service):
    north = service(new_caller("sales_manager", user_id=20, department="north"))
    admin.handle_user_updated(user_event("user_updated", 4, "north"))
    assert north.dashboard({"year": 2027, "as_of": AS_OF})["receivables"] == {"EUR": "600.00", "USD": "30.00"}


def test_dashboard_defaults_and_arguments(admin, customers_known):
    board = admin.dashboard()
    assert board["year"] == today().year and board["as_of"] == today().isoformat()
    assert board["currencies"] == [] and board["top_customers"] == [] and board["overdue_invoices"] == 0
    assert [r["invoiced"] for r in board["cash_flow"]] == [{}] * 12
    with pytest.raises(ValidationFailed):
        admin.dashboard({"year": "next"})
    with pytest.raises(ValidationFailed):
        admin.dashboard({"as_of": "soon"})


def test_users_copy_keeps_the_newest_event(db, admin):
    newer = user_event(
        "user_updated", 7, "east", occurred_at="2027-01-02T00:00:00+00:00", roles=["sales_manager"]
    )
    older = user_event("user_created", 7, "west", occurred_at="2027-01-01T00:00:00+00:00")
    assert users.apply_user_event(db, newer) == "created"
    assert users.apply_user_event(db, older) == "stale"
    assert users.apply_user_event(db, newer) == "updated"  # a redelivery changes nothing
    admin.handle_user_updated(user_event("user_updated", 8, None, active=None))
    with db.read() as s:
        rows = {r.id: r for r in s.execute(select(m.users))}
    assert (rows[7].department, rows[7].roles, rows[7].active) == ("east", ["sales_manager"], True)
    assert (rows[8].department, rows[8].active) == (None, True)
    with pytest.raises(ValueError):
        users.apply_user_event(db, make_envelope("gateway", "user_created", {"username": "no id"}))


def test_payments_filtered_by_contract_and_portal_scope(db, activate, finance, service):
    activate(1)
    activate(2, customer_id=11, customer_name="İstanbul Makine Sanayi A.Ş.", customer_code="C000011",
             customer_owner_id=4, owner_id=4)  # fmt: skip
    runs.run_billing(db, FINANCE, dt.date(2027, 1, 31))
    inv1 = finance.list_invoices({"contract_id": 1})["items"]
    inv2 = finance.list_invoices({"contract_id": 2})["items"]
    assert len(inv1) == len(inv2) == 1 and inv1[0]["customer_id"] == 10 and inv2[0]["customer_id"] == 11
    body = {
        "amount": "100.00",
        "currency": "EUR",
        "method": "bank_transfer",
        "received_at": "2027-02-01T08:00:00Z",
    }
    p1 = finance.record_payment({**body, "customer_id": 10, "allocations": [{"invoice_id": inv1[0]["id"], "amount": "100.00"}]})  # fmt: skip
    p2 = finance.record_payment({**body, "customer_id": 11})  # oldest open first: contract 2's invoice
    p3 = finance.record_payment({**body, "customer_id": 10})  # nothing open: credit
    assert [p["id"] for p in finance.list_payments({"contract_id": 1})["items"]] == [p1["id"]]
    assert [p["id"] for p in finance.list_payments({"contract_id": 2})["items"]] == [p2["id"]]
    assert finance.list_payments({"contract_id": 3})["items"] == []
    # a portal user of customer 10 sees its own payments only; another customer's is "not found"
    mine = service(portal(10))
    assert {p["id"] for p in mine.list_payments()["items"]} == {p1["id"], p3["id"]}
    assert mine.list_payments({"customer_id": 11})["items"] == []
    assert mine.get_payment(p1["id"])["id"] == p1["id"]
    with pytest.raises(NotFound):
        mine.get_payment(p2["id"])
    assert [i["id"] for i in mine.list_invoices({"contract_id": 1})["items"]] == [inv1[0]["id"]]
    assert mine.list_invoices({"contract_id": 2})["items"] == []


@pytest.fixture
def amounts(any_db_url):
    metadata = MetaData()
    table = Table("amounts", metadata, Column("id", Integer, primary_key=True), Column("cur", String(3)),
                  Column("a", ExactDecimal()), Column("b", ExactDecimal()))  # fmt: skip
    handle = DatabaseHandle("billing", metadata, any_db_url)
    metadata.create_all(handle.engine)
    yield handle, table
    handle.dispose()


@pytest.mark.parametrize(
    "values",
    [
        # floats would not add these up exactly
        [("0.10", "0"), ("0.20", "0"), ("0.30", "0.000001"), ("123456789.99", "0.01")] * 50,
        # seven decimals, or more than 10⁹: summed as decimals in Python on SQLite
        [("0.1000001", "0"), ("0.2", "0.0000003"), ("5", "0.000001")],
        [("999999999999.99", "0"), ("0.01", "0.02")],
    ],
)
def test_grouped_sums_are_exact(amounts, values):
    handle, table = amounts
    with handle.transaction(FINANCE) as uow:
        uow.session.execute(
            insert(table), [{"cur": "EUR" if i % 3 else "USD", "a": Decimal(a), "b": Decimal(b)} for i, (a, b) in enumerate(values)]
        )  # fmt: skip
    expected: dict[tuple[str], Decimal] = {}
    with handle.read() as s:
        stored = s.execute(select(table.c.cur, table.c.a, table.c.b)).all()  # PostgreSQL: six decimals
        for cur, a, b in stored:
            expected[(cur,)] = expected.get((cur,), Decimal(0)) + a - b
        groups = sums.grouped(
            s, lambda cols: select(*cols), [table.c.cur], sums.Amount(((1, table.c.a), (-1, table.c.b)))
        )
        positive = sums.grouped(
            s, lambda cols: select(*cols), [table.c.cur], sums.Amount(((1, table.c.b),)), positive=True
        )
    assert {k: g.amount for k, g in groups.items()} == expected
    assert {k: g.count for k, g in groups.items()} == {
        k: sum(1 for i in range(len(values)) if ("EUR" if i % 3 else "USD",) == k) for k in expected
    }
    assert all(g.amount > 0 for g in positive.values())
    assert sum(g.count for g in positive.values()) == sum(1 for _, _, b in stored if b > 0)


def test_top_customers_rank_what_was_invoiced_not_who_only_paid(book, admin, finance):
    finance.record_payment({"customer_id": 11, "amount": "5000.00", "currency": "USD", "method": "cash",
                            "received_at": "2027-03-02T10:00:00Z"})  # fmt: skip
    board = admin.dashboard({"year": 2027, "as_of": AS_OF})
    assert [(t["currency"], t["customer_id"]) for t in board["top_customers"]] == [
        ("EUR", 11),
        ("EUR", 10),
        ("USD", 10),
    ]
    assert board["cash_flow"][2]["collected"]["USD"] == "5000.00"
