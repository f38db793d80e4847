"""Contract progress: delivery milestones (planned date, weight, percent complete) measured against
the plan, and the invoicing / payment progress of a contract as billing reports it by events.

* Milestones are this service's own data: managers and the contract's owner add, change and
  remove them (not on cancelled contracts); everyone who may read the contract reads them.
  ``actual`` and ``planned`` percent come from :func:`contracts.domain.delivery_progress`.
* Billing progress is a read copy: one ``contract_invoices`` row per invoice of a contract, kept
  from billing's events by :func:`apply_billing_event`. Events of one invoice travel on different
  queues and may arrive in any order, or twice: each row remembers the ``occurred_at`` of the
  newest event applied (``event_at``) and an older event changes nothing — except that the
  invoice's immutable facts (number, issue and due date) fill in columns still empty, so an
  ``invoice_issued`` that arrives after the invoice's first payment still gives the row its
  number and dates. Billing puts the invoice's state after the change into every event
  (``invoice_paid``/``invoice_status`` in payment allocations, ``invoice_total`` in credit
  notes), so the newest event is always the whole truth; where it does not, the increment is
  applied to the row, once, and only by an event newer than the row.

Weights have at most four decimal places, so the "behind plan" filter of :func:`list_progress`
compares exact integers in SQL (weight × 10 000) on SQLite and PostgreSQL alike and agrees with
the exact ``Decimal`` flag computed per contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import changes_between, utcnow
from crm_common.errors import Conflict, ValidationFailed, load_or_raise, not_found
from crm_common.money import Currency, Money, fmt_amount
from crm_common.paging import load_filters, page_args, page_of, parse_date, parse_id, run_page, sorted_query
from crm_common.readcopy import event_time
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate
from sqlalchemy import Float, case, cast, delete, func, insert, select, update
from sqlalchemy.orm import Session

from . import domain, usecases
from . import models as m
from .schemas import id_field, text

M = m.milestones.c
C = m.contracts.c
INV = m.contract_invoices.c

MAX_WEIGHT = Decimal("10000")
WEIGHT_PLACES = 4
WEIGHT_SCALE = 10**WEIGHT_PLACES
NAME_MAX = 300
NOTES_MAX = 5000

# billing's invoice statuses (API.md "Billing"); draft and void invoices count for nothing
INVOICE_STATUSES = ("draft", "issued", "partially_paid", "paid", "overdue", "void")
NOT_COUNTED = ("draft", "void")

INVOICE_ISSUED = "invoice_issued"
INVOICE_PAID = "invoice_paid"
PAYMENT_RECEIVED = "payment_received"
INVOICE_OVERDUE = "invoice_overdue"
INVOICE_VOIDED = "invoice_voided"
CREDIT_NOTE_ISSUED = "credit_note_issued"
BILLING_EVENTS = (
    INVOICE_ISSUED,
    INVOICE_PAID,
    PAYMENT_RECEIVED,
    INVOICE_OVERDUE,
    INVOICE_VOIDED,
    CREDIT_NOTE_ISSUED,
)


# -- schemas ----------------------------------------------------------------------------------


class Weight(Money):
    """A milestone's weight: a decimal string or integer, > 0, at most 10 000, four places."""

    default_error_messages = {"invalid": "Not a valid number.", "negative": "Must be greater than 0."}

    def _deserialize(self, value, attr, data, **kwargs):
        d = super()._deserialize(value, attr, data, **kwargs)
        if d <= 0:
            raise ValidationError("Must be greater than 0.")
        if d > MAX_WEIGHT:
            raise ValidationError(f"Must be at most {MAX_WEIGHT}.")
        if d != d.quantize(Decimal(1).scaleb(-WEIGHT_PLACES)):
            raise ValidationError(f"Must have at most {WEIGHT_PLACES} decimal places.")
        return d


class WholePercent(fields.Integer):
    """An integer 0..100 (not a boolean, not a float, not a string)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(0, 100), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class MilestoneCreateSchema(Schema):
    name = text(NAME_MAX, required=True)
    planned_date = fields.Date(required=True)
    weight = Weight(load_default=Decimal(1))
    percent_complete = WholePercent(load_default=0)
    completed_on = fields.Date(load_default=None, allow_none=True)
    notes = text(NOTES_MAX, load_default=None, allow_none=True)


class MilestoneUpdateSchema(Schema):
    name = text(NAME_MAX)
    planned_date = fields.Date()
    weight = Weight()
    percent_complete = WholePercent()
    completed_on = fields.Date(allow_none=True)
    notes = text(NOTES_MAX, allow_none=True)


class ProgressFiltersSchema(Schema):
    behind = fields.Boolean(load_default=None, allow_none=True)
    owner_id = id_field(load_default=None, allow_none=True)
    customer_id = id_field(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(domain.STATUSES))
    as_of = fields.Date(load_default=None, allow_none=True)


milestone_create_in = MilestoneCreateSchema()
milestone_update_in = MilestoneUpdateSchema()
progress_filters_in = ProgressFiltersSchema()


# billing's payloads: only the fields read here are checked; others are ignored


class InvoiceRef(fields.Field):
    """Billing's invoice id: a positive integer or a non-empty string (a UUID); kept as text."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not an invoice id.")
        if isinstance(value, int) and value >= 1:
            return str(value)
        if isinstance(value, str) and value.strip() and len(value.strip()) <= 64:
            return value.strip()
        raise ValidationError("Not an invoice id.")


class ContractRef(fields.Field):
    """A contract id as billing echoes it: a positive integer (or a string of digits)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_id(value, attr or "contract_id")
        except ValidationFailed:
            raise ValidationError("Not a contract id.") from None


def _status(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(INVOICE_STATUSES), **kwargs)


class _Payload(Schema):
    class Meta:
        unknown = EXCLUDE


class InvoiceIssuedSchema(_Payload):
    id = InvoiceRef(required=True)
    number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    contract_id = ContractRef(load_default=None, allow_none=True)
    currency = Currency(required=True)
    total = Money(required=True)
    paid = Money(load_default=Decimal(0))
    issue_date = fields.Date(load_default=None, allow_none=True)
    due_date = fields.Date(load_default=None, allow_none=True)
    period_end = fields.Date(load_default=None, allow_none=True)
    status = _status(load_default="issued")


class InvoicePaidSchema(_Payload):
    id = InvoiceRef(required=True)
    contract_id = ContractRef(load_default=None, allow_none=True)
    currency = Currency(load_default=None, allow_none=True)
    total = Money(load_default=None, allow_none=True)
    paid = Money(required=True)
    status = _status(load_default="paid")


class AllocationSchema(_Payload):
    invoice_id = InvoiceRef(required=True)
    amount = Money(required=True)
    contract_id = ContractRef(load_default=None, allow_none=True)
    invoice_total = Money(load_default=None, allow_none=True)
    invoice_paid = Money(load_default=None, allow_none=True)
    invoice_status = _status(load_default=None, allow_none=True)


class PaymentReceivedSchema(_Payload):
    id = fields.Raw(load_default=None)
    currency = Currency(required=True)
    amount = Money(load_default=None, allow_none=True)
    allocations = fields.List(fields.Nested(AllocationSchema), load_default=list)


class InvoiceOverdueSchema(_Payload):
    id = InvoiceRef(required=True)
    contract_id = ContractRef(load_default=None, allow_none=True)
    number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    currency = Currency(load_default=None, allow_none=True)
    total = Money(load_default=None, allow_none=True)
    paid = Money(load_default=None, allow_none=True)
    issue_date = fields.Date(load_default=None, allow_none=True)
    due_date = fields.Date(load_default=None, allow_none=True)
    status = _status(load_default="overdue")


class InvoiceVoidedSchema(_Payload):
    id = InvoiceRef(required=True)
    contract_id = ContractRef(load_default=None, allow_none=True)


class CreditNoteIssuedSchema(_Payload):
    id = fields.Raw(load_default=None)
    invoice_id = InvoiceRef(required=True)
    contract_id = ContractRef(load_default=None, allow_none=True)
    currency = Currency(load_default=None, allow_none=True)
    amount = Money(required=True)
    invoice_total = Money(load_default=None, allow_none=True)
    invoice_paid = Money(load_default=None, allow_none=True)
    invoice_status = _status(load_default=None, allow_none=True)


PAYLOAD_SCHEMAS: dict[str, Schema] = {
    INVOICE_ISSUED: InvoiceIssuedSchema(),
    INVOICE_PAID: InvoicePaidSchema(),
    PAYMENT_RECEIVED: PaymentReceivedSchema(),
    INVOICE_OVERDUE: InvoiceOverdueSchema(),
    INVOICE_VOIDED: InvoiceVoidedSchema(),
    CREDIT_NOTE_ISSUED: CreditNoteIssuedSchema(),
}


# -- views ------------------------------------------------------------------------------------


def _today() -> dt.date:
    return utcnow().date()


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _number(value: Decimal) -> str:
    """A weight as JSON carries it: ``"1"``, ``"2.5"`` (no exponent, no trailing zeros)."""
    d = Decimal(value)
    d = d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()
    return format(d, "f")


def _percent(part: Decimal, whole: Decimal) -> str | None:
    if whole <= 0:
        return None
    return str((part * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def for_reader(view: dict[str, Any], access: domain.Access) -> dict[str, Any]:
    """Internal notes are for the company: a portal user (the customer) reads a milestone
    without them."""
    if access.customer_id is not None:
        view = {**view, "notes": None}
    return view


def milestone_view(row: Mapping[str, Any], as_of: dt.date | None = None) -> dict[str, Any]:
    as_of = as_of or _today()
    return {
        "id": row["id"],
        "contract_id": row["contract_id"],
        "name": row["name"],
        "planned_date": _iso(row["planned_date"]),
        "weight": _number(row["weight"]),
        "percent_complete": row["percent_complete"],
        "completed_on": _iso(row["completed_on"]),
        "notes": row["notes"],
        "overdue": row["planned_date"] < as_of and row["percent_complete"] < 100,
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def _milestones_of(s: Session, contract_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """The milestones of these contracts (one query), by contract, in plan order."""
    ids = list(contract_ids)
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    rows = s.execute(
        select(m.milestones).where(M.contract_id.in_(ids)).order_by(M.contract_id, M.planned_date, M.id)
    ).mappings()
    for row in rows:
        out[row["contract_id"]].append(dict(row))
    return out


def _milestone_row(s: Session, contract_id: int, milestone_id: int) -> dict[str, Any]:
    row = (
        s.execute(select(m.milestones).where(M.id == milestone_id, M.contract_id == contract_id))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("milestone", milestone_id)
    return dict(row)


# -- milestones -------------------------------------------------------------------------------


def _writable(s: Session, caller: CallerContext | None, contract_id: Any) -> dict[str, Any]:
    access = domain.write_access(caller)
    row = usecases.writable_contract(s, parse_id(contract_id, "contract_id"), access, for_update=True)
    if row["status"] == domain.CANCELLED:
        raise Conflict(
            f"Contract {row['number']} is cancelled: its milestones cannot change",
            {"status": row["status"]},
        )
    return row


def _check_planned(contract: Mapping[str, Any], planned: dt.date) -> None:
    start, end = contract["start_date"], contract["end_date"]
    if not start <= planned <= end:
        raise ValidationFailed.field("planned_date", f"must lie inside the contract term {start} – {end}")


def _completion(
    old: Mapping[str, Any] | None, data: Mapping[str, Any], percent: int, today: dt.date
) -> dt.date | None:
    """The completion date after a change: 100 % sets it (today unless given, or kept when the
    milestone was complete already); below 100 % there is none."""
    given = "completed_on" in data
    completed_on = data.get("completed_on")
    if percent < 100:
        if completed_on is not None:
            raise ValidationFailed.field(
                "completed_on", "only a milestone 100% complete has a completion date"
            )
        return None
    if completed_on is not None:
        return completed_on
    if given and "percent_complete" not in data:
        raise ValidationFailed.field("completed_on", "a milestone 100% complete keeps its completion date")
    if old is not None and old["percent_complete"] == 100 and old["completed_on"] is not None:
        return old["completed_on"]
    return today


def _audit_values(row: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("contract_id", "name", "planned_date", "weight", "percent_complete", "completed_on", "notes")
    return {k: row.get(k) for k in keys}


def add_milestone(db: Any, caller: CallerContext | None, contract_id: Any, data: Any) -> dict[str, Any]:
    """Add a milestone to a contract; 201 body: the milestone."""
    values = load_or_raise(milestone_create_in, data)
    with db.transaction() as uow:
        s = uow.session
        contract = _writable(s, caller, contract_id)
        _check_planned(contract, values["planned_date"])
        now = utcnow()
        row = {
            "contract_id": contract["id"],
            "name": values["name"],
            "planned_date": values["planned_date"],
            "weight": values["weight"],
            "percent_complete": values["percent_complete"],
            "completed_on": _completion(None, values, values["percent_complete"], _today()),
            "notes": values["notes"],
            "created_at": now,
            "updated_at": now,
        }
        row["id"] = s.execute(insert(m.milestones).values(**row).returning(M.id)).scalar_one()
        uow.audit("milestone", row["id"], "created", changes_between({}, _audit_values(row)))
        return milestone_view(row)


def update_milestone(
    db: Any, caller: CallerContext | None, contract_id: Any, milestone_id: Any, data: Any
) -> dict[str, Any]:
    """Change a milestone (only the fields given). ``percent_complete`` 100 sets
    ``completed_on`` to today unless given; below 100 clears it."""
    values = load_or_raise(milestone_update_in, data)
    mid = parse_id(milestone_id, "milestone_id")
    with db.transaction() as uow:
        s = uow.session
        contract = _writable(s, caller, contract_id)
        old = _milestone_row(s, contract["id"], mid)
        if "planned_date" in values:
            _check_planned(contract, values["planned_date"])
        new = {**old, **values}
        if "percent_complete" in values or "completed_on" in values:
            new["completed_on"] = _completion(old, values, new["percent_complete"], _today())
        changes = changes_between(_audit_values(old), _audit_values(new))
        if not changes:
            return milestone_view(old)
        new["updated_at"] = utcnow()
        editable = (
            "name",
            "planned_date",
            "weight",
            "percent_complete",
            "completed_on",
            "notes",
            "updated_at",
        )
        s.execute(update(m.milestones).where(M.id == mid).values(**{k: new[k] for k in editable}))
        uow.audit("milestone", mid, "updated", changes)
        return milestone_view(new)


def delete_milestone(
    db: Any, caller: CallerContext | None, contract_id: Any, milestone_id: Any
) -> dict[str, Any]:
    """Remove a milestone; returns ``{"id", "contract_id", "deleted": true}``."""
    mid = parse_id(milestone_id, "milestone_id")
    with db.transaction() as uow:
        s = uow.session
        contract = _writable(s, caller, contract_id)
        old = _milestone_row(s, contract["id"], mid)
        s.execute(delete(m.milestones).where(M.id == mid))
        uow.audit("milestone", mid, "deleted", changes_between(_audit_values(old), {}))
        return {"id": mid, "contract_id": contract["id"], "deleted": True}


def list_milestones(db: Any, caller: CallerContext | None, contract_id: Any) -> dict[str, Any]:
    """A contract's milestones in plan order: ``{"contract_id", "items", "total"}``."""
    access = domain.read_access(caller)
    cid = parse_id(contract_id, "contract_id")
    with db.read() as s:
        contract = usecases.visible_contract(s, cid, access)
        rows = _milestones_of(s, [contract["id"]])[contract["id"]]
    today = _today()
    return {
        "contract_id": contract["id"],
        "items": [for_reader(milestone_view(r, today), access) for r in rows],
        "total": len(rows),
    }


# -- progress ---------------------------------------------------------------------------------


def _term_end(contract: Mapping[str, Any]) -> dt.date:
    end = contract["end_date"]
    ended = contract.get("termination_date")
    return ended if ended is not None and ended < end else end


def contract_term_value(contract: Mapping[str, Any]) -> Decimal:
    """What the contract is worth over its term (to its termination date when terminated early)."""
    start = contract["start_date"]
    end = _term_end(contract)
    if end < start:
        return Decimal(0)
    return domain.term_value(Decimal(contract["total"]), contract["billing_frequency"], start, end)


def invoice_view(row: Mapping[str, Any], as_of: dt.date) -> dict[str, Any]:
    currency = row["currency"]
    outstanding = max(Decimal(row["total"]) - Decimal(row["paid"]), Decimal(0))
    counted = row["status"] not in NOT_COUNTED
    overdue = (
        counted
        and outstanding > 0
        and (row["status"] == "overdue" or (row["due_date"] is not None and row["due_date"] < as_of))
    )
    return {
        "id": int(row["invoice_id"]) if row["invoice_id"].isdigit() else row["invoice_id"],
        "number": row["number"],
        "currency": currency,
        "total": fmt_amount(row["total"], currency),
        "paid": fmt_amount(row["paid"], currency),
        "outstanding": fmt_amount(outstanding if counted else Decimal(0), currency),
        "status": row["status"],
        "issue_date": _iso(row["issue_date"]),
        "due_date": _iso(row["due_date"]),
        "overdue": overdue,
    }


def billing_progress(
    contract: Mapping[str, Any], invoices: Iterable[Mapping[str, Any]], as_of: dt.date
) -> list[dict[str, Any]]:
    """Per currency (the contract's first, always present): invoiced, paid, outstanding, counts,
    and — in the contract's currency — percent invoiced and paid of the term value. Draft and
    void invoices count for nothing."""
    currency = contract["currency"]
    sums: dict[str, dict[str, Any]] = {
        currency: {"invoiced": Decimal(0), "paid": Decimal(0), "outstanding": Decimal(0), "n": 0, "late": 0}
    }
    for row in invoices:
        if row["status"] in NOT_COUNTED:
            continue
        view = invoice_view(row, as_of)
        acc = sums.setdefault(
            row["currency"],
            {"invoiced": Decimal(0), "paid": Decimal(0), "outstanding": Decimal(0), "n": 0, "late": 0},
        )
        acc["invoiced"] += Decimal(row["total"])
        acc["paid"] += Decimal(row["paid"])
        acc["outstanding"] += max(Decimal(row["total"]) - Decimal(row["paid"]), Decimal(0))
        acc["n"] += 1
        acc["late"] += 1 if view["overdue"] else 0
    value = contract_term_value(contract)
    out = []
    for cur in [currency] + sorted(c for c in sums if c != currency):
        acc = sums[cur]
        own = cur == currency
        out.append(
            {
                "currency": cur,
                "invoiced": fmt_amount(acc["invoiced"], cur),
                "paid": fmt_amount(acc["paid"], cur),
                "outstanding": fmt_amount(acc["outstanding"], cur),
                "invoices": acc["n"],
                "overdue_invoices": acc["late"],
                "percent_invoiced": _percent(acc["invoiced"], value) if own else None,
                "percent_paid": _percent(acc["paid"], value) if own else None,
            }
        )
    return out


def get_progress(
    db: Any, caller: CallerContext | None, contract_id: Any, as_of: Any = None
) -> dict[str, Any]:
    """How far a contract is delivered (milestones vs plan on ``as_of``, default today) and
    invoiced / paid (what billing reported)."""
    access = domain.read_access(caller)
    cid = parse_id(contract_id, "contract_id")
    day = parse_date(as_of, "as_of", default=_today())
    with db.read() as s:
        contract = usecases.visible_contract(s, cid, access)
        rows = _milestones_of(s, [contract["id"]])[contract["id"]]
        invoices = [
            dict(r)
            for r in s.execute(
                select(m.contract_invoices)
                .where(INV.contract_id == contract["id"])
                .order_by(INV.issue_date, INV.invoice_id)
            ).mappings()
        ]
    delivery = domain.delivery_progress(rows, day)
    delivery["items"] = [for_reader(milestone_view(r, day), access) for r in rows]
    value = contract_term_value(contract)
    return {
        "contract_id": contract["id"],
        "number": contract["number"],
        "currency": contract["currency"],
        "term_value": fmt_amount(value, contract["currency"]),
        "as_of": day.isoformat(),
        "delivery": delivery,
        "billing": billing_progress(contract, invoices, day),
        "invoices": [invoice_view(r, day) for r in invoices],
    }


def _scaled_weight() -> Any:
    """weight × 10 000 as an exact integer in SQL (weights have at most four places)."""
    return func.round(cast(M.weight, Float) * WEIGHT_SCALE)


# the fields the progress list may be sorted by and their columns
PROGRESS_SORT = {
    "number": C.number, "title": C.title, "customer_name": C.customer_name, "status": C.status,
    "start_date": C.start_date, "end_date": C.end_date, "id": C.id,
}  # fmt: skip


def list_progress(
    db: Any,
    caller: CallerContext | None,
    filters: Any = None,
    page: Any = 1,
    page_size: Any = 50,
    sort: Any = None,
) -> dict[str, Any]:
    """Contracts the caller may see that have milestones, with actual vs planned percent on
    ``as_of`` (default today); ``behind``: only those behind plan (true) or on plan (false).
    Two queries for the page: the contracts (with the behind filter in SQL) and their
    milestones."""
    access = domain.read_access(caller)
    f = load_filters(progress_filters_in, filters)
    p, size = page_args(page, page_size)
    day: dt.date = f.get("as_of") or _today()
    weight = _scaled_weight()
    agg = (
        select(
            M.contract_id.label("contract_id"),
            func.sum(weight * M.percent_complete).label("done"),
            func.sum(case((M.planned_date <= day, weight * 100), else_=0)).label("due"),
        )
        .group_by(M.contract_id)
        .subquery()
    )
    q = select(
        C.id,
        C.number,
        C.title,
        C.status,
        C.customer_id,
        C.customer_name,
        C.owner_id,
        C.start_date,
        C.end_date,
    ).join(agg, agg.c.contract_id == C.id)
    q = usecases.scoped(q, access)
    if "owner_id" in f:
        q = q.where(C.owner_id == f["owner_id"])
    if "customer_id" in f:
        q = q.where(C.customer_id == f["customer_id"])
    if "status" in f:
        q = q.where(C.status == f["status"])
    if f.get("behind") is True:
        q = q.where(agg.c.done < agg.c.due)
    elif f.get("behind") is False:
        q = q.where(agg.c.done >= agg.c.due)
    q = sorted_query(q, sort, PROGRESS_SORT, C.number)
    with db.read() as s:
        rows, total = run_page(s, q, p, size)
        by_contract = _milestones_of(s, [r["id"] for r in rows])
    items = []
    for r in rows:
        ms = by_contract[r["id"]]
        progress = domain.delivery_progress(ms, day)
        upcoming = next((x for x in ms if x["percent_complete"] < 100), None)
        items.append(
            {
                "contract_id": r["id"],
                "number": r["number"],
                "title": r["title"],
                "status": r["status"],
                "customer_id": r["customer_id"],
                "customer_name": r["customer_name"],
                "owner_id": r["owner_id"],
                "start_date": _iso(r["start_date"]),
                "end_date": _iso(r["end_date"]),
                "milestones": progress["milestones"],
                "actual_percent": progress["actual_percent"],
                "planned_percent": progress["planned_percent"],
                "behind": progress["behind"],
                "overdue_milestones": len(progress["overdue"]),
                "next_milestone": (
                    {
                        "id": upcoming["id"],
                        "name": upcoming["name"],
                        "planned_date": _iso(upcoming["planned_date"]),
                    }
                    if upcoming is not None
                    else None
                ),
            }
        )
    result = page_of(items, total, p, size)
    result["as_of"] = day.isoformat()
    return result


# -- billing events ---------------------------------------------------------------------------


def _invoice_row(s: Session, invoice_id: str) -> dict[str, Any] | None:
    row = (
        s.execute(select(m.contract_invoices).where(INV.invoice_id == invoice_id).with_for_update())
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def _contract_currency(s: Session, contract_id: int) -> str | None:
    return s.execute(select(C.currency).where(C.id == contract_id)).scalar_one_or_none()


def _newer(row: Mapping[str, Any], occurred: dt.datetime, strictly: bool = False) -> bool:
    at = row["event_at"]
    if at is None:
        return True
    return occurred > at if strictly else occurred >= at


def _put(
    s: Session,
    row: dict[str, Any] | None,
    invoice_id: str,
    contract_id: int | None,
    occurred: dt.datetime,
    values: Mapping[str, Any],
    facts: Mapping[str, Any] | None = None,
) -> str:
    """Write what an event says about one invoice: ``values`` (its state) when the event is at
    least as new as the row, ``facts`` (number, dates: they never change) into empty columns
    whatever the order. A new row needs the contract (a one-off invoice has none)."""
    facts = {k: v for k, v in (facts or {}).items() if v is not None}
    label = f"invoice {invoice_id}"
    if row is None:
        if contract_id is None:
            return f"{label}: ignored (no contract: a one-off invoice)"
        currency = _contract_currency(s, contract_id)
        if currency is None:
            return f"{label}: ignored (contract {contract_id} is unknown here)"
        new = {
            "invoice_id": invoice_id,
            "contract_id": contract_id,
            "currency": currency,
            "total": Decimal(0),
            "paid": Decimal(0),
            "status": "issued",
            **facts,
            **{k: v for k, v in values.items() if v is not None},
            "updated_at": utcnow(),
            "event_at": occurred,
        }
        s.execute(insert(m.contract_invoices).values(**new))
        return f"{label} of contract {contract_id}: recorded ({new['status']})"
    label = f"{label} of contract {row['contract_id']}"
    fill = {k: v for k, v in facts.items() if row.get(k) is None}
    if not _newer(row, occurred):
        if fill:
            s.execute(update(m.contract_invoices).where(INV.invoice_id == invoice_id).values(**fill))
            return f"{label}: older event, filled in {', '.join(sorted(fill))}"
        return f"{label}: older event, ignored"
    change = {k: v for k, v in values.items() if v is not None}
    s.execute(
        update(m.contract_invoices)
        .where(INV.invoice_id == invoice_id)
        .values(**fill, **change, updated_at=utcnow(), event_at=occurred)
    )
    return f"{label}: {change.get('status', row['status'])}"


def _on_issued(s: Session, data: dict[str, Any], occurred: dt.datetime) -> str:
    if data["contract_id"] is None:
        return f"invoice {data['id']}: ignored (no contract: a one-off invoice)"
    row = _invoice_row(s, data["id"])
    facts = {"number": data["number"], "issue_date": data["issue_date"], "due_date": data["due_date"],
             "period_end": data["period_end"]}  # fmt: skip
    if row is not None and not _newer(row, occurred) and row["number"] is None and row["issue_date"] is None:
        # the first news of this invoice came from a later event (a payment) that may not have
        # known its total and currency: the issue says them
        known = {"currency": data["currency"]}
        if Decimal(row["total"]) == 0:
            known["total"] = data["total"]
        s.execute(update(m.contract_invoices).where(INV.invoice_id == data["id"]).values(**known))
    values = {
        "currency": data["currency"],
        "total": data["total"],
        "paid": data["paid"],
        "status": data["status"],
    }
    return _put(s, row, data["id"], data["contract_id"], occurred, values, facts)


def _on_paid(s: Session, data: dict[str, Any], occurred: dt.datetime) -> str:
    row = _invoice_row(s, data["id"])
    values = {
        "currency": data["currency"],
        "total": data["total"],
        "paid": data["paid"],
        "status": data["status"],
    }
    return _put(s, row, data["id"], data["contract_id"], occurred, values)


def _on_overdue(s: Session, data: dict[str, Any], occurred: dt.datetime) -> str:
    row = _invoice_row(s, data["id"])
    values = {
        "currency": data["currency"],
        "total": data["total"],
        "paid": data["paid"],
        "status": data["status"],
    }
    facts = {"number": data["number"], "issue_date": data["issue_date"], "due_date": data["due_date"]}
    return _put(s, row, data["id"], data["contract_id"], occurred, values, facts)


def _on_voided(s: Session, data: dict[str, Any], occurred: dt.datetime) -> str:
    row = _invoice_row(s, data["id"])
    return _put(s, row, data["id"], data["contract_id"], occurred, {"status": "void"})


def _derived_status(row: Mapping[str, Any] | None, total: Decimal | None, paid: Decimal) -> str:
    if total is not None and total > 0 and paid >= total:
        return "paid"
    if row is not None and row["status"] in ("overdue", "void", "draft"):
        return row["status"]
    return "partially_paid" if paid > 0 else "issued"


def _apply_increment(
    s: Session,
    invoice_id: str,
    contract_id: int | None,
    occurred: dt.datetime,
    *,
    currency: str | None,
    paid_after: Decimal | None,
    total_after: Decimal | None,
    status: str | None,
    change: Callable[[dict[str, Any] | None], dict[str, Any]],
) -> str:
    """A payment allocation or a credit note: the invoice's state after it when billing sent it
    (newest wins), else the row changed by ``change`` — once, and only by an event newer than
    the row (an increment cannot be told from its replay otherwise)."""
    row = _invoice_row(s, invoice_id)
    values: dict[str, Any] = {}
    if paid_after is not None or total_after is not None:
        values = {"paid": paid_after, "total": total_after}
    elif row is not None and not _newer(row, occurred, strictly=True):
        return f"invoice {invoice_id} of contract {row['contract_id']}: older event, ignored"
    else:
        values = change(row)
    total = values.get("total")
    if total is None and row is not None:
        total = Decimal(row["total"])
    paid = values.get("paid")
    if paid is None:
        paid = Decimal(row["paid"]) if row is not None else Decimal(0)
    values["status"] = status or _derived_status(row, total, paid)
    if row is None:
        values["currency"] = currency
    return _put(s, row, invoice_id, contract_id, occurred, values)


def _on_payment(s: Session, data: dict[str, Any], occurred: dt.datetime) -> str:
    # one allocation per invoice (a payment may list an invoice twice: the amounts add up)
    merged: dict[str, dict[str, Any]] = {}
    for alloc in data["allocations"]:
        prior = merged.get(alloc["invoice_id"])
        if prior is None:
            merged[alloc["invoice_id"]] = dict(alloc)
            continue
        prior["amount"] += alloc["amount"]
        for key in ("contract_id", "invoice_total", "invoice_paid", "invoice_status"):
            if alloc[key] is not None:
                prior[key] = alloc[key]
    if not merged:
        return f"payment {data['id']}: no allocations"
    results = []
    for invoice_id, alloc in merged.items():
        row = _invoice_row(s, invoice_id)
        if row is not None and row["currency"] != data["currency"]:
            results.append(
                f"invoice {invoice_id}: ignored (payment in {data['currency']}, invoice in {row['currency']})"
            )
            continue
        amount = alloc["amount"]

        def paid_more(current: dict[str, Any] | None, amount: Decimal = amount) -> dict[str, Any]:
            return {"paid": (Decimal(current["paid"]) if current is not None else Decimal(0)) + amount}

        results.append(
            _apply_increment(
                s,
                invoice_id,
                alloc["contract_id"],
                occurred,
                currency=data["currency"],
                paid_after=alloc["invoice_paid"],
                total_after=alloc["invoice_total"],
                status=alloc["invoice_status"],
                change=paid_more,
            )
        )
    return "; ".join(results)


def _on_credit_note(s: Session, data: dict[str, Any], occurred: dt.datetime) -> str:
    amount = data["amount"]

    def credited(current: dict[str, Any] | None) -> dict[str, Any]:
        if current is None:
            return {}  # nothing known of the invoice yet: its own events will say its total
        return {"total": max(Decimal(current["total"]) - amount, Decimal(0))}

    return _apply_increment(
        s,
        data["invoice_id"],
        data["contract_id"],
        occurred,
        currency=data["currency"],
        paid_after=data["invoice_paid"],
        total_after=data["invoice_total"],
        status=data["invoice_status"],
        change=credited,
    )


APPLIERS: dict[str, Callable[[Session, dict[str, Any], dt.datetime], str]] = {
    INVOICE_ISSUED: _on_issued,
    INVOICE_PAID: _on_paid,
    PAYMENT_RECEIVED: _on_payment,
    INVOICE_OVERDUE: _on_overdue,
    INVOICE_VOIDED: _on_voided,
    CREDIT_NOTE_ISSUED: _on_credit_note,
}


def apply_billing_event(db: Any, envelope: Mapping[str, Any]) -> str:
    """Keep ``contract_invoices`` from one billing event (envelope as published); returns what
    it did. A malformed payload raises ``ValueError`` (the handler dead-letters it)."""
    if not isinstance(envelope, Mapping):
        raise ValueError("billing event: the envelope is not an object")
    event_type = envelope.get("type")
    if not isinstance(event_type, str) or event_type not in APPLIERS:
        return f"ignored: {event_type!r} is not a billing event contracts follows"
    applier = APPLIERS[event_type]
    payload = envelope.get("payload")
    if not isinstance(payload, Mapping):
        raise ValueError(f"malformed {event_type}: the payload is not an object")
    try:
        data = PAYLOAD_SCHEMAS[event_type].load(dict(payload))
    except ValidationError as exc:
        raise ValueError(f"malformed {event_type} payload: {exc.messages}") from None
    occurred = event_time(envelope)
    with db.transaction() as uow:
        return applier(uow.session, data, occurred)
