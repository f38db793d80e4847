"""Invoices: building and numbering them (billing runs and one-off invoices), reading them in the
caller's scope, issuing, voiding, locking, the overdue scan, and the events announcing them.

Numbers are gapless per series and year (``INV-2027-000001``): taken from ``counters`` in the
issuing transaction, in issue-date order, so a rolled-back transaction gives its numbers back and
two concurrent ones never share one. Drafts have no number."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from crm_common.db import FAST_INSERT_MIN, fast_insert, utcnow
from crm_common.errors import Conflict, ValidationFailed, load_or_raise, not_found
from crm_common.money import quantize
from crm_common.paging import load_filters, page_args, page_of, parse_id, run_page, sorted_query
from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from . import customers, domain, scopes
from . import events as ev
from . import models as m
from .schemas import InvoiceFilters, InvoiceIn, InvoiceUpdateIn, ReasonIn
from .support import ZERO, chunks, iso, money, next_values, number, today

I = m.invoices.c  # noqa: E741
IL = m.invoice_lines.c
INVOICE_SERIES = "INV"
CREDIT_SERIES = "CN"
OPEN_STATUSES = ("issued", "partially_paid", "overdue")

invoice_in = InvoiceIn()
invoice_update_in = InvoiceUpdateIn()
reason_in = ReasonIn()
invoice_filters = InvoiceFilters()


# --------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------


def line_values(
    position: int,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    discount_percent: Decimal,
    exact: Decimal,
    tax_percent: Decimal,
    currency: str,
    **extra: Any,
) -> dict[str, Any]:
    """An invoice line: the exact amount rounded half-up to the minor unit (a document is being
    issued), its tax rounded the same way."""
    net = quantize(exact, currency)
    return {
        "position": position,
        "description": description,
        "quantity": quantity,
        "unit_price": unit_price,
        "discount_percent": discount_percent,
        "exact_amount": exact,
        "amount": net,
        "tax_percent": tax_percent,
        "tax_amount": domain.line_tax(net, tax_percent, currency),
        **extra,
    }


def with_totals(invoice: dict[str, Any]) -> dict[str, Any]:
    totals = domain.invoice_totals(
        ((li["amount"], li["tax_amount"]) for li in invoice["lines"]), invoice["currency"]
    )
    invoice.update(subtotal=totals.subtotal, tax=totals.tax, total=totals.total)
    return invoice


def number_documents(
    s: Session, series: str, docs: Sequence[dict[str, Any]], date_key: str = "issue_date"
) -> None:
    """Give ``docs`` their numbers, per year of their date, in date order (gapless)."""
    by_year: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for doc in docs:
        by_year[doc[date_key].year].append(doc)
    for year in sorted(by_year):
        group = sorted(by_year[year], key=lambda d: (d[date_key], d.get("contract_id") or 0))
        for doc, n in zip(group, next_values(s, domain.counter_name(series, year), len(group)), strict=True):
            doc["number"] = domain.document_number(series, year, n)


def insert_invoices(s: Session, invoices: Sequence[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
    """Insert invoices (each with ``lines``) in multi-row statements; issued ones are numbered.
    Returns the invoice rows with their ids (and ``lines`` with theirs)."""
    if not invoices:
        return []
    now = utcnow()
    issued = [inv for inv in invoices if inv["status"] != "draft"]
    number_documents(s, INVOICE_SERIES, issued)
    rows = []
    for inv in invoices:
        row = {k: v for k, v in inv.items() if k != "lines"}
        row.setdefault("number", None)
        row.setdefault("series", INVOICE_SERIES)
        row.setdefault("paid", ZERO)
        row.setdefault("credited", ZERO)
        row.setdefault("locked", False)
        row.setdefault("created_by", actor)
        row.setdefault("created_at", now)
        row.setdefault("updated_at", now)
        for key in ("contract_id", "contract_number", "period_start", "period_end", "dedupe_key", "notes",
                    "run_id", "payment_terms_days", "overdue_at", "paid_at", "locked_by", "locked_at",
                    "void_reason", "voided_at"):  # fmt: skip
            row.setdefault(key, None)
        rows.append(row)
    ids = _insert_rows(s, rows)
    line_rows = []
    for inv, row, invoice_id in zip(invoices, rows, ids, strict=True):
        row["id"] = invoice_id
        for li in inv["lines"]:
            full = {"invoice_id": invoice_id, **li}
            for key in ("contract_line_id", "product_id", "sku", "category", "period_start", "period_end",
                        "covered_days", "period_days"):  # fmt: skip
                full.setdefault(key, None)
            line_rows.append(full)
    if len(line_rows) >= FAST_INSERT_MIN:
        fast_insert(s, m.invoice_lines, line_rows)
    elif line_rows:
        s.execute(insert(m.invoice_lines), line_rows)
    return rows


def _insert_rows(s: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert invoice rows; their ids in order. Many numbered invoices go in one executemany and
    their ids are read back by number (a RETURNING in parameter order would make SQLite insert
    row by row)."""
    if len(rows) == 1 or any(r["number"] is None for r in rows):
        return [s.execute(insert(m.invoices).returning(I.id), [r]).scalar_one() for r in rows]
    fast_insert(s, m.invoices, rows)
    by_number: dict[str, int] = {}
    numbers = [r["number"] for r in rows]
    for chunk in chunks(numbers, 500):
        by_number.update(s.execute(select(I.number, I.id).where(I.number.in_(chunk))).tuples().all())
    return [by_number[n] for n in numbers]


# --------------------------------------------------------------------------------------
# Views and events
# --------------------------------------------------------------------------------------


def balance_of(row: Mapping[str, Any]) -> Decimal:
    return domain.balance(row["total"], row["paid"], row["credited"])


def line_view(li: Mapping[str, Any], currency: str) -> dict[str, Any]:
    return {
        "id": li["id"],
        "position": li["position"],
        "description": li["description"],
        "sku": li["sku"],
        "product_id": li["product_id"],
        "contract_line_id": li["contract_line_id"],
        "period_start": iso(li["period_start"]),
        "period_end": iso(li["period_end"]),
        "quantity": number(li["quantity"]),
        "unit_price": money(li["unit_price"], currency),
        "discount_percent": number(li["discount_percent"]),
        "covered_days": li["covered_days"],
        "period_days": li["period_days"],
        "amount": money(li["amount"], currency),
        "tax_percent": number(li["tax_percent"]),
        "tax_amount": money(li["tax_amount"], currency),
    }


def summary_view(row: Mapping[str, Any]) -> dict[str, Any]:
    cur = row["currency"]
    return {
        "id": row["id"],
        "number": row["number"],
        "kind": row["kind"],
        "status": row["status"],
        "currency": cur,
        "language": row["language"],
        "customer_id": row["customer_id"],
        "customer": row["customer"],
        "customer_name": (row["customer"] or {}).get("name"),
        "contract_id": row["contract_id"],
        "contract_number": row["contract_number"],
        "period_start": iso(row["period_start"]),
        "period_end": iso(row["period_end"]),
        "issue_date": iso(row["issue_date"]),
        "due_date": iso(row["due_date"]),
        "subtotal": money(row["subtotal"], cur),
        "tax": money(row["tax"], cur),
        "total": money(row["total"], cur),
        "paid": money(row["paid"], cur),
        "credited": money(row["credited"], cur),
        "balance": money(balance_of(row), cur),
        "overdue_since": iso(row["overdue_at"]),
        "locked": row["locked"],
        "locked_by": row["locked_by"],
        "locked_at": iso(row["locked_at"]),
        "void_reason": row["void_reason"],
        "notes": row["notes"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


def invoice_view(s: Session, row: Mapping[str, Any]) -> dict[str, Any]:
    cur = row["currency"]
    view = summary_view(row)
    lines = s.execute(
        select(m.invoice_lines).where(IL.invoice_id == row["id"]).order_by(IL.position, IL.id)
    ).mappings()
    view["lines"] = [line_view(li, cur) for li in lines]
    CN = m.credit_notes.c
    view["credit_notes"] = [
        {
            "id": c.id,
            "number": c.number,
            "amount": money(c.amount, cur),
            "issue_date": iso(c.issue_date),
            "reason": c.reason,
        }
        for c in s.execute(select(m.credit_notes).where(CN.invoice_id == row["id"]).order_by(CN.id))
    ]
    A, P = m.allocations.c, m.payments.c
    view["allocations"] = [
        {"payment_id": a.payment_id, "amount": money(a.amount, cur), "received_at": iso(a.received_at),
         "method": a.method, "reference": a.reference}
        for a in s.execute(
            select(A.payment_id, A.amount, P.received_at, P.method, P.reference)
            .join(m.payments, P.id == A.payment_id)
            .where(A.invoice_id == row["id"])
            .order_by(A.id)
        )
    ]  # fmt: skip
    return view


def invoice_payload(row: Mapping[str, Any], owner_id: int | None, **extra: Any) -> dict[str, Any]:
    """The payload of ``invoice_issued`` / ``invoice_overdue`` / ``invoice_paid``, declared by
    :class:`billing.events.InvoicePayload` (``extra``: ``as_of``, ``days_overdue``)."""
    cur = row["currency"]
    customer = row["customer"] or {}
    return {
        "id": row["id"],
        "invoice_id": row["id"],
        "number": row["number"],
        "invoice_number": row["number"],
        "kind": row["kind"],
        "status": row["status"],
        "customer_id": row["customer_id"],
        "customer_name": customer.get("name"),
        "customer_code": customer.get("code"),
        "language": row["language"],
        "owner_id": owner_id,
        "contract_id": row["contract_id"],
        "contract_number": row["contract_number"],
        "currency": cur,
        "subtotal": money(row["subtotal"], cur),
        "tax": money(row["tax"], cur),
        "total": money(row["total"], cur),
        "amount": money(row["total"], cur),
        "amount_due": money(balance_of(row), cur),
        "paid": money(row["paid"], cur),
        "credited": money(row["credited"], cur),
        "issue_date": iso(row["issue_date"]),
        "due_date": iso(row["due_date"]),
        "period_start": iso(row["period_start"]),
        "period_end": iso(row["period_end"]),
        "pdf_url": f"/api/v1/invoices/{row['id']}/pdf",
        **extra,
    }


def owners_of(s: Session, customer_ids: Iterable[int]) -> dict[int, int | None]:
    return {cid: r.get("owner_id") for cid, r in customers.rows_of(s, customer_ids).items()}


# --------------------------------------------------------------------------------------
# Loading in scope
# --------------------------------------------------------------------------------------


def visible_invoice(
    s: Session, invoice_id: int, access: scopes.Access, for_update: bool = False
) -> dict[str, Any]:
    """The invoice, or 404 — also when it lies outside the caller's scope."""
    return scopes.visible_row(s, m.invoices, invoice_id, access, "invoice", for_update)


def writable_invoice(s: Session, invoice_id: int) -> dict[str, Any]:
    """The invoice for a change (row-locked); 409 while locked."""
    row = visible_invoice(s, invoice_id, scopes.Access(write=True), for_update=True)
    check_unlocked(row, "invoice")
    return row


def check_unlocked(row: Mapping[str, Any], what: str) -> None:
    if row["locked"]:
        ident = row.get("number") or row["id"]
        raise Conflict(
            f"{what} {ident} is locked by finance: unlock it first",
            {
                "entity": what,
                "id": row["id"],
                "locked_by": row["locked_by"],
                "locked_at": iso(row["locked_at"]),
            },
        )


# the fields invoice lists may be sorted by (``sort=["due_date", "-total"]``)
INVOICE_SORT = {
    "number": I.number, "status": I.status, "kind": I.kind, "issue_date": I.issue_date,
    "due_date": I.due_date, "total": I.total, "paid": I.paid, "currency": I.currency,
    "created_at": I.created_at, "id": I.id,
}  # fmt: skip


def list_invoices(db, caller, filters: Any, page: Any, page_size: Any, sort: Any = None) -> dict[str, Any]:
    access = scopes.read_access(caller)
    f = load_filters(invoice_filters, filters)
    page, page_size = page_args(page, page_size)
    query = scopes.scoped(select(m.invoices), access, I.customer_id, I.status)
    for key in ("customer_id", "contract_id", "status", "kind", "currency"):
        if key in f:
            query = query.where(getattr(I, key) == f[key])
    if "overdue" in f:
        query = query.where(I.overdue_at.is_not(None) if f["overdue"] else I.overdue_at.is_(None))
    if "issued_from" in f:
        query = query.where(I.issue_date >= f["issued_from"])
    if "issued_to" in f:
        query = query.where(I.issue_date <= f["issued_to"])
    if "q" in f:
        query = query.where(I.number.ilike(f"%{f['q'].strip()}%"))
    query = sorted_query(query, sort, INVOICE_SORT, I.issue_date.desc().nulls_first(), I.id.desc())
    with db.read() as s:
        rows, total = run_page(s, query, page, page_size)
        return page_of([summary_view(r) for r in rows], total, page, page_size)


def get_invoice(db, caller, invoice_id: Any) -> dict[str, Any]:
    access = scopes.read_access(caller)
    invoice_id = parse_id(invoice_id, "invoice_id")
    with db.read() as s:
        return invoice_view(s, visible_invoice(s, invoice_id, access))


# --------------------------------------------------------------------------------------
# One-off invoices
# --------------------------------------------------------------------------------------


def _one_off_lines(lines: Sequence[Mapping[str, Any]], currency: str, s: Session) -> list[dict[str, Any]]:
    from . import taxes

    rates = taxes.load_rates(s)
    out = []
    for i, li in enumerate(lines, start=1):
        discount = li.get("discount_percent") or ZERO
        exact = li["quantity"] * li["unit_price"] * (Decimal(100) - discount) / Decimal(100)
        tax = li.get("tax_percent")
        if tax is None:
            tax = taxes.rate_for(rates, None, None)
        out.append(
            line_values(
                i,
                li["description"],
                li["quantity"],
                li["unit_price"],
                discount,
                exact,
                tax,
                currency,
                product_id=li.get("product_id"),
                sku=li.get("sku"),
            )  # fmt: skip
        )
    return out


def _dates(v: Mapping[str, Any], terms: int) -> tuple[dt.date, dt.date]:
    issue = v.get("issue_date") or today()
    due = v.get("due_date") or issue + dt.timedelta(days=terms)
    if due < issue:
        raise ValidationFailed.field("due_date", "must not be before issue_date")
    return issue, due


def create_invoice(db, caller, data: Any, customer_fetch=None) -> dict[str, Any]:
    """A one-off invoice (finance / admin): issued at once, or a draft with ``draft: true``.
    ``customer_fetch(customer_id)`` answers the customer from the customers service (422 when
    unknown); the copy is refreshed with it."""
    scopes.write_access(caller, "create invoices")
    v = load_or_raise(invoice_in, data)
    fetched = customer_fetch(v["customer_id"]) if customer_fetch is not None else None
    terms = v["payment_terms_days"] if v["payment_terms_days"] is not None else 30
    issue, due = _dates(v, terms)
    with db.transaction() as uow:
        s = uow.session
        if fetched:
            customers.store_fetched(s, [fetched])
        row = customers.rows_of(s, [v["customer_id"]]).get(v["customer_id"])
        if row is None or row.get("deleted"):
            raise ValidationFailed.field("customer_id", "no such customer")
        contract_number = None
        if v["contract_id"] is not None:
            sched = s.execute(
                select(m.schedules.c.customer_id, m.schedules.c.contract_number).where(
                    m.schedules.c.contract_id == v["contract_id"]
                )
            ).first()
            if sched is None or sched.customer_id != v["customer_id"]:
                raise ValidationFailed.field(
                    "contract_id", "not a contract of this customer that billing knows"
                )
            contract_number = sched.contract_number
        snap = customers.snapshot(row)
        invoice = with_totals(
            {
                "kind": "one_off",
                "status": "draft" if v["draft"] else "issued",
                "customer_id": v["customer_id"],
                "customer": snap,
                "language": v["language"] or snap.get("language") or "en",
                "contract_id": v["contract_id"],
                "contract_number": contract_number,
                "currency": v["currency"],
                "issue_date": issue,
                "due_date": due,
                "payment_terms_days": terms,
                "notes": v["notes"],
                "lines": _one_off_lines(v["lines"], v["currency"], s),
            }
        )
        (created,) = insert_invoices(s, [invoice], uow.caller.actor)
        uow.audit(
            "invoice",
            created["id"],
            "created",
            {"status": [None, created["status"]], "number": [None, created["number"]]},
        )
        if created["status"] == "issued":
            uow.publish(ev.INVOICE_ISSUED, invoice_payload(created, row.get("owner_id")))
        return invoice_view(s, created)


def update_invoice(db, caller, invoice_id: Any, data: Any) -> dict[str, Any]:
    """Change a draft (lines, dates, notes, language); 409 once issued."""
    scopes.write_access(caller, "change invoices")
    invoice_id = parse_id(invoice_id, "invoice_id")
    v = load_or_raise(invoice_update_in, data)
    with db.transaction() as uow:
        s = uow.session
        row = writable_invoice(s, invoice_id)
        if row["status"] != "draft":
            raise Conflict(f"invoice {row['number']} is {row['status']}: only drafts change (credit it instead)",
                           {"status": row["status"]})  # fmt: skip
        values: dict[str, Any] = {k: v[k] for k in ("notes", "language") if k in v}
        issue = v.get("issue_date", row["issue_date"]) or today()
        due = v.get("due_date", row["due_date"]) or issue + dt.timedelta(days=row["payment_terms_days"] or 30)
        if due < issue:
            raise ValidationFailed.field("due_date", "must not be before issue_date")
        values.update(issue_date=issue, due_date=due, updated_at=utcnow())
        if "lines" in v:
            lines = _one_off_lines(v["lines"], row["currency"], s)
            totals = with_totals({"currency": row["currency"], "lines": lines})
            values.update(subtotal=totals["subtotal"], tax=totals["tax"], total=totals["total"])
            s.execute(m.invoice_lines.delete().where(IL.invoice_id == invoice_id))
            s.execute(insert(m.invoice_lines), [{"invoice_id": invoice_id, "contract_line_id": None, "category": None,
                                                  "period_start": None, "period_end": None, "covered_days": None,
                                                  "period_days": None, **li} for li in lines])  # fmt: skip
        s.execute(update(m.invoices).where(I.id == invoice_id).values(**values))
        uow.audit(
            "invoice",
            invoice_id,
            "updated",
            {k: [None, iso(val)] for k, val in values.items() if k != "updated_at"},
        )
        return invoice_view(s, {**row, **values})


def issue_invoice(db, caller, invoice_id: Any) -> dict[str, Any]:
    """A draft becomes issued: it takes the next number of its year now."""
    scopes.write_access(caller, "issue invoices")
    invoice_id = parse_id(invoice_id, "invoice_id")
    with db.transaction() as uow:
        s = uow.session
        row = writable_invoice(s, invoice_id)
        if row["status"] != "draft":
            raise Conflict(f"invoice {row['number']} is already {row['status']}", {"status": row["status"]})
        issue = row["issue_date"] or today()
        doc = {"issue_date": issue, "contract_id": row["contract_id"]}
        number_documents(s, INVOICE_SERIES, [doc])
        values = {"status": "issued", "number": doc["number"], "issue_date": issue, "updated_at": utcnow()}
        s.execute(update(m.invoices).where(I.id == invoice_id).values(**values))
        row.update(values)
        uow.audit("invoice", invoice_id, "issued", {"number": [None, row["number"]]})
        uow.publish(ev.INVOICE_ISSUED, invoice_payload(row, customers.owner_of(s, row["customer_id"])))
        return invoice_view(s, row)


def void_invoice(db, caller, invoice_id: Any, data: Any) -> dict[str, Any]:
    """Void an invoice nobody paid (its number stays used, the document shows VOID); 409 when
    locked, paid in part or credited (credit it instead)."""
    scopes.write_access(caller, "void invoices")
    invoice_id = parse_id(invoice_id, "invoice_id")
    v = load_or_raise(reason_in, data or {})
    with db.transaction() as uow:
        s = uow.session
        row = writable_invoice(s, invoice_id)
        if row["status"] == "void":
            raise Conflict(f"invoice {row['number'] or row['id']} is already void", {"status": "void"})
        if row["paid"] > 0 or row["credited"] > 0:
            raise Conflict(
                f"invoice {row['number']} has payments or credit notes: issue a credit note instead",
                {
                    "paid": money(row["paid"], row["currency"]),
                    "credited": money(row["credited"], row["currency"]),
                },
            )
        values = {"status": "void", "void_reason": v["reason"], "voided_at": utcnow(), "updated_at": utcnow()}
        s.execute(update(m.invoices).where(I.id == invoice_id).values(**values))
        uow.audit(
            "invoice",
            invoice_id,
            "voided",
            {"status": [row["status"], "void"], "reason": [None, v["reason"]]},
        )
        row.update(values)
        if row["number"]:
            uow.publish(ev.INVOICE_VOIDED, {"id": row["id"], "invoice_id": row["id"], "number": row["number"],
                                             "contract_id": row["contract_id"], "customer_id": row["customer_id"],
                                             "reason": v["reason"]})  # fmt: skip
        return invoice_view(s, row)


# --------------------------------------------------------------------------------------
# Locks
# --------------------------------------------------------------------------------------


def set_lock(
    db, caller, table, entity: str, doc_id: Any, locked: bool, view, after_unlock=None
) -> dict[str, Any]:
    """Finance locks (or unlocks) a document; every lock and unlock is in the audit trail."""
    scopes.write_access(caller, f"{'lock' if locked else 'unlock'} {entity}s")
    doc_id = parse_id(doc_id, f"{entity}_id")
    with db.transaction() as uow:
        s = uow.session
        row = s.execute(select(table).where(table.c.id == doc_id).with_for_update()).mappings().first()
        if row is None:
            raise not_found(entity, doc_id)
        row = dict(row)
        if row["locked"] == locked:
            raise Conflict(f"{entity} {row.get('number') or doc_id} is already {'locked' if locked else 'unlocked'}",
                           {"locked": locked})  # fmt: skip
        values = {
            "locked": locked,
            "locked_by": uow.caller.actor if locked else None,
            "locked_at": utcnow() if locked else None,
            "updated_at": utcnow(),
        }
        s.execute(update(table).where(table.c.id == doc_id).values(**values))
        uow.audit(entity, doc_id, "locked" if locked else "unlocked", {"locked": [not locked, locked]})
        row.update(values)
        if not locked and after_unlock is not None:  # e.g. the corrections billing held back
            after_unlock(uow, doc_id)
            row = dict(s.execute(select(table).where(table.c.id == doc_id)).mappings().one())
        return view(s, row)


def lock_invoice(db, caller, invoice_id: Any, locked: bool) -> dict[str, Any]:
    from . import corrections

    return set_lock(
        db, caller, m.invoices, "invoice", invoice_id, locked, invoice_view, corrections.apply_for_invoice
    )


# --------------------------------------------------------------------------------------
# Balance changes (payments, credit notes) and the overdue scan
# --------------------------------------------------------------------------------------


def apply_change(
    uow, row: dict[str, Any], paid: Decimal = ZERO, credited: Decimal = ZERO, on: dt.date | None = None
) -> dict[str, Any]:
    """Add ``paid`` / ``credited`` to the (row-locked) invoice, move its status, publish
    ``invoice_paid`` when nothing is left to pay. Returns the row after the change."""
    new_paid, new_credited = row["paid"] + paid, row["credited"] + credited
    if domain.balance(row["total"], new_paid, new_credited) < 0:
        raise Conflict(f"invoice {row['number']}: more than its balance", {"invoice_id": row["id"]})
    status = domain.invoice_status(
        row["status"], row["total"], new_paid, new_credited, row["overdue_at"] is not None
    )
    values = {"paid": new_paid, "credited": new_credited, "status": status, "updated_at": utcnow()}
    if status == "paid" and row["status"] != "paid":
        values["paid_at"] = on or today()
    uow.session.execute(update(m.invoices).where(I.id == row["id"]).values(**values))
    before = row["status"]
    row.update(values)
    if status == "paid" and before != "paid":
        uow.publish(
            ev.INVOICE_PAID, invoice_payload(row, customers.owner_of(uow.session, row["customer_id"]))
        )
    return row


def mark_overdue(db, as_of: dt.date, batch: int = 500, contract_id: int | None = None) -> int:
    """Invoices past their due date on ``as_of`` with money still owed become overdue (on
    ``as_of``); ``invoice_overdue`` (with ``as_of``) is published once per invoice (the collection
    task opens, due on ``as_of``; ``invoice_paid`` closes it). ``contract_id``: only its invoices."""
    count = 0
    while True:
        with db.transaction() as uow:
            s = uow.session
            query = (
                select(m.invoices)
                .where(I.status.in_(("issued", "partially_paid")), I.due_date < as_of, I.overdue_at.is_(None))
                .order_by(I.id)
                .limit(batch)
            )
            if contract_id is not None:
                query = query.where(I.contract_id == contract_id)
            if s.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = [dict(r) for r in s.execute(query).mappings()]
            if not rows:
                return count
            owners = owners_of(s, {r["customer_id"] for r in rows})
            payloads = []
            for r in rows:
                s.execute(
                    update(m.invoices)
                    .where(I.id == r["id"])
                    .values(status="overdue", overdue_at=as_of, updated_at=utcnow())
                )
                r.update(status="overdue", overdue_at=as_of)
                payloads.append(
                    invoice_payload(
                        r,
                        owners.get(r["customer_id"]),
                        days_overdue=(as_of - r["due_date"]).days,
                        as_of=as_of.isoformat(),
                    )
                )
            uow.publish_many(ev.INVOICE_OVERDUE, payloads)
            count += len(rows)


def open_invoices(s: Session, customer_id: int, currency: str) -> list[dict[str, Any]]:
    query = (
        select(m.invoices)
        .where(I.customer_id == customer_id, I.currency == currency, I.status.in_(OPEN_STATUSES))
        .order_by(I.due_date, I.issue_date, I.id)
        .with_for_update()
    )
    return [dict(r) for r in s.execute(query).mappings()]


def customer_totals(s: Session, customer_id: int) -> dict[str, dict[str, Decimal]]:
    """Open and overdue balances per currency of one customer."""
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: {"open": ZERO, "overdue": ZERO})
    query = select(I.currency, I.total, I.paid, I.credited, I.overdue_at).where(
        and_(I.customer_id == customer_id, I.status.in_(OPEN_STATUSES))
    )
    for r in s.execute(query):
        bal = domain.balance(r.total, r.paid, r.credited)
        out[r.currency]["open"] += bal
        if r.overdue_at is not None:
            out[r.currency]["overdue"] += bal
    return out
