"""Tasks and reminders are dated by the daily job's ``as_of`` (ADR 0011), never by the clock: a
back-dated or catch-up run gives the same tasks as a run made on the day."""

from __future__ import annotations

import datetime as dt

from notify import domain, payload_fields, task_rules
from notify import models as m
from sqlalchemy import select

D = dt.date.fromisoformat
CLOCK = dt.date(2026, 12, 7)  # the day the event happens to be handled


def test_business_date_is_the_jobs_as_of_else_the_day_handled():
    assert payload_fields.business_date({"as_of": "2028-03-01"}, CLOCK) == D("2028-03-01")
    assert payload_fields.business_date({"as_of": "2028-03-01T00:00:00Z"}, CLOCK) == D("2028-03-01")
    assert payload_fields.business_date({}, CLOCK) == CLOCK
    assert payload_fields.business_date({"as_of": "someday"}, CLOCK) == CLOCK


def test_collection_task_is_due_the_day_the_scan_found_the_invoice_overdue():
    payload = {
        "invoice_id": 9,
        "owner_id": 4,
        "due_date": "2028-02-01",
        "days_overdue": 29,
        "as_of": "2028-03-01",
    }
    (task,), _ = task_rules.task_actions("invoice_overdue", payload, CLOCK)
    assert task.due_date == D("2028-03-01")
    # a payload from before billing sent as_of: the due date plus the days overdue
    older = {k: v for k, v in payload.items() if k != "as_of"}
    (task,), _ = task_rules.task_actions("invoice_overdue", older, CLOCK)
    assert task.due_date == D("2028-03-01")
    # nothing to go by: the business date given
    (task,), _ = task_rules.task_actions("invoice_overdue", {"invoice_id": 9}, D("2028-03-02"))
    assert task.due_date == D("2028-03-02")


def test_overdue_event_of_a_back_dated_run_opens_a_task_due_on_its_date(
    deliver, add_user, service, make_caller
):
    add_user(40, roles=["sales_rep"])
    deliver(
        "billing",
        "invoice_overdue",
        {"invoice_id": 901, "invoice_number": "INV-2028-000009", "owner_id": 40, "customer_id": 1,
         "amount_due": "120.00", "currency": "EUR", "due_date": "2028-02-01", "days_overdue": 29,
         "as_of": "2028-03-01"},
    )  # fmt: skip
    (task,) = service(make_caller("sales_rep", user_id=40)).list_tasks({"status": "open"})["items"]
    assert (task["kind"], task["due_date"]) == ("collection", "2028-03-01")


def test_a_jobs_reminder_is_claimed_on_the_jobs_date(deliver, add_user, db):
    add_user(90)
    deliver(
        "contracts",
        "contract_expiring",
        {"contract_id": 4, "owner_id": 90, "days": 90, "end_date": "2030-12-31", "as_of": "2030-10-02"},
    )
    with db.read() as s:
        (row,) = s.execute(
            select(m.reminders).where(m.reminders.c.key == domain.expiry_key(4, 90))
        ).mappings()
    assert (row["status"], row["fire_on"]) == ("fired", D("2030-10-02"))


def test_a_birthday_caught_up_is_recorded_on_its_day(deliver, add_user, admin, db):
    add_user(95)
    deliver(
        "customers",
        "customer_created",
        {"id": 8, "name": "VIP", "code": "C8", "owner_id": 95, "level": "A", "birthday": "1970-06-02"},
    )
    assert admin.run_daily("2031-06-03")["birthdays"] == 1  # a day late
    with db.read() as s:
        (row,) = s.execute(
            select(m.reminders).where(m.reminders.c.key == "customer_birthday:8:2031")
        ).mappings()
    assert (row["status"], row["fire_on"]) == ("fired", D("2031-06-02"))


def test_a_runs_invoice_fires_the_reminder_its_date_is_due_for_in_either_order(
    deliver, add_user, admin, service, make_caller
):
    """Billing's run for 14 March issues an invoice due on the 20th: its due-soon reminder (13th)
    belongs to notify's job for the 14th, which may have run before the invoice arrived."""
    add_user(81)
    assert admin.run_daily("2027-03-14")["reminders_fired"] == 0  # notify's job ran first
    invoice = {"invoice_id": 14, "invoice_number": "INV-14", "owner_id": 81, "due_date": "2027-03-20",
               "amount": "99.00", "currency": "EUR", "as_of": "2027-03-14"}  # fmt: skip
    deliver("billing", "invoice_issued", invoice)
    titles = [n["title"] for n in service(make_caller("sales_rep", user_id=81)).list_notifications()["items"]]
    assert titles.count("Invoice INV-14 is due on 2027-03-20") == 1
    assert admin.run_daily("2027-03-14")["reminders_fired"] == 0  # and never twice
    # an invoice of a run for an earlier date: the reminder waits for its day
    deliver("billing", "invoice_issued", {**invoice, "invoice_id": 15, "invoice_number": "INV-15",
                                          "as_of": "2027-03-01"})  # fmt: skip
    titles = [n["title"] for n in service(make_caller("sales_rep", user_id=81)).list_notifications()["items"]]
    assert "Invoice INV-15 is due on 2027-03-20" not in titles
    assert admin.run_daily("2027-03-14")["reminders_fired"] == 1
