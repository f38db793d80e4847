"""Billing never credits or adjusts an invoice finance locked (issue 17 §3): the settlement of a
termination records a pending correction instead (listed for finance, with the reason), applied
as a credit note when finance unlocks the invoice or approves it, or dismissed. On a real SQLite
database through the service's RPC methods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from billing import models as m
from billing import runs
from billing_fixtures import FINANCE, contract
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sqlalchemy import func, select


def run(db, as_of: str) -> dict:
    return runs.run_billing(db, FINANCE, dt.date.fromisoformat(as_of))


def invoices_of(finance) -> list[dict]:
    return sorted(finance.list_invoices({}, 1, 500)["items"], key=lambda i: i["period_start"])


def count(db, table) -> int:
    with db.read() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def terminated_back(db, activate, deliver, finance):
    """Three monthly periods invoiced (15 Jan, 15 Feb, 15 Mar 2027), the February one locked by
    finance, then the contract terminated from 1 February."""
    activate()
    run(db, "2027-03-20")
    jan, feb, mar = invoices_of(finance)
    finance.lock_invoice(feb["id"])
    deliver("contract_terminated", {**contract(1, status="terminated"), "effective_date": "2027-02-01"})
    return jan, feb, mar


def test_a_locked_invoice_is_not_credited_the_correction_waits_for_finance(
    db, finance, terminated_back, events
):
    jan, feb, mar = terminated_back
    summary = run(db, "2027-12-31")
    # 15 Jan – 14 Feb: its days from 1 February credited; 15 Mar – 14 Apr: all; February: locked
    assert summary["credit_notes_created"] == 2
    after = {i["id"]: i for i in invoices_of(finance)}
    assert Decimal(after[feb["id"]]["credited"]) == 0 and after[feb["id"]]["status"] == feb["status"]
    assert after[feb["id"]]["locked"] is True
    assert {e["invoice_id"] for e in events("credit_note_issued")} == {jan["id"], mar["id"]}
    pending = finance.list_pending_corrections({}, 1, 50)
    assert pending["total"] == 1
    (c,) = pending["items"]
    assert c["invoice_id"] == feb["id"] and c["invoice_number"] == feb["number"] and c["status"] == "pending"
    assert c["amount"] == "100.00" and c["invoice_locked"] is True and c["contract_id"] == 1
    assert "locked by finance" in c["reason"] and "2027-02-15" in c["reason"]
    assert [li["amount"] for li in c["lines"]] == ["100.00"]

    # a later settlement of the same periods does not record it again
    run(db, "2027-12-31")
    assert finance.list_pending_corrections({}, 1, 50)["total"] == 1

    # finance unlocks: the correction is applied as a credit note
    unlocked = finance.unlock_invoice(feb["id"])
    assert unlocked["locked"] is False and Decimal(unlocked["credited"]) == Decimal("100.00")
    assert finance.list_pending_corrections({}, 1, 50)["total"] == 0
    (done,) = finance.list_pending_corrections({"status": "applied"}, 1, 50)["items"]
    assert done["credit_note_id"] is not None and done["decided_by"]
    assert events("credit_note_issued")[-1]["invoice_id"] == feb["id"]


def test_finance_approves_a_correction_on_a_still_locked_invoice_or_dismisses_one(
    db, finance, terminated_back, service
):
    _, feb, _ = terminated_back
    run(db, "2027-12-31")
    (c,) = finance.list_pending_corrections({}, 1, 50)["items"]
    applied = finance.apply_pending_correction(c["id"], {"comment": "ok, credit it"})
    assert applied["status"] == "applied" and applied["comment"] == "ok, credit it"
    invoice = finance.get_invoice(feb["id"])
    assert invoice["locked"] is True and Decimal(invoice["credited"]) == Decimal("100.00")
    with pytest.raises(Conflict):  # decided already
        finance.apply_pending_correction(c["id"])
    with pytest.raises(Conflict):
        finance.dismiss_pending_correction(c["id"])
    notes = count(db, m.credit_notes)
    finance.unlock_invoice(feb["id"])  # nothing left pending: no second credit
    assert count(db, m.credit_notes) == notes


def test_a_dismissed_correction_changes_no_invoice(db, finance, terminated_back):
    _, feb, _ = terminated_back
    run(db, "2027-12-31")
    (c,) = finance.list_pending_corrections({}, 1, 50)["items"]
    notes = count(db, m.credit_notes)
    out = finance.dismiss_pending_correction(c["id"], {"comment": "agreed with the customer"})
    assert out["status"] == "dismissed"
    finance.unlock_invoice(feb["id"])
    assert count(db, m.credit_notes) == notes and Decimal(finance.get_invoice(feb["id"])["credited"]) == 0


def test_pending_corrections_are_for_finance_and_bad_input_is_refused(db, finance, terminated_back, service):
    from billing_fixtures import MANAGER, REP

    run(db, "2027-12-31")
    (c,) = finance.list_pending_corrections({}, 1, 50)["items"]
    for caller in (REP, MANAGER):
        with pytest.raises(PermissionDenied):
            service(caller).list_pending_corrections({}, 1, 50)
        with pytest.raises(PermissionDenied):
            service(caller).apply_pending_correction(c["id"])
    with pytest.raises(NotFound):
        finance.apply_pending_correction(987654)
    with pytest.raises(ValidationFailed):
        finance.list_pending_corrections({"status": "maybe"}, 1, 50)
    with pytest.raises(ValidationFailed):
        finance.dismiss_pending_correction(c["id"], {"comment": "x" * 2001})
    assert finance.list_pending_corrections({}, 1, 50)["items"][0]["status"] == "pending"
