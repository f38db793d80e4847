"""Issue 17 §3 end to end through the gateway, every service a process on a real broker: a sales
rep's termination ten months back is a termination request for the approvals service (nothing
terminated, nothing credited) and terminates once approved; a contract whose amounts finance
locked cannot be terminated (409, nothing changed); the billing run never credits an invoice
finance locked — it records a pending correction for finance (listed with the reason), which
unlocking applies; a rep's co-termination or restructuring of contracts in force is one batch
under one approval; ended contracts are archived (read-only, hidden unless asked for).

The contracts are in NOK, which no other end-to-end test uses."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from ..conftest import poll
from .test_contracts import decide_pending, status_is

CURRENCY = "NOK"
TODAY = dt.date.today()


def month_start(months_back: int) -> dt.date:
    year, month = divmod(TODAY.year * 12 + TODAY.month - 1 - months_back, 12)
    return dt.date(year, month + 1, 1)


START = month_start(11)
EFFECTIVE = month_start(10)  # ten months back
END = dt.date(START.year + 2, START.month, 1) - dt.timedelta(days=1)


def setup(admin, rep_id) -> tuple[dict, dict]:
    r = admin.post("/api/v1/customers", json={"name": f"Fjord Vedlikehold {uuid.uuid4().hex[:6]} AS",
                                              "kind": "company", "owner_id": rep_id})  # fmt: skip
    assert r.status_code == 201, r.text
    customer = r.json()
    r = admin.post("/api/v1/products", json={"sku": f"NOK-{uuid.uuid4().hex[:6]}", "name": "Vedlikehold",
                                             "kind": "service", "unit_price": "1000.00", "currency": CURRENCY})  # fmt: skip
    assert r.status_code == 201, r.text
    return customer, r.json()


def active_contract(system, rep, approver, customer, product, **overrides) -> dict:
    body = {"customer_id": customer["id"], "title": "Vedlikeholdsavtale", "kind": "maintenance",
            "currency": CURRENCY, "start_date": START.isoformat(), "end_date": END.isoformat(),
            "billing": {"frequency": "monthly", "in_advance": True, "payment_terms_days": 30},
            "lines": [{"product_id": product["id"], "quantity": 1}], **overrides}  # fmt: skip
    r = rep.post("/api/v1/contracts", json=body)
    assert r.status_code == 201, r.text
    c = r.json()
    assert rep.post(f"/api/v1/contracts/{c['id']}/submit").status_code == 200
    decide_pending(system, approver, "contract", c["id"])
    return poll(lambda: status_is(rep, c["id"], "active"), message="contract active")


def contract_invoices(client, contract_id) -> list[dict]:
    r = client.get("/api/v1/invoices", params={"contract_id": contract_id, "page_size": 100})
    assert r.status_code == 200, r.text
    return sorted(r.json()["items"], key=lambda x: x["period_start"])


def bill(admin) -> dict:
    r = admin.post("/api/v1/billing/runs", json={"as_of": TODAY.isoformat(), "wait_seconds": 60})
    assert r.status_code == 201, r.text
    return r.json()


def pending_corrections(finance, **params) -> list[dict]:
    r = finance.get("/api/v1/billing/pending-corrections", params={"page_size": 500, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_a_reps_back_dated_termination_needs_approval_and_locked_invoices_are_never_credited(system):
    rep_user = system.create_user(["sales_rep"])
    approver_user = system.create_user(["approver"])
    finance_user = system.create_user(["finance"])
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(approver_user) as approver,
        system.as_user(finance_user) as finance,
    ):
        customer, product = setup(admin, rep_user["id"])
        c = active_contract(system, rep, approver, customer, product)
        poll(lambda: admin.get(f"/api/v1/billing/schedules/{c['id']}").status_code == 200 or None,
             message="billing schedule")  # fmt: skip
        bill(admin)
        invoices = contract_invoices(finance, c["id"])
        assert len(invoices) >= 11 and invoices[0]["period_start"] == START.isoformat(), invoices
        locked = invoices[3]
        r = finance.post(f"/api/v1/invoices/{locked['id']}/lock")
        assert r.status_code == 200, r.text

        # the rep terminates ten months back: a request for approval, nothing terminated
        r = rep.post(f"/api/v1/contracts/{c['id']}/terminate",
                     json={"reason": "Kunden flyttet", "effective_date": EFFECTIVE.isoformat()})  # fmt: skip
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["status"] == "active" and out["termination_date"] is None
        request = out["termination_request"]
        assert request["status"] == "pending_approval" and request["effective_date"] == EFFECTIVE.isoformat()
        again = rep.post(f"/api/v1/contracts/{c['id']}/terminate",
                         json={"reason": "igjen", "effective_date": EFFECTIVE.isoformat()})  # fmt: skip
        assert again.status_code == 409, again.text
        assert bill(admin)["credit_notes_created"] == 0
        assert all(Decimal(i["credited"]) == 0 for i in contract_invoices(finance, c["id"]))
        assert rep.get(f"/api/v1/contracts/{c['id']}").json()["status"] == "active"

        # approved through the approvals service: terminated from the requested date
        decide_pending(system, approver, "termination", request["id"])
        done = poll(lambda: status_is(rep, c["id"], "terminated"), message="contract terminated")
        assert done["termination_date"] == EFFECTIVE.isoformat() and done["status_reason"] == "Kunden flyttet"

        # billing credits the invoiced periods from then on, except the locked invoice
        poll(lambda: admin.get(f"/api/v1/billing/schedules/{c['id']}").json().get("termination_date")
             == EFFECTIVE.isoformat() or None, message="billing heard of the termination")  # fmt: skip
        summary = bill(admin)
        after = {i["id"]: i for i in contract_invoices(finance, c["id"])}
        assert summary["credit_notes_created"] == len(invoices) - 2, summary  # not the first, not the locked
        assert Decimal(after[invoices[0]["id"]]["credited"]) == 0
        for inv in invoices[1:]:
            if inv["id"] != locked["id"]:
                assert Decimal(after[inv["id"]]["credited"]) == Decimal(inv["total"]), after[inv["id"]]
        assert (
            Decimal(after[locked["id"]]["credited"]) == 0
            and after[locked["id"]]["status"] == locked["status"]
        )
        (correction,) = pending_corrections(finance, contract_id=c["id"])
        assert correction["invoice_id"] == locked["id"] and correction["status"] == "pending"
        assert Decimal(correction["amount"]) == Decimal(locked["subtotal"])
        assert "locked by finance" in correction["reason"] and locked["number"] in correction["reason"]
        assert rep.get("/api/v1/billing/pending-corrections").status_code == 403
        assert bill(admin)["credit_notes_created"] == 0  # a re-run records nothing twice
        assert len(pending_corrections(finance, contract_id=c["id"])) == 1

        # finance unlocks: the correction is applied
        r = finance.post(f"/api/v1/invoices/{locked['id']}/unlock")
        assert r.status_code == 200, r.text
        assert Decimal(r.json()["credited"]) == Decimal(locked["total"])
        assert pending_corrections(finance, contract_id=c["id"]) == []
        (applied,) = pending_corrections(finance, contract_id=c["id"], status="applied")
        assert applied["credit_note_id"] is not None

        # finance locked the amounts of another contract: no termination at all (409), nothing changed
        d = active_contract(system, rep, approver, customer, product)
        assert finance.post(f"/api/v1/contracts/{d['id']}/lock-amounts").status_code == 200
        for when in (EFFECTIVE, TODAY + dt.timedelta(days=3)):
            r = rep.post(f"/api/v1/contracts/{d['id']}/terminate",
                         json={"reason": "r", "effective_date": when.isoformat()})  # fmt: skip
            assert r.status_code == 409, r.text
        r = admin.post(f"/api/v1/contracts/{d['id']}/terminate",
                       json={"reason": "r", "effective_date": EFFECTIVE.isoformat()})  # fmt: skip
        assert r.status_code == 409, r.text
        now = rep.get(f"/api/v1/contracts/{d['id']}").json()
        assert now["status"] == "active" and now["termination_date"] is None and now["amendments"] == []

        # the terminated contract is archived: read-only, hidden unless asked for
        assert rep.post(f"/api/v1/contracts/{d['id']}/archive").status_code == 409  # active: not ended
        r = rep.post(f"/api/v1/contracts/{c['id']}/archive")
        assert r.status_code == 200 and r.json()["status"] == "archived", r.text
        listed = rep.get("/api/v1/contracts", params={"customer_id": customer["id"]}).json()["items"]
        assert [x["id"] for x in listed] == [d["id"]]
        listed = rep.get(
            "/api/v1/contracts", params={"customer_id": customer["id"], "include_archived": "true"}
        )
        assert {x["id"] for x in listed.json()["items"]} == {c["id"], d["id"]}
        r = rep.post(f"/api/v1/contracts/{c['id']}/renew")
        assert r.status_code == 409, r.text
        assert rep.patch(f"/api/v1/contracts/{c['id']}", json={"title": "x"}).status_code == 409


def test_a_reps_co_termination_and_restructure_of_contracts_in_force_need_one_approval(system):
    rep_user = system.create_user(["sales_rep"])
    approver_user = system.create_user(["approver"])
    with (
        system.client() as admin,
        system.as_user(rep_user) as rep,
        system.as_user(approver_user) as approver,
    ):
        customer, product = setup(admin, rep_user["id"])
        a = active_contract(system, rep, approver, customer, product, end_date="2027-06-30")
        b = active_contract(system, rep, approver, customer, product, end_date="2027-06-30")

        # the rep moves the end of contracts in force to 2035: one batch, one approval
        r = rep.post("/api/v1/contracts/co-terminate",
                     json={"contract_ids": [a["id"], b["id"]], "end_date": "2035-12-31"})  # fmt: skip
        assert r.status_code == 200, r.text
        batch = r.json()
        assert batch["status"] == "pending_approval" and batch["changed"] == 0
        assert {x["contract_id"] for x in batch["contracts"]} == {a["id"], b["id"]}
        for x in (a, b):
            assert rep.get(f"/api/v1/contracts/{x['id']}").json()["end_date"] == "2027-06-30"
        decide_pending(system, approver, "change_batch", batch["batch_id"])
        for x in (a, b):
            poll(lambda x=x: rep.get(f"/api/v1/contracts/{x['id']}").json()["end_date"] == "2035-12-31" or None,
                 message="co-termination applied")  # fmt: skip
        assert rep.get(f"/api/v1/contracts/{a['id']}").json()["versions"][-1]["kind"] == "co_terminate"

        # restructuring contracts in force: the same (rejected here: nothing moves)
        only = a["lines"][0]["id"]
        r = rep.post("/api/v1/contracts/restructure",
                     json={"action": "move_lines", "line_ids": [only], "to_contract_id": b["id"]})  # fmt: skip
        assert r.status_code == 422, r.text  # every check still made: a keeps at least one line
        two = active_contract(system, rep, approver, customer, product,
                              lines=[{"product_id": product["id"], "quantity": 1}] * 2)  # fmt: skip
        lines = two["lines"]
        r = rep.post("/api/v1/contracts/restructure",
                     json={"action": "move_lines", "line_ids": [lines[1]["id"]], "to_contract_id": b["id"]})  # fmt: skip
        assert r.status_code == 200, r.text
        pending = r.json()
        assert pending["status"] == "pending_approval" and pending["action"] == "move_lines"
        assert {x["contract_id"] for x in pending["contracts_pending"]} == {two["id"], b["id"]}
        assert len(rep.get(f"/api/v1/contracts/{b['id']}").json()["lines"]) == 1
        decide_pending(
            system, approver, "change_batch", pending["batch_id"], decision="reject", comment="nei"
        )
        poll(lambda: rep.get(f"/api/v1/contracts/{two['id']}").json()["amendments"][-1]["status"] == "rejected"
             or None, message="batch rejected")  # fmt: skip
        assert len(rep.get(f"/api/v1/contracts/{two['id']}").json()["lines"]) == 2
        assert len(rep.get(f"/api/v1/contracts/{b['id']}").json()["lines"]) == 1
