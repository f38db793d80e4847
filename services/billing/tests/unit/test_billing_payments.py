"""One-off invoices, payments and allocations, credit notes, locks, the overdue scan."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from billing import invoices, runs
from billing_fixtures import FINANCE, OTHER_REP, REP
from crm_common.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from sqlalchemy import func, select


def one_off(finance, amount="100.00", customer_id=10, currency="EUR", **extra):
    body = {"customer_id": customer_id, "currency": currency,
            "lines": [{"description": "Installation", "quantity": "1", "unit_price": amount}], **extra}  # fmt: skip
    return finance.create_invoice(body)


def payment(finance, amount, allocations=None, customer_id=10, currency="EUR", **extra):
    body = {"customer_id": customer_id, "amount": amount, "currency": currency, "method": "bank_transfer",
            "received_at": "2027-03-01T09:30:00+00:00", "reference": "TRX-1", **extra}  # fmt: skip
    if allocations is not None:
        body["allocations"] = allocations
    return finance.record_payment(body)


def table_counts(db) -> tuple[int, int, int]:
    from billing import models as m

    with db.read() as s:
        return tuple(
            s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (m.payments, m.allocations, m.invoices)
        )


def test_one_off_invoice_is_issued_with_a_number_and_snapshot(finance, customers_known, events):
    inv = one_off(finance, "250.50", issue_date="2027-03-01")
    assert inv["status"] == "issued" and inv["number"] == "INV-2027-000001"
    assert inv["due_date"] == "2027-03-31" and inv["total"] == "250.50"
    assert inv["customer"]["tax_id"] == "91310000MA1FL0000X"
    assert inv["customer"]["address"].startswith("上海市")
    assert events("invoice_issued")[0]["number"] == "INV-2027-000001"


def test_drafts_take_no_number_until_issued(finance, customers_known):
    draft = one_off(finance, draft=True, issue_date="2027-03-01")
    assert draft["number"] is None and draft["status"] == "draft"
    finance.update_invoice(
        draft["id"], {"lines": [{"description": "Parts", "quantity": "2", "unit_price": "10"}]}
    )
    issued = finance.issue_invoice(draft["id"])
    assert issued["number"] == "INV-2027-000001" and issued["total"] == "20.00"
    with pytest.raises(Conflict):
        finance.update_invoice(draft["id"], {"notes": "late"})


@pytest.mark.parametrize(
    "body, field",
    [
        (
            {
                "customer_id": 10,
                "currency": "EUR",
                "lines": [{"description": "x", "quantity": "1", "unit_price": 1.5}],
            },
            "lines.0.unit_price",
        ),
        (
            {
                "customer_id": 10,
                "currency": "EUR",
                "lines": [{"description": "x", "quantity": "1", "unit_price": "NaN"}],
            },
            "lines.0.unit_price",
        ),
        (
            {
                "customer_id": 10,
                "currency": "EUR",
                "lines": [{"description": "x", "quantity": "1", "unit_price": "-5"}],
            },
            "lines.0.unit_price",
        ),
        (
            {
                "customer_id": 10,
                "currency": "XXX",
                "lines": [{"description": "x", "quantity": "1", "unit_price": "5"}],
            },
            "currency",
        ),
        ({"customer_id": 10, "currency": "EUR", "lines": []}, "lines"),
        (
            {
                "customer_id": 999,
                "currency": "EUR",
                "lines": [{"description": "x", "quantity": "1", "unit_price": "5"}],
            },
            "customer_id",
        ),
    ],
)
def test_bad_one_off_invoices_are_422_and_write_nothing(db, finance, customers_known, body, field):
    with pytest.raises(ValidationFailed) as err:
        finance.create_invoice(body)
    assert field in err.value.details
    assert table_counts(db)[2] == 0


def test_payment_allocated_explicitly_then_oldest_first(finance, customers_known, events):
    a = one_off(finance, "100.00", issue_date="2027-01-01")
    b = one_off(finance, "200.00", issue_date="2027-02-01")
    p1 = payment(finance, "150.00", [{"invoice_id": b["id"], "amount": "150.00"}])
    assert p1["status"] == "confirmed" and p1["unallocated"] == "0.00"
    assert finance.get_invoice(b["id"])["status"] == "partially_paid"
    p2 = payment(finance, "180.00")  # oldest first: a (100) then b's rest (50); 30 left as credit
    assert [(x["invoice_id"], x["amount"]) for x in p2["allocations"]] == [
        (a["id"], "100.00"),
        (b["id"], "50.00"),
    ]
    assert p2["unallocated"] == "30.00"
    assert (
        finance.get_invoice(a["id"])["status"] == "paid" and finance.get_invoice(b["id"])["status"] == "paid"
    )
    received = events("payment_received")[-1]
    assert set(received["paid_invoice_ids"]) == {a["id"], b["id"]}
    assert received["allocations"][0]["invoice_status"] == "paid"
    assert {e["id"] for e in events("invoice_paid")} == {a["id"], b["id"]}
    assert finance.customer_balance(10)["currencies"]["EUR"] == {
        "open": "0.00",
        "overdue": "0.00",
        "credit": "30.00",
    }
    refunded = finance.refund_payment(p2["id"], {"amount": "30.00", "reason": "over-payment returned"})
    assert refunded["unallocated"] == "0.00" and refunded["refunds"][0]["amount"] == "30.00"
    with pytest.raises(ValidationFailed):
        finance.refund_payment(p2["id"], {"amount": "0.01", "reason": "again"})


@pytest.mark.parametrize(
    "alloc, field",
    [
        ([{"invoice_id": "A", "amount": "10"}], "allocations.0.invoice_id"),
        ([{"invoice_id": 1, "amount": "500.00"}], "allocations.0.amount"),  # beyond the invoice's balance
        ([{"invoice_id": 1, "amount": "-1"}], "allocations.0.amount"),
        ([{"invoice_id": 1, "amount": "NaN"}], "allocations.0.amount"),
        ([{"invoice_id": 2, "amount": "10"}], "allocations.0.invoice_id"),  # another customer's
        ([{"invoice_id": 3, "amount": "10"}], "allocations.0.invoice_id"),  # another currency
        ([{"invoice_id": 99, "amount": "10"}], "allocations.0.invoice_id"),
    ],
)
def test_bad_allocations_are_refused_and_nothing_is_written(db, finance, customers_known, alloc, field):
    one_off(finance, "100.00")  # 1
    one_off(finance, "100.00", customer_id=11)  # 2
    one_off(finance, "100.00", currency="USD")  # 3
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as err:
        payment(finance, "400.00", alloc)
    assert field in err.value.details
    assert table_counts(db) == before
    assert finance.get_invoice(1)["paid"] == "0.00"


def test_allocations_beyond_the_payment_are_refused(finance, customers_known):
    one_off(finance, "100.00")
    one_off(finance, "100.00")
    with pytest.raises(ValidationFailed):
        payment(
            finance, "150.00", [{"invoice_id": 1, "amount": "100.00"}, {"invoice_id": 2, "amount": "60.00"}]
        )


def test_a_sales_rep_records_a_receipt_that_finance_confirms(service, finance, customers_known):
    inv = one_off(finance, "100.00")
    pending = payment(service(REP), "100.00", [{"invoice_id": inv["id"], "amount": "100.00"}])
    assert pending["status"] == "pending"
    assert finance.get_invoice(inv["id"])["status"] == "issued"  # nothing counts before finance confirms
    with pytest.raises(ValidationFailed):  # not the rep's customer
        payment(service(OTHER_REP), "100.00")
    with pytest.raises(PermissionDenied):
        service(REP).confirm_payment(pending["id"])
    confirmed = finance.confirm_payment(pending["id"])
    assert confirmed["status"] == "confirmed" and confirmed["confirmed_by"] == FINANCE.actor
    assert finance.get_invoice(inv["id"])["status"] == "paid"


@pytest.mark.parametrize(
    "alloc, field",
    [
        ([{"invoice_id": 1, "amount": "150.00"}], "allocations.0.amount"),  # beyond the invoice's balance
        ([{"invoice_id": 2, "amount": "10.00"}], "allocations.0.invoice_id"),  # another customer's
        ([{"invoice_id": 3, "amount": "10.00"}], "allocations.0.invoice_id"),  # another currency
        ([{"invoice_id": 99, "amount": "10.00"}], "allocations.0.invoice_id"),
        ([{"invoice_id": 1, "amount": "100.00"}, {"invoice_id": 4, "amount": "100.00"}], "allocations"),
    ],
)
def test_a_pending_receipt_with_an_impossible_allocation_is_refused_on_entry(
    db, service, finance, customers_known, alloc, field
):
    one_off(finance, "100.00")  # 1
    one_off(finance, "100.00", customer_id=11)  # 2
    one_off(finance, "100.00", currency="USD")  # 3
    one_off(finance, "100.00")  # 4
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as err:  # the rep's receipt: 150.00 in all
        payment(service(REP), "150.00", alloc)
    assert any(k.startswith(field) for k in err.value.details), err.value.details
    assert table_counts(db) == before
    assert finance.get_invoice(1)["paid"] == "0.00"


def test_a_pending_receipt_for_a_paid_or_locked_invoice_is_refused_on_entry(
    db, service, finance, customers_known
):
    paid = one_off(finance, "100.00")
    payment(finance, "100.00", [{"invoice_id": paid["id"], "amount": "100.00"}])
    locked = one_off(finance, "100.00")
    finance.lock_invoice(locked["id"])
    before = table_counts(db)
    with pytest.raises(ValidationFailed) as err:  # overpaying: the invoice is paid already
        payment(service(REP), "100.00", [{"invoice_id": paid["id"], "amount": "100.00"}])
    assert "allocations.0.invoice_id" in err.value.details
    from billing_fixtures import MANAGER

    with pytest.raises(Conflict):
        payment(service(MANAGER), "100.00", [{"invoice_id": locked["id"], "amount": "100.00"}])
    assert table_counts(db) == before
    # a possible one is still recorded pending, and takes effect only when confirmed
    finance.unlock_invoice(locked["id"])
    pending = payment(service(MANAGER), "60.00", [{"invoice_id": locked["id"], "amount": "60.00"}])
    assert pending["status"] == "pending" and finance.get_invoice(locked["id"])["paid"] == "0.00"


def test_locked_documents_cannot_change_until_unlocked(db, finance, customers_known):
    inv = one_off(finance, "100.00")
    locked = finance.lock_invoice(inv["id"])
    assert locked["locked"] and locked["locked_by"] == FINANCE.actor
    for attempt in (
        lambda: finance.void_invoice(inv["id"], {"reason": "wrong"}),
        lambda: finance.create_credit_note(inv["id"], {"reason": "discount", "amount": "10.00"}),
        lambda: payment(finance, "10.00", [{"invoice_id": inv["id"], "amount": "10.00"}]),
    ):
        with pytest.raises(Conflict):
            attempt()
    assert payment(finance, "10.00")["unallocated"] == "10.00"  # oldest-first skips the locked invoice
    finance.unlock_invoice(inv["id"])
    assert finance.void_invoice(inv["id"], {"reason": "wrong customer"})["status"] == "void"
    from billing import models as m

    with db.read() as s:
        actions = [
            r.action
            for r in s.execute(
                select(m.infra.audit_log.c.action).where(m.infra.audit_log.c.entity == "invoice")
            )
        ]
    assert actions.count("locked") == 1 and actions.count("unlocked") == 1
    with pytest.raises(PermissionDenied):
        from billing_fixtures import MANAGER

        invoices.lock_invoice(db, MANAGER, inv["id"], True)


def test_credit_notes_reverse_part_or_all_and_keep_the_excess_as_credit(
    finance, customers_known, events, admin
):
    admin.set_tax_rate({"key": "default", "percent": "20"})
    inv = one_off(finance, "100.00")  # 100 + 20 tax
    note = finance.create_credit_note(inv["id"], {"reason": "goodwill", "amount": "60.00"})
    assert note["number"].startswith("CN-") and (note["subtotal"], note["tax"], note["amount"]) == (
        "50.00",
        "10.00",
        "60.00",
    )
    after = finance.get_invoice(inv["id"])
    assert (after["credited"], after["balance"], after["status"]) == ("60.00", "60.00", "partially_paid")
    paid = payment(finance, "60.00", [{"invoice_id": inv["id"], "amount": "60.00"}])
    rest = finance.create_credit_note(inv["id"], {"reason": "full reversal"})  # the whole creditable rest
    assert rest["amount"] == "60.00"
    # the invoice no longer asks for the 60.00 it was paid: they go back to the payment as credit
    after = finance.get_invoice(inv["id"])
    assert (after["paid"], after["credited"], after["balance"], after["allocations"]) == (
        "0.00",
        "120.00",
        "0.00",
        [],
    )
    back = finance.get_payment(paid["id"])
    assert (back["allocated"], back["unallocated"], back["allocations"]) == ("0.00", "60.00", [])
    assert finance.customer_balance(10)["currencies"]["EUR"]["credit"] == "60.00"
    assert (
        finance.refund_payment(paid["id"], {"amount": "60.00", "reason": "credited"})["unallocated"] == "0.00"
    )
    assert events("credit_note_issued")[-1]["customer_credit"] == "60.00"
    with pytest.raises(ValidationFailed):
        finance.create_credit_note(inv["id"], {"reason": "too much", "amount": "0.01"})


def test_overdue_scan_marks_once_and_payment_closes(db, finance, customers_known, events):
    inv = one_off(finance, "100.00", issue_date="2027-01-01")  # due 31 Jan
    assert invoices.mark_overdue(db, dt.date(2027, 1, 31)) == 0
    assert invoices.mark_overdue(db, dt.date(2027, 2, 1)) == 1
    assert invoices.mark_overdue(db, dt.date(2027, 2, 2)) == 0
    (overdue,) = events("invoice_overdue")
    assert overdue["id"] == inv["id"] and overdue["days_overdue"] == 1 and overdue["owner_id"] == 3
    payment(finance, "40.00")
    assert finance.get_invoice(inv["id"])["status"] == "overdue"  # still owed
    payment(finance, "60.00")
    assert finance.get_invoice(inv["id"])["status"] == "paid"
    assert events("invoice_paid")[-1]["id"] == inv["id"]


def test_numbers_are_gapless_per_year_and_series(finance, customers_known):
    one_off(finance, issue_date="2027-12-31")
    with pytest.raises(ValidationFailed):
        one_off(finance, amount="-1", issue_date="2027-12-31")  # rolled back: no number used
    one_off(finance, issue_date="2027-12-31")
    one_off(finance, issue_date="2028-01-01")
    numbers = [i["number"] for i in finance.list_invoices(None, 1, 50)["items"]]
    assert sorted(numbers) == ["INV-2027-000001", "INV-2027-000002", "INV-2028-000001"]


def test_rep_reads_only_own_customers_payments(service, finance, customers_known):
    payment(finance, "10.00")
    payment(finance, "10.00", customer_id=11)
    assert {p["customer_id"] for p in service(REP).list_payments(None, 1, 50)["items"]} == {10}
    with pytest.raises(NotFound):
        service(REP).get_payment(2)


def test_billing_run_invoices_are_payable_and_total_exactly(db, activate, finance):
    activate()
    runs.run_billing(db, FINANCE, dt.date(2027, 12, 31))
    total = sum(Decimal(i["total"]) for i in finance.list_invoices(None, 1, 50)["items"])
    p = payment(finance, str(total))
    assert p["unallocated"] == "0.00" and len(p["allocations"]) == 12


def test_an_empty_allocation_list_keeps_the_whole_payment_as_credit(finance, customers_known):
    inv = one_off(finance, "100.00")
    p = payment(finance, "100.00", [])
    assert p["allocations"] == [] and p["unallocated"] == "100.00"
    assert finance.get_invoice(inv["id"])["status"] == "issued"
    later = finance.allocate_payment(p["id"], {})
    assert later["unallocated"] == "0.00" and finance.get_invoice(inv["id"])["status"] == "paid"


def test_a_one_off_invoice_names_only_a_contract_of_its_customer(finance, activate):
    activate(1)  # customer 10
    inv = one_off(finance, contract_id=1)
    assert inv["contract_id"] == 1 and inv["contract_number"] == "C-2027-000001"
    with pytest.raises(ValidationFailed) as err:
        one_off(finance, customer_id=11, contract_id=1)
    assert "contract_id" in err.value.details
    with pytest.raises(ValidationFailed):
        one_off(finance, contract_id=99)
