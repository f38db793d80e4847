"""Daily jobs are independent of the order the services run them in, and a run for a date dates
everything it creates by that date (ADR 0011), end to end through the gateway.

One daily job call for a date long after the wall clock's (a back-dated or catch-up run) on an
auto-renewing contract: the invoices are dated when each period fell due and numbered in that
year, the overdue scan finds them overdue by that date, the renewal it makes is numbered in the
year its term starts and is active from its start, its first invoice follows from the same call
(billing does for a contract another service's job started what its own run for that date does),
and the collection tasks are due on the run's date — nothing carries the clock's date.

In DKK, which no other end-to-end test uses; the dates are in 2032."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from ..conftest import poll
from .test_billing import approved_schedule, contract_invoices
from .test_contracts import decide_pending, status_is

CURRENCY = "DKK"
AS_OF = "2032-06-05"


def test_a_back_dated_run_dates_invoices_renewal_and_tasks_by_its_date(system):
    clock_year = str(dt.date.today().year)
    with system.client() as admin:
        r = admin.post("/api/v1/customers", json={"name": f"Øresund Værksted ApS {uuid.uuid4().hex[:6]}",
                                                  "kind": "company", "language": "en"})  # fmt: skip
        assert r.status_code == 201, r.text
        customer = r.json()
        r = admin.post("/api/v1/products", json={"sku": f"DKK-{uuid.uuid4().hex[:6]}", "name": "Pumpeservice",
                                                 "kind": "service", "unit_price": "400.00", "currency": CURRENCY})  # fmt: skip
        assert r.status_code == 201, r.text
        product = r.json()
        manager_user = system.create_user(["sales_manager"])
        with system.as_user(manager_user) as manager:  # drafts and submits; the admin approves
            r = manager.post(
                "/api/v1/contracts",
                json={"customer_id": customer["id"], "title": "Pumpeservice 2032", "kind": "maintenance",
                      "currency": CURRENCY, "start_date": "2032-03-01", "end_date": "2032-05-31", "auto_renew": True,
                      "notice_days": 30, "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 10},
                      "lines": [{"product_id": product["id"], "quantity": 1}]},
            )  # fmt: skip
            assert r.status_code == 201, r.text
            contract = r.json()
            assert manager.post(f"/api/v1/contracts/{contract['id']}/submit").status_code == 200
        decide_pending(system, admin, "contract", contract["id"])
        poll(lambda: status_is(admin, contract["id"], "approved"), message="contract approved")
        approved_schedule(admin, contract["id"])

        job = admin.post("/api/v1/admin/jobs/daily", json={"as_of": AS_OF})
        assert job.status_code == 200, job.text

        # the term's invoices, when the call returns: dated when due, numbered in 2032, overdue
        # as of the run (each fell due ten days after its issue date)
        invoices = contract_invoices(admin, contract["id"])
        assert [(i["issue_date"], i["due_date"]) for i in invoices] == [
            ("2032-03-01", "2032-03-11"),
            ("2032-04-01", "2032-04-11"),
            ("2032-05-01", "2032-05-11"),
        ]
        assert all(i["number"].startswith("INV-2032-") for i in invoices), invoices
        assert [i["status"] for i in invoices] == ["overdue"] * 3
        assert sum(Decimal(i["subtotal"]) for i in invoices) == Decimal("1200.00")

        # the renewal made by the run: numbered in the year its term starts, active from its start
        old = status_is(admin, contract["id"], "renewed")
        assert old and old["renewed_by_id"], old
        renewal = admin.get(f"/api/v1/contracts/{old['renewed_by_id']}").json()
        assert (renewal["status"], renewal["start_date"], renewal["end_date"]) == (
            "active",
            "2032-06-01",
            "2032-08-31",
        )
        assert renewal["number"].startswith("C-2032-") and clock_year not in renewal["number"][:6], renewal
        assert renewal["activated_at"].startswith("2032-06-01T00:00:00"), renewal

        # its first period (June) is billed as billing's run for the date bills it, in either order
        june = poll(
            lambda: contract_invoices(admin, renewal["id"]) or None,
            timeout=30,
            message="the renewal's invoice",
        )
        assert [
            (i["kind"], i["period_start"], i["issue_date"], i["due_date"], i["status"]) for i in june
        ] == [("renewal", "2032-06-01", "2032-06-01", "2032-06-11", "issued")]
        assert june[0]["number"].startswith("INV-2032-")

        # collection tasks for the overdue invoices are due on the run's date, not the clock's
        def tasks():
            found = []
            for inv in invoices:
                r = admin.get("/api/v1/tasks", params={"kind": "collection", "document_type": "invoice",
                                                       "document_id": str(inv["id"])})  # fmt: skip
                assert r.status_code == 200, r.text
                found += r.json()["items"]
            # an invoice may have several (its owner's and finance's): wait until each has one
            return found if {t["document_id"] for t in found} >= {str(i["id"]) for i in invoices} else None

        collection = poll(tasks, timeout=30, message="collection tasks")
        assert {t["document_id"] for t in collection} == {str(i["id"]) for i in invoices}
        assert {t["due_date"] for t in collection} == {AS_OF}, collection

        # the same date again changes nothing
        again = admin.post("/api/v1/admin/jobs/daily", json={"as_of": AS_OF})
        assert again.status_code == 200, again.text
        assert again.json()["results"]["billing"]["invoices_created"] == 0, again.text
        assert len(contract_invoices(admin, contract["id"])) == 3
        assert len(contract_invoices(admin, renewal["id"])) == 1
