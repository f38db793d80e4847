"""Pending corrections: billing never credits or adjusts an invoice finance locked. When a
billing run settles a changed contract (an amendment or a termination made invoiced periods
cheaper) and the invoice to credit is locked, it records what it would have credited — per
invoice line, with the reason — as a pending correction instead, and moves on. Finance lists
them (``list_pending_corrections``); each is applied as a credit note when finance unlocks the
invoice, or when finance approves it (``apply_pending_correction``, the invoice may stay
locked); or dismissed with a comment. While pending, a later settlement of the same periods
counts it as credited already (it is never recorded twice).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from crm_common.db import utcnow
from crm_common.errors import Conflict, load_or_raise, not_found
from crm_common.paging import page_args, page_of, parse_id, run_page, sorted_query
from marshmallow import Schema, fields, validate
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from . import credits, domain, scopes
from . import models as m
from .support import ZERO, iso, money, today

PC = m.pending_corrections.c
I = m.invoices.c  # noqa: E741
PENDING, APPLIED, DISMISSED = "pending", "applied", "dismissed"
STATUSES = (PENDING, APPLIED, DISMISSED)
# who decides them (and reads them: the list is finance's work queue)
ROLES = scopes.WRITE_ROLES


class CorrectionFilters(Schema):
    status = fields.String(load_default=PENDING, validate=validate.OneOf((*STATUSES, "all")))
    invoice_id = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(1))
    contract_id = fields.Integer(strict=True, load_default=None, allow_none=True, validate=validate.Range(1))


class DecisionIn(Schema):
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


filters_in = CorrectionFilters()
decision_in = DecisionIn()


def pending_per_line(s: Session, invoice_ids: Sequence[int]) -> dict[int, Decimal]:
    """What pending corrections would take off each invoice line (net): a settlement counts it
    as credited already, so the same correction is never recorded twice."""
    out: dict[int, Decimal] = {}
    ids = sorted(set(invoice_ids))
    for i in range(0, len(ids), 500):
        query = select(PC.parts).where(PC.status == PENDING, PC.invoice_id.in_(ids[i : i + 500]))
        for (parts,) in s.execute(query):
            for p in parts:
                lid = int(p["invoice_line_id"])
                out[lid] = out.get(lid, ZERO) + Decimal(p["amount"])
    return out


def record(
    uow,
    invoice: Mapping[str, Any],
    parts: Sequence[tuple[int, Decimal]],
    reason: str,
    dedupe_key: str,
    run_id: int | None = None,
) -> int:
    """Record the credit a run could not issue on the locked ``invoice`` (``parts``: invoice line
    id, net); returns its id."""
    s: Session = uow.session
    taken = s.execute(
        select(func.count()).select_from(m.pending_corrections).where(PC.dedupe_key.like(f"{dedupe_key}%"))
    ).scalar_one()
    if taken:  # the settlement's key is per credit note; a later one of the same period gets its own
        dedupe_key = f"{dedupe_key}:{taken + 1}"
    values = {
        "invoice_id": invoice["id"],
        "contract_id": invoice["contract_id"],
        "customer_id": invoice["customer_id"],
        "currency": invoice["currency"],
        "kind": "credit",
        "status": PENDING,
        "parts": [{"invoice_line_id": lid, "amount": format(net, "f")} for lid, net in parts],
        "amount": sum((net for _, net in parts), ZERO),
        "reason": f"{reason} (invoice {invoice['number']} is locked by finance)",
        "dedupe_key": dedupe_key,
        "run_id": run_id,
        "created_at": utcnow(),
        "created_by": uow.caller.actor,
    }
    cid = s.execute(insert(m.pending_corrections).values(**values).returning(PC.id)).scalar_one()
    uow.audit("pending_correction", cid, "recorded", {"invoice": [None, invoice["number"]],
                                                       "amount": [None, money(values["amount"], invoice["currency"])]})  # fmt: skip
    return cid


def _apply(uow, c: Mapping[str, Any], invoice: dict[str, Any], comment: str | None) -> dict[str, Any]:
    """Issue the credit note of pending correction ``c`` on the (row-locked) ``invoice``: what is
    still creditable of each line (a finance credit meanwhile may have taken part of it)."""
    s: Session = uow.session
    lines = {li["id"]: li for li in credits.remaining_lines(s, invoice["id"])}
    items = []
    for p in c["parts"]:
        li = lines.get(int(p["invoice_line_id"]))
        if li is None:
            continue
        net = min(Decimal(p["amount"]), li["remaining"])
        if net > 0:
            items.append((li, net, domain.line_tax(net, li["tax_percent"], invoice["currency"])))
    note_id = None
    now = utcnow()
    if items and invoice["status"] not in ("draft", "void"):
        note = credits.issue_credit_note(
            uow,
            invoice,
            items,
            c["reason"],
            max(today(), invoice["issue_date"] or today()),
            f"correction:{c['id']}",
        )
        note_id = note["id"]
    values = {"status": APPLIED, "credit_note_id": note_id, "decided_at": now, "decided_by": uow.caller.actor,
              "comment": comment if note_id else (comment or "nothing left to credit")}  # fmt: skip
    s.execute(update(m.pending_corrections).where(PC.id == c["id"]).values(**values))
    uow.audit(
        "pending_correction",
        c["id"],
        "applied",
        {"status": [PENDING, APPLIED], "credit_note_id": [None, note_id]},
    )
    return {**c, **values}


def apply_for_invoice(uow, invoice_id: int) -> int:
    """Finance unlocked the invoice: apply every correction pending on it; returns how many."""
    s: Session = uow.session
    pending = [
        dict(r)
        for r in s.execute(
            select(m.pending_corrections)
            .where(PC.invoice_id == invoice_id, PC.status == PENDING)
            .order_by(PC.id)
        ).mappings()
    ]
    if not pending:
        return 0
    invoice = dict(s.execute(select(m.invoices).where(I.id == invoice_id).with_for_update()).mappings().one())
    for c in pending:
        _apply(uow, c, invoice, "applied when the invoice was unlocked")
        invoice = dict(s.execute(select(m.invoices).where(I.id == invoice_id)).mappings().one())
    return len(pending)


def correction_view(c: Mapping[str, Any], invoice: Mapping[str, Any] | None = None) -> dict[str, Any]:
    cur = c["currency"]
    return {
        "id": c["id"],
        "invoice_id": c["invoice_id"],
        "invoice_number": invoice["number"] if invoice else None,
        "invoice_locked": bool(invoice["locked"]) if invoice else None,
        "contract_id": c["contract_id"],
        "customer_id": c["customer_id"],
        "customer_name": ((invoice or {}).get("customer") or {}).get("name"),
        "currency": cur,
        "kind": c["kind"],
        "status": c["status"],
        "amount": money(c["amount"], cur),
        "lines": [
            {"invoice_line_id": int(p["invoice_line_id"]), "amount": money(Decimal(p["amount"]), cur)}
            for p in c["parts"]
        ],  # fmt: skip
        "reason": c["reason"],
        "credit_note_id": c["credit_note_id"],
        "comment": c["comment"],
        "created_at": iso(c["created_at"]),
        "created_by": c["created_by"],
        "decided_at": iso(c["decided_at"]),
        "decided_by": c["decided_by"],
    }


def _views(s: Session, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    ids = sorted({r["invoice_id"] for r in rows})
    found = {
        r["id"]: r
        for r in s.execute(
            select(I.id, I.number, I.locked, I.customer).where(I.id.in_(ids or [0]))
        ).mappings()
    }
    return [correction_view(r, found.get(r["invoice_id"])) for r in rows]


# the fields this list may be sorted by and their columns
CORRECTION_SORT = {
    "created_at": PC.created_at,
    "status": PC.status,
    "kind": PC.kind,
    "amount": PC.amount,
    "decided_at": PC.decided_at,
    "id": PC.id,
}


def list_pending_corrections(
    db, caller, filters: Any = None, page: Any = 1, page_size: Any = 50, sort: Any = None
) -> dict[str, Any]:
    """Finance's list of corrections billing could not make on locked invoices (default: those
    still pending, oldest first)."""
    scopes.write_access(caller, "read pending billing corrections")
    f = load_or_raise(filters_in, filters or {})
    page, page_size = page_args(page, page_size)
    query = select(m.pending_corrections)
    if f["status"] != "all":
        query = query.where(PC.status == f["status"])
    for key in ("invoice_id", "contract_id"):
        if f.get(key) is not None:
            query = query.where(getattr(PC, key) == f[key])
    with db.read() as s:
        rows, total = run_page(s, sorted_query(query, sort, CORRECTION_SORT, PC.id), page, page_size)
        return page_of(_views(s, rows), total, page, page_size)


def _decide(db, caller, correction_id: Any, data: Any, apply: bool) -> dict[str, Any]:
    scopes.write_access(caller, f"{'apply' if apply else 'dismiss'} pending billing corrections")
    correction_id = parse_id(correction_id, "correction_id")
    v = load_or_raise(decision_in, data or {})
    with db.transaction() as uow:
        s = uow.session
        c = (
            s.execute(select(m.pending_corrections).where(PC.id == correction_id).with_for_update())
            .mappings()
            .first()
        )
        if c is None:
            raise not_found("pending_correction", correction_id)
        c = dict(c)
        if c["status"] != PENDING:
            raise Conflict(f"correction {correction_id} is {c['status']} already", {"status": c["status"]})
        invoice = dict(
            s.execute(select(m.invoices).where(I.id == c["invoice_id"]).with_for_update()).mappings().one()
        )
        if apply:
            c = _apply(uow, c, invoice, v["comment"])
            invoice = dict(s.execute(select(m.invoices).where(I.id == c["invoice_id"])).mappings().one())
        else:
            values = {
                "status": DISMISSED,
                "decided_at": utcnow(),
                "decided_by": uow.caller.actor,
                "comment": v["comment"],
            }
            s.execute(update(m.pending_corrections).where(PC.id == correction_id).values(**values))
            uow.audit("pending_correction", correction_id, "dismissed", {"status": [PENDING, DISMISSED]})
            c.update(values)
        return correction_view(c, invoice)


def apply_pending_correction(db, caller, correction_id: Any, data: Any = None) -> dict[str, Any]:
    """Finance approves the correction: its credit note is issued now, even on the locked invoice."""
    return _decide(db, caller, correction_id, data, True)


def dismiss_pending_correction(db, caller, correction_id: Any, data: Any = None) -> dict[str, Any]:
    """Finance decides the invoice stays as it is: the correction is dismissed (with a comment)."""
    return _decide(db, caller, correction_id, data, False)
