"""ADR 0011 in billing: the result of the daily job for a date never depends on the order in which
the services run their jobs, and everything the job writes is dated by ``as_of``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing import customers, daily
from billing.models import metadata
from billing.service import BillingService
from billing_fixtures import CUSTOMERS, FINANCE, contract
from crm_common.db import DatabaseHandle, WorkerDatabase, make_envelope
from nameko.testing.services import worker_factory

D = dt.date.fromisoformat


def deliver_via_service(db, event_type: str, payload: dict) -> str:
    """What the billing service's handler does with a contracts event."""
    return daily.on_contract_event(db, make_envelope("contracts", event_type, payload))


def invoices_of(finance) -> list[dict]:
    return sorted(
        finance.list_invoices(None, 1, 500)["items"], key=lambda i: (i["contract_id"], i["period_start"])
    )


def facts(finance) -> list[tuple]:
    """What a user sees of the invoices: numbers, kinds, periods, dates, amounts, statuses."""
    return [
        (i["number"], i["contract_id"], i["kind"], i["period_start"], i["issue_date"], i["due_date"], i["total"],
         i["status"])
        for i in invoices_of(finance)
    ]  # fmt: skip


def test_approval_builds_the_schedule_so_the_start_dates_run_bills_the_first_period(
    db, customers_known, finance
):
    approved = contract(1, status="approved")
    deliver_via_service(db, "contract_approved", approved)
    assert finance.get_schedule(1)["contract_status"] == "approved"
    # billing's job for the start date runs before contracts' job has activated anything
    result = daily.daily_jobs(db, FINANCE, D("2027-01-15"))
    assert result["invoices_created"] == 1
    (first,) = invoices_of(finance)
    assert (first["period_start"], first["issue_date"], first["total"]) == (
        "2027-01-15",
        "2027-01-15",
        "100.00",
    )
    # then the activation arrives (published by contracts' job for the same date): only a status
    activated = {**approved, "status": "active"}
    deliver_via_service(db, "contract_activated", {**activated, "as_of": "2027-01-15"})
    assert finance.get_schedule(1)["contract_status"] == "active"
    assert len(invoices_of(finance)) == 1


def test_one_run_a_year_after_the_start_bills_exactly_twelve_periods(db, customers_known, finance):
    deliver_via_service(db, "contract_approved", contract(1, status="approved"))
    result = daily.daily_jobs(db, FINANCE, D("2028-01-14"))
    items = invoices_of(finance)
    assert result["invoices_created"] == len(items) == 12
    assert sum(Decimal(i["total"]) for i in items) == Decimal("1200.00")
    assert [i["issue_date"] for i in items][:2] == ["2027-01-15", "2027-02-15"]  # dated when due


def _renewal_world(db, finance, deliver_first: bool) -> list[tuple]:
    """Contract 1 ends 14 Feb 2027; contracts' job for 20 Feb renews it (the renewal starts 15 Feb).
    ``deliver_first``: its event reaches billing before billing's own job for that date runs."""
    deliver_via_service(db, "contract_approved", contract(1, status="approved", end_date="2027-02-14"))
    daily.daily_jobs(db, FINANCE, D("2027-01-15"))
    renewal = contract(2, start_date="2027-02-15", end_date="2027-05-14", renewal_of_id=1, status="active")
    renewed = {**contract(1, status="renewed", end_date="2027-02-14"), "renewal_id": 2, "renewal": renewal,
               "as_of": "2027-02-20"}  # fmt: skip
    if deliver_first:
        deliver_via_service(db, "contract_renewed", renewed)
    daily.daily_jobs(db, FINANCE, D("2027-02-20"))
    if not deliver_first:
        deliver_via_service(db, "contract_renewed", renewed)
    daily.daily_jobs(db, FINANCE, D("2027-02-20"))  # the same date again: nothing new
    return facts(finance)


def test_a_renewal_made_by_the_same_dates_job_is_billed_the_same_in_either_order(tmp_path):
    worlds = []
    for i, first in enumerate((True, False)):
        handle = DatabaseHandle("billing", metadata, f"sqlite:///{tmp_path}/order{i}.db")
        handle.create_all()
        for c in CUSTOMERS.values():
            customers.apply_customer_event(handle, make_envelope("customers", "customer_created", c))
        finance = worker_factory(BillingService, db=WorkerDatabase(handle, FINANCE, None), caller=FINANCE)
        worlds.append(_renewal_world(handle, finance, first))
        handle.dispose()
    assert worlds[0] == worlds[1]
    kinds = [(f[1], f[2], f[3]) for f in worlds[0]]
    assert kinds == [(1, "contract", "2027-01-15"), (2, "renewal", "2027-02-15")]


def test_an_activation_billing_never_saw_approved_is_billed_up_to_its_jobs_date(db, customers_known, finance):
    # billing's job for 1 March ran first; the activation published by contracts' job for that
    # date (of a contract approved while billing was down) arrives afterwards
    daily.daily_jobs(db, FINANCE, D("2027-03-01"))
    done = deliver_via_service(db, "contract_activated", {**contract(1), "as_of": "2027-03-01"})
    assert "billed up to 2027-03-01: 2 invoices" in done
    items = invoices_of(finance)
    assert [i["period_start"] for i in items] == ["2027-01-15", "2027-02-15"]
    # the first one fell due on 14 Feb: overdue as the overdue scan of 1 March would have found it
    assert [i["status"] for i in items] == ["overdue", "issued"]
    # an activation from a user's action (no as_of) only builds the schedule
    assert "billed up to" not in deliver_via_service(db, "contract_activated", contract(3))


def test_overdue_is_dated_and_announced_by_as_of(db, customers_known, finance, events):
    deliver_via_service(db, "contract_approved", contract(1, status="approved"))
    daily.daily_jobs(db, FINANCE, D("2027-01-15"))
    result = daily.daily_jobs(db, FINANCE, D("2027-03-01"))  # the first invoice fell due 14 Feb
    assert result["invoices_overdue"] == 1
    (overdue,) = events("invoice_overdue")
    assert (overdue["as_of"], overdue["days_overdue"], overdue["period_start"]) == (
        "2027-03-01",
        15,
        "2027-01-15",
    )


def test_started_by_job_reads_the_contract_and_date_of_job_events_only():
    renewal = contract(2, status="active")
    assert daily.started_by_job(make_envelope("contracts", "contract_renewed", {**contract(1), "renewal": renewal,
                                                                                "as_of": "2027-02-20"})) == (2, D("2027-02-20"))  # fmt: skip
    assert daily.started_by_job(make_envelope("contracts", "contract_activated", {**contract(1), "as_of": "2027-02-20"})) == (
        1, D("2027-02-20"))  # fmt: skip
    assert daily.started_by_job(make_envelope("contracts", "contract_activated", contract(1))) is None
    assert (
        daily.started_by_job(
            make_envelope("contracts", "contract_amended", {**contract(1), "as_of": "2027-02-20"})
        )
        is None
    )
    assert (
        daily.started_by_job(
            make_envelope("contracts", "contract_activated", {**contract(1), "as_of": "soon"})
        )
        is None
    )
