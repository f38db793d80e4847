"""Payments (回款): money received from a customer — method, received at, amount, currency,
handler, account, reference — allocated to one or more of the customer's open invoices, named
explicitly or oldest first; what is left is the customer's credit (allocated later, or refunded).

Finance and administrators record confirmed payments. A sales rep (for customers they own) or a
sales manager records a receipt as ``pending``: it changes no invoice until finance confirms it.
Every allocation is checked before anything is written (currency, customer, open and unlocked
invoice, amount within the invoice's balance and the payment's rest): a bad request is a 422 or
409 and leaves no trace."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from crm_common.db import utcnow
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed, load_or_raise, not_found
from crm_common.money import quantize
from crm_common.paging import load_filters, page_args, page_of, parse_id, run_page, sorted_query
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import customers, domain, invoices, scopes
from . import events as ev
from . import models as m
from .schemas import AllocateIn, PaymentFilters, PaymentIn, RefundIn
from .support import ZERO, iso, money

P = m.payments.c
A = m.allocations.c
I = m.invoices.c  # noqa: E741
payment_in = PaymentIn()
allocate_in = AllocateIn()
refund_in = RefundIn()
payment_filters = PaymentFilters()


def unallocated(row: Mapping[str, Any]) -> Decimal:
    return row["amount"] - row["allocated"] - row["refunded"]


# --------------------------------------------------------------------------------------
# Views
# --------------------------------------------------------------------------------------


def payment_view(s: Session, row: Mapping[str, Any]) -> dict[str, Any]:
    cur = row["currency"]
    allocs = s.execute(
        select(A.invoice_id, A.amount, A.created_at, I.number)
        .join(m.invoices, I.id == A.invoice_id)
        .where(A.payment_id == row["id"])
        .order_by(A.id)
    ).all()
    refunds = s.execute(
        select(m.refunds).where(m.refunds.c.payment_id == row["id"]).order_by(m.refunds.c.id)
    ).mappings()
    customer = customers.rows_of(s, [row["customer_id"]]).get(row["customer_id"]) or {}
    return {
        "id": row["id"],
        "customer_id": row["customer_id"],
        "customer_name": customer.get("name"),
        "amount": money(row["amount"], cur),
        "currency": cur,
        "method": row["method"],
        "received_at": iso(row["received_at"]),
        "reference": row["reference"],
        "handler": row["handler"],
        "account": row["account"],
        "notes": row["notes"],
        "status": row["status"],
        "requested_allocations": row["requested_allocations"],
        "confirmed_by": row["confirmed_by"],
        "confirmed_at": iso(row["confirmed_at"]),
        "allocated": money(row["allocated"], cur),
        "unallocated": money(unallocated(row), cur),
        "refunded": money(row["refunded"], cur),
        "locked": row["locked"],
        "locked_by": row["locked_by"],
        "locked_at": iso(row["locked_at"]),
        "allocations": [
            {
                "invoice_id": a.invoice_id,
                "invoice_number": a.number,
                "amount": money(a.amount, cur),
                "allocated_at": iso(a.created_at),
            }
            for a in allocs
        ],  # fmt: skip
        "refunds": [
            {
                "id": r["id"],
                "amount": money(r["amount"], cur),
                "reason": r["reason"],
                "method": r["method"],
                "reference": r["reference"],
                "refunded_at": iso(r["refunded_at"]),
            }
            for r in refunds
        ],  # fmt: skip
        "created_by": row["created_by"],
        "created_at": iso(row["created_at"]),
    }


def visible_payment(
    s: Session, payment_id: int, access: scopes.Access, for_update: bool = False
) -> dict[str, Any]:
    return scopes.visible_row(s, m.payments, payment_id, access, "payment", for_update)


def get_payment(db, caller, payment_id: Any) -> dict[str, Any]:
    access = scopes.read_access(caller)
    payment_id = parse_id(payment_id, "payment_id")
    with db.read() as s:
        return payment_view(s, visible_payment(s, payment_id, access))


# the fields payment lists may be sorted by (``sort=["-amount"]``)
PAYMENT_SORT = {
    "received_at": P.received_at, "amount": P.amount, "status": P.status, "method": P.method,
    "currency": P.currency, "created_at": P.created_at, "id": P.id,
}  # fmt: skip


def list_payments(db, caller, filters: Any, page: Any, page_size: Any, sort: Any = None) -> dict[str, Any]:
    access = scopes.read_access(caller)
    f = load_filters(payment_filters, filters)
    page, page_size = page_args(page, page_size)
    query = scopes.scoped(select(m.payments), access, P.customer_id)
    for key in ("customer_id", "status", "method", "currency"):
        if key in f:
            query = query.where(getattr(P, key) == f[key])
    if f.get("contract_id") is not None:
        paid_to_contract = (
            select(A.payment_id)
            .join(m.invoices, I.id == A.invoice_id)
            .where(I.contract_id == f["contract_id"])
        )
        query = query.where(P.id.in_(paid_to_contract))
    with db.read() as s:
        query = sorted_query(query, sort, PAYMENT_SORT, P.received_at.desc(), P.id.desc())
        rows, total = run_page(s, query, page, page_size)
        return page_of([payment_view(s, r) for r in rows], total, page, page_size)


# --------------------------------------------------------------------------------------
# Allocation
# --------------------------------------------------------------------------------------


def _requested(raw: Sequence[Mapping[str, Any]] | None) -> list[tuple[int, Decimal]] | None:
    if raw is None:
        return None
    return [(int(a["invoice_id"]), Decimal(str(a["amount"]))) for a in raw]


def checked_allocations(
    s: Session, payment: Mapping[str, Any], requested: list[tuple[int, Decimal]]
) -> list[tuple[dict[str, Any], Decimal]]:
    """The (row-locked) invoices and amounts of an explicit allocation of the payment's rest, once
    every check passed: each invoice exists, is the payment's customer's, in its currency, open
    and unlocked (409), gets no more than its balance, and all of them no more than the rest
    (422 naming ``allocations.<i>.*``). Run when a receipt is recorded (pending ones too: an
    impossible allocation is refused on entry) and again when it takes effect."""
    cur = payment["currency"]
    rest = unallocated(payment)
    errors: dict[str, list[str]] = {}
    rows: dict[int, dict[str, Any]] = {}
    for i, (invoice_id, amount) in enumerate(requested):
        if quantize(amount, cur) != amount:
            errors[f"allocations.{i}.amount"] = [f"has more decimals than {cur} allows"]
        row = s.execute(select(m.invoices).where(I.id == invoice_id).with_for_update()).mappings().first()
        if row is None:
            errors[f"allocations.{i}.invoice_id"] = [f"invoice {invoice_id} not found"]
            continue
        row = dict(row)
        if row["customer_id"] != payment["customer_id"]:
            errors[f"allocations.{i}.invoice_id"] = [f"invoice {row['number']} belongs to another customer"]
        elif row["currency"] != cur:
            errors[f"allocations.{i}.invoice_id"] = [
                f"invoice {row['number']} is in {row['currency']}, the payment in {cur}"
            ]
        elif row["status"] not in invoices.OPEN_STATUSES:
            errors[f"allocations.{i}.invoice_id"] = [
                f"invoice {row['number'] or row['id']} is {row['status']}: nothing to pay"
            ]
        rows[invoice_id] = row
    if errors:
        raise ValidationFailed("Invalid allocations", errors)
    for row in rows.values():
        invoices.check_unlocked(row, "invoice")
    problems = domain.check_allocations(rest, requested, {k: invoices.balance_of(r) for k, r in rows.items()})
    if problems:
        raise ValidationFailed("Invalid allocations", problems)
    return [(rows[i], amt) for i, amt in requested]


def allocate(
    uow, payment: dict[str, Any], requested: list[tuple[int, Decimal]] | None, announce: bool = True
) -> list[dict[str, Any]]:
    """Allocate the payment's rest to the customer's invoices (``requested``, else oldest open
    first, skipping locked ones); every check before the first write. Publishes
    ``payment_received`` with each invoice's state after the payment."""
    s: Session = uow.session
    cur = payment["currency"]
    rest = unallocated(payment)
    if requested == []:  # named explicitly: nothing to allocate now, all of it is credit
        plan: list[tuple[dict[str, Any], Decimal]] = []
    elif requested:
        plan = checked_allocations(s, payment, requested)
    else:
        candidates = [r for r in invoices.open_invoices(s, payment["customer_id"], cur) if not r["locked"]]
        by_id = {r["id"]: r for r in candidates}
        opens = [
            domain.OpenInvoice(r["id"], invoices.balance_of(r), r["due_date"], r["issue_date"], r["number"])
            for r in candidates
        ]
        chosen, _left = domain.allocate_oldest_first(rest, opens)
        plan = [(by_id[i], amt) for i, amt in chosen]
    now = utcnow()
    out = []
    for row, amount in plan:
        s.execute(insert(m.allocations).values(payment_id=payment["id"], invoice_id=row["id"], amount=amount,
                                               created_by=uow.caller.actor, created_at=now))  # fmt: skip
        invoices.apply_change(uow, row, paid=amount, on=payment["received_at"].date())
        out.append(
            {"invoice_id": row["id"], "invoice_number": row["number"], "amount": money(amount, cur),
             "contract_id": row["contract_id"], "invoice_paid": money(row["paid"], cur),
             "invoice_total": money(row["total"] - row["credited"], cur), "invoice_status": row["status"]}
        )  # fmt: skip
    allocated = sum((amt for _, amt in plan), ZERO)
    payment["allocated"] += allocated
    s.execute(
        update(m.payments).where(P.id == payment["id"]).values(allocated=payment["allocated"], updated_at=now)
    )
    if plan:
        uow.audit(
            "payment",
            payment["id"],
            "allocated",
            {"allocations": [None, [(a["invoice_number"], a["amount"]) for a in out]]},
        )
    if plan or announce:  # a later allocation of a credit is announced only when it paid something
        uow.publish(ev.PAYMENT_RECEIVED, payment_payload(s, payment, out))
    return out


def payment_payload(
    s: Session, payment: Mapping[str, Any], allocations: list[dict[str, Any]]
) -> dict[str, Any]:
    cur = payment["currency"]
    customer = customers.rows_of(s, [payment["customer_id"]]).get(payment["customer_id"]) or {}
    return {
        "id": payment["id"],
        "payment_id": payment["id"],
        "customer_id": payment["customer_id"],
        "customer_name": customer.get("name"),
        "owner_id": customer.get("owner_id"),
        "amount": money(payment["amount"], cur),
        "currency": cur,
        "method": payment["method"],
        "received_at": iso(payment["received_at"]),
        "reference": payment["reference"],
        "unallocated": money(unallocated(payment), cur),
        "allocations": allocations,
        "paid_invoice_ids": [a["invoice_id"] for a in allocations if a["invoice_status"] == "paid"],
    }


# --------------------------------------------------------------------------------------
# Use cases
# --------------------------------------------------------------------------------------


def record_payment(db, caller, data: Any, customer_fetch=None) -> dict[str, Any]:
    """Record a payment; finance / admin: confirmed and allocated now; a sales rep (own
    customers) or manager: ``pending`` until finance confirms it, its ``allocations`` checked
    on entry all the same (:func:`checked_allocations`)."""
    if caller is None or not caller.authenticated:
        raise PermissionDenied("No caller context: the call is not authenticated")
    caller.require_any(scopes.RECORD_ROLES, "record payments")
    finance = caller.is_system or caller.has_any(scopes.WRITE_ROLES)
    v = load_or_raise(payment_in, data)
    cur = v["currency"]
    if quantize(v["amount"], cur) != v["amount"]:
        raise ValidationFailed.field("amount", f"has more decimals than {cur} allows")
    fetched = customer_fetch(v["customer_id"]) if customer_fetch is not None else None
    with db.transaction() as uow:
        s = uow.session
        if fetched:
            customers.store_fetched(s, [fetched])
        customer = customers.rows_of(s, [v["customer_id"]]).get(v["customer_id"])
        if customer is None or customer.get("deleted"):
            raise ValidationFailed.field("customer_id", "no such customer")
        if (
            not finance
            and not caller.has_any(("sales_manager",))
            and customer.get("owner_id") != caller.user_id
        ):
            raise ValidationFailed.field("customer_id", "no such customer")  # another rep's looks missing
        now = utcnow()
        row = {
            "customer_id": v["customer_id"], "amount": v["amount"], "currency": cur, "method": v["method"],
            "received_at": v["received_at"], "reference": v["reference"], "handler": v["handler"] or caller.username,
            "account": v["account"], "notes": v["notes"], "status": "confirmed" if finance else "pending",
            "requested_allocations": [{"invoice_id": a["invoice_id"], "amount": format(a["amount"], "f")}
                                      for a in v["allocations"]] if v["allocations"] is not None else None,
            "allocated": ZERO, "refunded": ZERO, "confirmed_by": uow.caller.actor if finance else None,
            "confirmed_at": now if finance else None, "locked": False, "locked_by": None, "locked_at": None,
            "created_by": uow.caller.actor, "created_at": now, "updated_at": now,
        }  # fmt: skip
        if not finance and row["requested_allocations"]:
            # a pending receipt's allocation is checked now as at confirmation: an impossible one
            # is refused on entry (422 / 409 for a locked invoice), nothing written
            checked_allocations(s, row, _requested(row["requested_allocations"]) or [])
        row["id"] = s.execute(insert(m.payments).returning(P.id), [row]).scalar_one()
        uow.audit(
            "payment",
            row["id"],
            "recorded",
            {"amount": [None, money(v["amount"], cur)], "status": [None, row["status"]]},
        )
        if finance:
            allocate(uow, row, _requested(row["requested_allocations"]))
        return payment_view(s, row)


def _writable_payment(s: Session, payment_id: int) -> dict[str, Any]:
    row = visible_payment(s, payment_id, scopes.Access(write=True), for_update=True)
    invoices.check_unlocked(row, "payment")
    return row


def confirm_payment(db, caller, payment_id: Any) -> dict[str, Any]:
    """Finance confirms a pending receipt: its allocations take effect now."""
    scopes.write_access(caller, "confirm payments")
    payment_id = parse_id(payment_id, "payment_id")
    with db.transaction() as uow:
        s = uow.session
        row = _writable_payment(s, payment_id)
        if row["status"] != "pending":
            raise Conflict(f"payment {payment_id} is already {row['status']}", {"status": row["status"]})
        now = utcnow()
        values = {
            "status": "confirmed",
            "confirmed_by": uow.caller.actor,
            "confirmed_at": now,
            "updated_at": now,
        }
        s.execute(update(m.payments).where(P.id == payment_id).values(**values))
        row.update(values)
        uow.audit("payment", payment_id, "confirmed", {"status": ["pending", "confirmed"]})
        allocate(uow, row, _requested(row["requested_allocations"]))
        return payment_view(s, row)


def allocate_payment(db, caller, payment_id: Any, data: Any) -> dict[str, Any]:
    """Allocate what is left of a confirmed payment (or a credit) to invoices."""
    scopes.write_access(caller, "allocate payments")
    payment_id = parse_id(payment_id, "payment_id")
    v = load_or_raise(allocate_in, data or {})
    with db.transaction() as uow:
        s = uow.session
        row = _writable_payment(s, payment_id)
        if row["status"] != "confirmed":
            raise Conflict(
                f"payment {payment_id} is {row['status']}: confirm it first", {"status": row["status"]}
            )
        if unallocated(row) <= 0:
            raise Conflict(f"payment {payment_id} is fully allocated", {"unallocated": "0"})
        requested = [(a["invoice_id"], a["amount"]) for a in v["allocations"]] if v["allocations"] else None
        allocate(uow, row, requested, announce=False)
        return payment_view(s, row)


def refund_payment(db, caller, payment_id: Any, data: Any) -> dict[str, Any]:
    """Pay back (part of) what a payment left unallocated: the customer's credit."""
    scopes.write_access(caller, "refund payments")
    payment_id = parse_id(payment_id, "payment_id")
    v = load_or_raise(refund_in, data)
    with db.transaction() as uow:
        s = uow.session
        row = _writable_payment(s, payment_id)
        cur = row["currency"]
        if row["status"] != "confirmed":
            raise Conflict(
                f"payment {payment_id} is {row['status']}: nothing received to refund",
                {"status": row["status"]},
            )
        if quantize(v["amount"], cur) != v["amount"]:
            raise ValidationFailed.field("amount", f"has more decimals than {cur} allows")
        if v["amount"] > unallocated(row):
            raise ValidationFailed.field(
                "amount", f"more than the payment's unallocated {money(unallocated(row), cur)}"
            )
        now = utcnow()
        refund_id = s.execute(
            insert(m.refunds).returning(m.refunds.c.id),
            [{"payment_id": payment_id, "amount": v["amount"], "method": v["method"] or row["method"],
              "reference": v["reference"], "reason": v["reason"], "refunded_at": now, "created_by": uow.caller.actor}],
        ).scalar_one()  # fmt: skip
        row["refunded"] += v["amount"]
        s.execute(
            update(m.payments).where(P.id == payment_id).values(refunded=row["refunded"], updated_at=now)
        )
        uow.audit(
            "payment",
            payment_id,
            "refunded",
            {"refunded": [None, money(v["amount"], cur)], "reason": [None, v["reason"]]},
        )
        uow.publish(ev.PAYMENT_REFUNDED, {"id": refund_id, "refund_id": refund_id, "payment_id": payment_id,
                                          "customer_id": row["customer_id"], "amount": money(v["amount"], cur),
                                          "currency": cur, "reason": v["reason"]})  # fmt: skip
        return payment_view(s, row)


def lock_payment(db, caller, payment_id: Any, locked: bool) -> dict[str, Any]:
    return invoices.set_lock(db, caller, m.payments, "payment", payment_id, locked, payment_view)


def customer_balance(db, caller, customer_id: Any) -> dict[str, Any]:
    """Per currency: open and overdue invoice balances and the customer's unallocated credit."""
    access = scopes.read_access(caller)
    customer_id = parse_id(customer_id, "customer_id")
    with db.read() as s:
        owner = customers.owner_of(s, customer_id)
        if not scopes.allows(access, customer_id, owner, "issued"):
            raise not_found("customer", customer_id)
        totals = invoices.customer_totals(s, customer_id)
        credit: dict[str, Decimal] = {}
        for r in s.execute(
            select(m.payments).where(P.customer_id == customer_id, P.status == "confirmed")
        ).mappings():
            credit[r["currency"]] = credit.get(r["currency"], ZERO) + unallocated(r)
    out = {}
    for cur in sorted(set(totals) | set(credit)):
        t = totals.get(cur, {"open": ZERO, "overdue": ZERO})
        out[cur] = {
            "open": money(t["open"], cur),
            "overdue": money(t["overdue"], cur),
            "credit": money(credit.get(cur, ZERO), cur),
        }
    return {"customer_id": customer_id, "currencies": out}
