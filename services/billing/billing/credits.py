"""Credit notes: reverse all or part of an issued invoice (finance), or settle an invoiced period
an amendment or a termination made cheaper (billing runs). A credit note has its own gapless
number (``CN-2027-000001``), lines pointing at the invoice lines it credits, and lowers what the
invoice asks for; on an invoice already paid, the part credited beyond its balance becomes the
customer's credit: the allocations that paid the invoice shrink by it, and their payments keep it
unallocated (to allocate to another invoice, or refund)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from crm_common.db import utcnow
from crm_common.errors import Conflict, ValidationFailed, load_or_raise, not_found
from crm_common.money import quantize
from crm_common.paging import load_filters, page_args, page_of, parse_id, run_page, sorted_query
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from . import customers, domain, invoices, scopes
from . import events as ev
from . import models as m
from .schemas import CreditNoteFilters, CreditNoteIn
from .support import ZERO, iso, money, number, today

CN = m.credit_notes.c
CNL = m.credit_note_lines.c
A = m.allocations.c
P = m.payments.c
IL = m.invoice_lines.c
credit_note_in = CreditNoteIn()
credit_note_filters = CreditNoteFilters()


def credited_per_line(s: Session, line_ids: Sequence[int]) -> dict[int, Decimal]:
    """What credit notes have taken off each invoice line (net), summed exactly in Python."""
    out: dict[int, Decimal] = {}
    for i in range(0, len(line_ids), 500):
        chunk = list(line_ids[i : i + 500])
        for r in s.execute(select(CNL.invoice_line_id, CNL.amount).where(CNL.invoice_line_id.in_(chunk))):
            out[r.invoice_line_id] = out.get(r.invoice_line_id, ZERO) + r.amount
    return out


def remaining_lines(s: Session, invoice_id: int) -> list[dict[str, Any]]:
    """The invoice's lines with what is still creditable of each (net)."""
    lines = [
        dict(r)
        for r in s.execute(
            select(m.invoice_lines).where(IL.invoice_id == invoice_id).order_by(IL.position, IL.id)
        ).mappings()
    ]
    credited = credited_per_line(s, [li["id"] for li in lines])
    for li in lines:
        li["remaining"] = li["amount"] - credited.get(li["id"], ZERO)
    return lines


def release_allocations(s: Session, invoice: dict[str, Any], amount: Decimal, actor: str) -> None:
    """Take ``amount`` back from the allocations that paid ``invoice`` (newest first): the
    allocations shrink, their payments' unallocated rest grows, the invoice's ``paid`` falls."""
    left = amount
    allocations = s.execute(
        select(A.id, A.payment_id, A.amount)
        .where(A.invoice_id == invoice["id"])
        .order_by(A.id.desc())
        .with_for_update()
    ).all()
    for a in allocations:
        if left <= 0:
            break
        take = min(a.amount, left)
        if take == a.amount:
            s.execute(delete(m.allocations).where(A.id == a.id))
        else:
            s.execute(update(m.allocations).where(A.id == a.id).values(amount=a.amount - take))
        payment = s.execute(select(P.allocated).where(P.id == a.payment_id).with_for_update()).scalar_one()
        s.execute(
            update(m.payments)
            .where(P.id == a.payment_id)
            .values(allocated=payment - take, updated_at=utcnow())
        )
        left -= take
    if left > 0:  # never: an invoice's paid amount is the sum of its allocations
        raise Conflict(
            f"invoice {invoice['number']}: its allocations do not cover {amount}",
            {"invoice_id": invoice["id"]},
        )
    invoice["paid"] -= amount


def issue_credit_note(
    uow,
    invoice: dict[str, Any],
    parts: Sequence[tuple[Mapping[str, Any], Decimal, Decimal]],
    reason: str,
    issue_date: dt.date,
    dedupe_key: str | None = None,
) -> dict[str, Any]:
    """Issue a credit note on the (row-locked) ``invoice`` for ``parts`` = (invoice line, net,
    tax); update the invoice, give any excess back to the payments as customer credit, publish ``credit_note_issued``."""
    s: Session = uow.session
    cur = invoice["currency"]
    subtotal = sum((net for _, net, _ in parts), ZERO)
    tax = sum((t for _, _, t in parts), ZERO)
    gross = subtotal + tax
    if gross <= 0:
        raise ValidationFailed.field("amount", "nothing to credit")
    doc = {"issue_date": issue_date, "contract_id": invoice["contract_id"]}
    invoices.number_documents(s, invoices.CREDIT_SERIES, [doc])
    note = {
        "number": doc["number"],
        "invoice_id": invoice["id"],
        "customer_id": invoice["customer_id"],
        "currency": cur,
        "subtotal": subtotal,
        "tax": tax,
        "amount": gross,
        "reason": reason,
        "issue_date": issue_date,
        "dedupe_key": dedupe_key,
        "created_by": uow.caller.actor,
        "created_at": utcnow(),
    }
    note_id = s.execute(insert(m.credit_notes).returning(CN.id), [note]).scalar_one()
    note["id"] = note_id
    s.execute(
        insert(m.credit_note_lines),
        [
            {"credit_note_id": note_id, "invoice_line_id": li["id"], "description": li["description"], "amount": net,
             "tax_percent": li["tax_percent"], "tax_amount": t}
            for li, net, t in parts
        ],
    )  # fmt: skip
    balance = invoices.balance_of(invoice)
    applied = min(gross, max(balance, ZERO))
    excess = gross - applied
    if excess > 0:
        # the invoice was paid already: what it no longer asks for goes back to the payments that
        # paid it (newest allocation first) and stays there as the customer's unallocated credit
        release_allocations(s, invoice, excess, uow.caller.actor)
    invoices.apply_change(uow, invoice, credited=gross, on=issue_date)
    uow.audit(
        "credit_note",
        note_id,
        "issued",
        {"invoice": [None, invoice["number"]], "amount": [None, money(gross, cur)]},
    )
    uow.publish(
        ev.CREDIT_NOTE_ISSUED,
        {
            "id": note_id,
            "credit_note_id": note_id,
            "number": note["number"],
            "invoice_id": invoice["id"],
            "invoice_number": invoice["number"],
            "contract_id": invoice["contract_id"],
            "customer_id": invoice["customer_id"],
            "customer_name": (invoice["customer"] or {}).get("name"),
            "owner_id": customers.owner_of(s, invoice["customer_id"]),
            "amount": money(gross, cur),
            "currency": cur,
            "customer_credit": money(excess, cur),
            "invoice_total": money(invoice["total"] - invoice["credited"], cur),
            "invoice_paid": money(invoice["paid"], cur),
            "invoice_status": invoice["status"],
            "reason": reason,
        },
    )
    return note


def create_credit_note(db, caller, invoice_id: Any, data: Any) -> dict[str, Any]:
    """Finance reverses all (no ``amount``/``lines``) or part of an issued invoice: ``amount``
    (gross, spread over the lines in proportion) or ``lines`` [{invoice_line_id, amount (net)}]."""
    scopes.write_access(caller, "issue credit notes")
    invoice_id = parse_id(invoice_id, "invoice_id")
    v = load_or_raise(credit_note_in, data)
    with db.transaction() as uow:
        s = uow.session
        row = invoices.writable_invoice(s, invoice_id)
        if row["status"] in ("draft", "void"):
            raise Conflict(
                f"invoice {row['number'] or row['id']} is {row['status']}: nothing to credit",
                {"status": row["status"]},
            )
        cur = row["currency"]
        lines = remaining_lines(s, invoice_id)
        parts: list[tuple[Mapping[str, Any], Decimal, Decimal]] = []
        if v["lines"]:
            by_id = {li["id"]: li for li in lines}
            seen: set[int] = set()
            errors: dict[str, list[str]] = {}
            for i, req in enumerate(v["lines"]):
                li = by_id.get(req["invoice_line_id"])
                if li is None:
                    errors[f"lines.{i}.invoice_line_id"] = ["not a line of this invoice"]
                    continue
                if li["id"] in seen:
                    errors[f"lines.{i}.invoice_line_id"] = ["named twice"]
                    continue
                seen.add(li["id"])
                net = quantize(req["amount"], cur)
                if net != req["amount"]:
                    errors[f"lines.{i}.amount"] = [f"has more decimals than {cur} allows"]
                elif net > li["remaining"]:
                    errors[f"lines.{i}.amount"] = [
                        f"more than the line's creditable {money(li['remaining'], cur)}"
                    ]
                else:
                    parts.append((li, net, domain.line_tax(net, li["tax_percent"], cur)))
            if errors:
                raise ValidationFailed("Invalid credit note lines", errors)
        else:
            rest = [(li["id"], li["remaining"], li["tax_percent"]) for li in lines if li["remaining"] > 0]
            creditable = sum((r + domain.line_tax(r, t, cur) for _, r, t in rest), ZERO)
            gross = v["amount"] if v["amount"] is not None else creditable
            if quantize(gross, cur) != gross:
                raise ValidationFailed.field("amount", f"has more decimals than {cur} allows")
            if gross > creditable or gross <= 0:
                raise ValidationFailed.field(
                    "amount", f"must be between 0 and the creditable {money(creditable, cur)}"
                )
            by_id = {li["id"]: li for li in lines}
            parts = [
                (by_id[lid], net, t) for lid, net, t in domain.split_credit(gross, rest, cur) if net + t > 0
            ]
        note = issue_credit_note(uow, row, parts, v["reason"], v["issue_date"] or today())
        return credit_note_view(s, note, row)


def credit_note_view(
    s: Session, note: Mapping[str, Any], invoice: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    if invoice is None:
        invoice = dict(
            s.execute(select(m.invoices).where(m.invoices.c.id == note["invoice_id"])).mappings().one()
        )
    cur = note["currency"]
    lines = s.execute(
        select(m.credit_note_lines).where(CNL.credit_note_id == note["id"]).order_by(CNL.id)
    ).mappings()
    return {
        "id": note["id"],
        "number": note["number"],
        "invoice_id": note["invoice_id"],
        "invoice_number": invoice["number"],
        "contract_id": invoice["contract_id"],
        "customer_id": note["customer_id"],
        "customer": invoice["customer"],
        "currency": cur,
        "language": invoice["language"],
        "issue_date": iso(note["issue_date"]),
        "reason": note["reason"],
        "subtotal": money(note["subtotal"], cur),
        "tax": money(note["tax"], cur),
        "amount": money(note["amount"], cur),
        "lines": [
            {"invoice_line_id": li["invoice_line_id"], "description": li["description"], "amount": money(li["amount"], cur),
             "tax_percent": number(li["tax_percent"]), "tax_amount": money(li["tax_amount"], cur)}
            for li in lines
        ],
        "created_at": iso(note["created_at"]),
    }  # fmt: skip


def visible_credit_note(
    s: Session, note_id: int, access: scopes.Access
) -> tuple[dict[str, Any], dict[str, Any]]:
    note = s.execute(select(m.credit_notes).where(CN.id == note_id)).mappings().first()
    if note is None:
        raise not_found("credit_note", note_id)
    try:
        invoice = invoices.visible_invoice(s, note["invoice_id"], access)
    except Exception:
        raise not_found("credit_note", note_id) from None
    return dict(note), invoice


def get_credit_note(db, caller, note_id: Any) -> dict[str, Any]:
    access = scopes.read_access(caller)
    note_id = parse_id(note_id, "credit_note_id")
    with db.read() as s:
        note, invoice = visible_credit_note(s, note_id, access)
        return credit_note_view(s, note, invoice)


# the fields credit note lists may be sorted by
CREDIT_NOTE_SORT = {
    "number": CN.number, "issue_date": CN.issue_date, "amount": CN.amount, "created_at": CN.created_at,
    "id": CN.id,
}  # fmt: skip


def list_credit_notes(
    db, caller, filters: Any, page: Any, page_size: Any, sort: Any = None
) -> dict[str, Any]:
    access = scopes.read_access(caller)
    f = load_filters(credit_note_filters, filters)
    page, page_size = page_args(page, page_size)
    query = scopes.scoped(select(m.credit_notes), access, CN.customer_id)
    for key in ("customer_id", "invoice_id"):
        if key in f:
            query = query.where(getattr(CN, key) == f[key])
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, CREDIT_NOTE_SORT, CN.id.desc()), page, page_size)
        return page_of([credit_note_view(s, r) for r in rows], total, page, page_size)
