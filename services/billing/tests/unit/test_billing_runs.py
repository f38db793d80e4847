"""Schedules from contract events and billing runs, on a real SQLite database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from billing import runs, taxes
from billing_fixtures import ADMIN, FINANCE, MANAGER, REP, WAREHOUSE, contract, line
from crm_common.errors import PermissionDenied, ValidationFailed


def run(db, as_of: str) -> dict:
    return runs.run_billing(db, FINANCE, dt.date.fromisoformat(as_of))


def invoices_of(finance, **filters) -> list[dict]:
    return finance.list_invoices(filters, 1, 500)["items"]


def test_a_year_of_monthly_periods_caught_up_by_one_run(db, activate, finance, events):
    activate()
    summary = run(db, "2027-12-31")
    assert summary["status"] == "completed"
    assert summary["invoices_created"] == 12 and summary["failed"] == 0
    items = sorted(invoices_of(finance), key=lambda i: i["number"])
    assert [i["number"] for i in items] == [f"INV-2027-{n:06d}" for n in range(1, 13)]
    assert [(i["period_start"], i["period_end"]) for i in items[:2]] == [
        ("2027-01-15", "2027-02-14"),
        ("2027-02-15", "2027-03-14"),
    ]
    assert items[-1]["period_start"] == "2027-12-15" and items[-1]["period_end"] == "2028-01-14"
    assert sum(Decimal(i["total"]) for i in items) == Decimal("1200.00")  # 12 × 100.00, never 11
    assert items[0]["issue_date"] == "2027-01-15" and items[0]["due_date"] == "2027-02-14"
    assert items[0]["customer"]["name"] == "上海精密仪器有限公司" and items[0]["language"] == "zh"
    issued = events("invoice_issued")
    assert len(issued) == 12 and issued[0]["contract_id"] == 1 and issued[0]["owner_id"] == 3
    assert issued[0]["pdf_url"].endswith(f"/invoices/{issued[0]['id']}/pdf")


def test_re_running_invoices_nothing_twice(db, activate, finance):
    activate()
    assert run(db, "2027-03-31")["invoices_created"] == 3
    assert run(db, "2027-03-31")["invoices_created"] == 0
    assert run(db, "2027-02-01")["invoices_created"] == 0
    assert run(db, "2027-04-15")["invoices_created"] == 1
    assert len(invoices_of(finance)) == 4


def test_arrears_bill_at_period_end_and_prorate_the_last_period(db, activate, finance):
    activate(end_date="2027-03-31", billing={"in_advance": False})
    assert run(db, "2027-02-13")["invoices_created"] == 0  # the first period ends 14 Feb
    run(db, "2027-12-31")
    items = sorted(invoices_of(finance), key=lambda i: i["period_start"])
    assert [(i["issue_date"], i["total"]) for i in items] == [
        ("2027-02-14", "100.00"),
        ("2027-03-14", "100.00"),
        # 15–31 March: 17 of the 31 days of 15 March – 14 April
        ("2027-03-31", str((Decimal(100) * 17 / 31).quantize(Decimal("0.01")))),
    ]


def test_quarterly_contract_ending_mid_quarter_is_prorated_by_that_quarters_days(db, activate, finance):
    activate(start_date="2027-01-01", end_date="2027-05-15", billing={"frequency": "quarterly"},
             lines=[line(unit_price="300.00", amount="300.00")])  # fmt: skip
    run(db, "2027-12-31")
    items = sorted(invoices_of(finance), key=lambda i: i["period_start"])
    assert [i["total"] for i in items] == ["300.00", str((Decimal(300) * 45 / 91).quantize(Decimal("0.01")))]


def test_tax_rates_apply_by_category_kind_and_default(db, activate, finance, admin):
    admin.set_tax_rate({"key": "default", "percent": "20"})
    admin.set_tax_rate({"key": "kind:service", "percent": "10"})
    activate(lines=[line(501), line(502, product_kind="device", category="printers", sku="PRN-1")])
    run(db, "2027-01-31")
    (inv,) = invoices_of(finance)
    full = finance.get_invoice(inv["id"])
    assert [(li["sku"], li["tax_percent"], li["tax_amount"]) for li in full["lines"]] == [
        ("SVC-MAINT", "10", "10.00"),
        ("PRN-1", "20", "20.00"),
    ]
    assert (full["subtotal"], full["tax"], full["total"]) == ("200.00", "30.00", "230.00")
    with pytest.raises(ValidationFailed):
        admin.set_tax_rate({"key": "default", "percent": "101"})
    with pytest.raises(PermissionDenied):
        taxes.set_tax_rate(db, REP, {"key": "default", "percent": "5"})


def test_a_bad_contract_is_reported_and_the_others_are_invoiced(db, activate, deliver, finance):
    activate(1)
    activate(2)
    activate(3)
    # contract 2's stored terms are broken (as a faulty migration or a hand edit could leave them)
    from billing import models as m
    from sqlalchemy import update

    with db.transaction() as uow:
        uow.session.execute(
            update(m.schedules).where(m.schedules.c.contract_id == 2).values(frequency="fortnightly")
        )
    summary = run(db, "2027-01-31")
    assert summary["invoices_created"] == 2 and summary["failed"] == 1
    assert summary["failures"][0]["contract_id"] == 2 and summary["failures"][0]["reason"]
    assert finance.get_schedule(2)["last_error"]
    assert {i["contract_id"] for i in invoices_of(finance)} == {1, 3}


def test_small_batches_give_the_same_invoices_and_progress(db, activate, finance):
    for cid in range(1, 8):
        activate(cid)
    summary = runs.run_billing(db, FINANCE, dt.date(2027, 2, 20), batch_size=3)
    assert summary["contracts_due"] == 7 and summary["contracts_processed"] == 7
    assert summary["invoices_created"] == 14 and summary["progress"] == 1.0
    numbers = sorted(i["number"] for i in invoices_of(finance))
    assert numbers == [f"INV-2027-{n:06d}" for n in range(1, 15)]


def test_start_billing_run_answers_the_run_and_checks_roles(admin, finance, activate, service):
    activate()
    run_view = finance.start_billing_run({"as_of": "2027-02-20"})
    assert run_view["status"] == "completed" and run_view["invoices_created"] == 2
    assert finance.get_billing_run(run_view["id"])["invoices_created"] == 2
    assert finance.list_billing_runs(1, 10)["total"] == 1
    with pytest.raises(PermissionDenied):
        service(REP).start_billing_run({"as_of": "2027-02-20"})
    with pytest.raises(ValidationFailed):
        finance.start_billing_run({"as_of": "20.02.2027"})


def test_billing_runs_cover_every_customer_so_a_sales_rep_does_not_read_them(activate, finance, service):
    """A run's counts and failures name every customer's contracts: read by the roles that read
    everything, refused (403) to a sales rep, who reads only their own customers' documents."""
    activate()
    run_view = finance.start_billing_run({"as_of": "2027-02-20"})
    assert service(MANAGER).get_billing_run(run_view["id"])["id"] == run_view["id"]
    for call in (lambda s: s.get_billing_run(run_view["id"]), lambda s: s.list_billing_runs(1, 10)):
        with pytest.raises(PermissionDenied):
            call(service(REP))


def test_renewal_contract_gets_a_renewal_invoice(db, activate, deliver, finance):
    activate(end_date="2027-02-14")
    renewal = contract(2, start_date="2027-02-15", end_date="2027-03-14", renewal_of_id=1, status="approved")
    deliver("contract_renewed", {**contract(1, status="renewed"), "renewal_id": 2, "renewal": renewal})
    run(db, "2027-12-31")
    kinds = sorted((i["contract_id"], i["kind"]) for i in invoices_of(finance))
    assert kinds == [(1, "contract"), (2, "renewal")]
    deliver("contract_activated", {**renewal, "status": "active"})  # arrives later: nothing new
    assert run(db, "2027-12-31")["invoices_created"] == 0


def test_termination_credits_the_days_billed_in_advance(db, activate, deliver, finance, events):
    activate()
    run(db, "2027-03-20")  # 15 Jan, 15 Feb, 15 Mar periods
    deliver("contract_terminated", {**contract(1, status="terminated"), "effective_date": "2027-04-01"})
    summary = run(db, "2027-12-31")
    assert summary["invoices_created"] == 0 and summary["credit_notes_created"] == 1
    march = next(i for i in invoices_of(finance) if i["period_start"] == "2027-03-15")
    # billed 15 Mar – 14 Apr (31 days); in force until 31 Mar (17 days): 14/31 credited
    credited = Decimal(100) - (Decimal(100) * 17 / 31).quantize(Decimal("0.01"))
    assert Decimal(march["credited"]) == credited
    assert events("credit_note_issued")[0]["invoice_id"] == march["id"]
    assert finance.get_schedule(1)["status"] == "ended"


def test_price_amendment_re_plans_from_its_effective_date(db, activate, deliver, finance):
    activate()
    run(db, "2027-02-20")  # two periods at 100
    amended = contract(1, version=2, lines=[line(unit_price="130.00", amount="130.00")])
    deliver("contract_amended", {**amended, "change": "price_update", "effective_date": "2027-03-15"})
    run(db, "2027-04-20")
    items = sorted(invoices_of(finance), key=lambda i: i["period_start"])
    assert [i["total"] for i in items] == ["100.00", "100.00", "130.00", "130.00"]
    # an amendment effective in an invoiced period settles the difference of its days
    amended3 = contract(1, version=3, lines=[line(unit_price="160.00", amount="160.00")])
    deliver("contract_amended", {**amended3, "change": "amendment", "effective_date": "2027-04-30"})
    summary = run(db, "2027-04-20")
    assert summary["invoices_created"] == 1
    adjustment = next(i for i in invoices_of(finance) if i["kind"] == "adjustment")
    # 30 Apr – 14 May: 15 of the 30 days of 15 Apr – 14 May at +30.00
    assert adjustment["total"] == "15.00" and adjustment["period_start"] == "2027-04-15"


def test_stale_versions_change_nothing(db, activate, deliver, finance):
    activate()
    deliver("contract_amended", {**contract(1, version=2, end_date="2027-03-14"), "change": "co_terminate",
                                 "effective_date": "2027-01-15"})  # fmt: skip
    assert deliver("contract_activated", contract(1)).endswith("already at version 2")
    run(db, "2027-12-31")
    assert len(invoices_of(finance)) == 2


def test_scopes_of_readers(db, activate, service, finance):
    activate(1)  # customer 10, owned by rep 3
    activate(2, customer_id=11, customer_owner_id=4, customer_name="İstanbul Makine Sanayi A.Ş.")
    run(db, "2027-01-31")
    assert {i["customer_id"] for i in service(REP).list_invoices(None, 1, 50)["items"]} == {10}
    other = next(i for i in invoices_of(finance) if i["customer_id"] == 11)
    with pytest.raises(Exception) as err:
        service(REP).get_invoice(other["id"])
    assert type(err.value).__name__ == "NotFound"
    with pytest.raises(PermissionDenied):
        service(WAREHOUSE).list_invoices(None, 1, 50)
    assert len(service(ADMIN).list_invoices(None, 1, 50)["items"]) == 2


def test_a_period_settled_twice_gets_two_credit_notes(db, activate, deliver, finance):
    activate()
    run(db, "2027-03-20")
    for version, end in ((2, "2027-04-05"), (3, "2027-03-31")):
        deliver("contract_amended", {**contract(1, version=version, end_date=end), "change": "co_terminate",
                                     "effective_date": "2027-03-20"})  # fmt: skip
        assert run(db, "2027-03-20")["credit_notes_created"] == 1
    march = next(i for i in invoices_of(finance) if i["period_start"] == "2027-03-15")
    # in force 15–31 March: 17 of 31 days are owed, the rest credited in two notes
    assert Decimal(march["total"]) - Decimal(march["credited"]) == (Decimal(100) * 17 / 31).quantize(
        Decimal("0.01")
    )
    assert len(finance.get_invoice(march["id"])["credit_notes"]) == 2


def test_a_schedule_changed_while_its_batch_was_planned_is_planned_again(
    db, activate, deliver, finance, monkeypatch
):
    activate()
    real = runs._planned
    calls = []

    def planned_then_amended(s, rows, *args):
        plans = real(s, rows, *args)
        if not calls:  # the first planning (outside the write): an amendment lands meanwhile
            amended = contract(1, version=2, lines=[line(unit_price="130.00", amount="130.00")])
            deliver("contract_amended", {**amended, "change": "price_update", "effective_date": "2027-01-15"})
        calls.append(len(rows))
        return plans

    monkeypatch.setattr(runs, "_planned", planned_then_amended)
    summary = run(db, "2027-01-31")
    assert summary["invoices_created"] == 1 and calls == [1, 1]  # planned again under the lock
    assert [i["total"] for i in invoices_of(finance)] == ["130.00"]


def test_a_large_run_is_split_over_processes(db, activate, finance, monkeypatch):
    for cid in range(1, 41):
        activate(cid)
    monkeypatch.setenv("BILLING_RUN_PROCESS_MIN", "10")
    monkeypatch.setenv("BILLING_RUN_PROCESSES", "3")
    summary = runs.run_billing(db, FINANCE, dt.date(2027, 2, 20), batch_size=7)
    assert summary["contracts_due"] == 40 and summary["contracts_processed"] == 40
    assert summary["invoices_created"] == 80 and summary["failed"] == 0
    items = invoices_of(finance)
    assert sorted(i["number"] for i in items) == [f"INV-2027-{n:06d}" for n in range(1, 81)]
    assert len({(i["contract_id"], i["period_start"]) for i in items}) == 80
    assert run(db, "2027-02-20")["invoices_created"] == 0
