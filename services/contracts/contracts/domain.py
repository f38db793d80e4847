"""Pure rules of the contracts service: who may see and change which contract, the lifecycle
state machine, line and contract amounts (exact ``Decimal``), terms and renewals, numbering,
expiry windows, version comparison and delivery progress. No I/O.

Template rules (placeholders, typed fields) are in :mod:`contracts.templating`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from crm_common.context import CallerContext
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from crm_common.money import quantize
from crm_common.text import fold

KINDS = ("sales", "maintenance", "lease", "service")
FREQUENCIES = ("once", "monthly", "quarterly", "yearly")
FREQUENCY_MONTHS = {"monthly": 1, "quarterly": 3, "yearly": 12}

DRAFT = "draft"
PENDING = "pending_approval"
APPROVED = "approved"
ACTIVE = "active"
EXPIRED = "expired"
TERMINATED = "terminated"
RENEWED = "renewed"
CANCELLED = "cancelled"
ARCHIVED = "archived"  # read-only, hidden from lists unless asked for (``include_archived``)
STATUSES = (DRAFT, PENDING, APPROVED, ACTIVE, EXPIRED, TERMINATED, RENEWED, CANCELLED, ARCHIVED)
# contracts that are (or will be) in force: they count for co-termination, bulk price updates
IN_FORCE = (APPROVED, ACTIVE)
ENDED = (EXPIRED, TERMINATED, RENEWED, CANCELLED)

EXPIRY_WINDOWS = (90, 60, 30)
MAX_TERM_YEARS = 100
MAX_PERCENT = Decimal("1000")
MAX_QUANTITY = Decimal("1000000")
MAX_AMOUNT = Decimal("1000000000000")  # 10^12 per unit: far beyond any contract line

# -- lifecycle ------------------------------------------------------------------------------

# action → (states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "edit": ((DRAFT,), DRAFT),
    "submit": ((DRAFT,), PENDING),
    "approve": ((PENDING,), APPROVED),
    "reject": ((PENDING,), DRAFT),
    "withdraw": ((PENDING,), DRAFT),
    "activate": ((APPROVED,), ACTIVE),
    "cancel": ((DRAFT, APPROVED), CANCELLED),
    "terminate": ((APPROVED, ACTIVE), TERMINATED),
    "expire": ((ACTIVE,), EXPIRED),
    "mark_renewed": ((ACTIVE,), RENEWED),
    "amend": ((APPROVED, ACTIVE), ""),  # the status stays; a new version is made
    "renew": ((APPROVED, ACTIVE, EXPIRED, RENEWED), ""),  # a renewal draft is made
    "archive": (ENDED, ARCHIVED),
}


def termination_needs_approval(
    effective: dt.date, as_of: dt.date, admin: bool, invoiced_through: dt.date | None = None
) -> bool:
    """A termination effective before ``as_of``, or on or before the last day of a period
    already invoiced (``invoiced_through``: billing would credit what it billed), is a
    ``termination`` document for the approvals service, unless an admin ends it. Any other
    applies at once; billing never credits a locked invoice either way (it records a pending
    correction for finance)."""
    if admin:
        return False
    return effective < as_of or (invoiced_through is not None and effective <= invoiced_through)


def check_amounts_unlocked(row: Mapping[str, Any], action: str) -> None:
    """409 while finance holds the contract's amounts locked: no termination, co-termination,
    restructuring or amendment of what the customer owes until it is unlocked."""
    if row.get("amounts_locked"):
        raise Conflict(
            f"The amounts of contract {row.get('number')} are locked by finance: cannot {action} until they are unlocked",
            {"amounts_locked": True, "action": action},
        )


def transition(status: str, action: str, number: str | None = None) -> str:
    """The state after ``action`` from ``status``; an illegal transition is a 409 naming both."""
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        what = f"Contract {number}" if number else "The contract"
        raise Conflict(
            f"{what} is {status}: cannot {action.replace('_', ' ')} (only from {', '.join(allowed)})",
            {"status": status, "action": action, "allowed_from": list(allowed)},
        )
    return target or status


# -- who may do what ------------------------------------------------------------------------

READ_ALL_ROLES = ("admin", "sales_manager", "readonly", "finance", "approver", "warehouse")
WRITE_ALL_ROLES = ("admin", "sales_manager")
OWN_ROLES = ("sales_rep",)
LOCK_ROLES = ("admin", "finance")
BULK_ROLES = ("admin", "sales_manager")
TEMPLATE_ROLES = ("admin", "sales_manager")
IMPORT_ROLES = ("admin", "sales_manager")


@dataclass(frozen=True)
class Access:
    """What a caller may touch: every contract, one owner's (a sales rep), or one customer's (a
    portal user)."""

    owner_id: int | None = None
    customer_id: int | None = None
    user_id: int | None = None
    admin: bool = False

    @property
    def restricted(self) -> bool:
        return self.owner_id is not None or self.customer_id is not None

    def allows(self, owner_id: int | None, customer_id: int | None = None) -> bool:
        if self.customer_id is not None:
            return customer_id == self.customer_id
        return self.owner_id is None or owner_id == self.owner_id


def _authenticated(caller: CallerContext | None) -> CallerContext:
    if caller is None or not caller.authenticated:
        raise PermissionDenied("No caller context: the call is not authenticated")
    return caller


def _own(caller: CallerContext) -> Access:
    if caller.user_id is None:
        raise PermissionDenied("A sales rep caller without a user id has no contracts")
    return Access(owner_id=caller.user_id, user_id=caller.user_id)


def read_access(caller: CallerContext | None) -> Access:
    """admin, sales_manager, readonly, finance, approver, warehouse see every contract; a sales
    rep their own; a portal user their customer's (never drafts, see :func:`portal_visible`)."""
    caller = _authenticated(caller)
    if caller.is_system or caller.has_any(READ_ALL_ROLES):
        return Access(user_id=caller.user_id, admin=caller.is_system or caller.has_any(("admin",)))
    if caller.has_any(OWN_ROLES):
        return _own(caller)
    if caller.has_any(("portal",)):
        if caller.customer_id is None:
            raise PermissionDenied("A portal user must be bound to a customer")
        return Access(customer_id=int(caller.customer_id), user_id=caller.user_id)
    raise PermissionDenied("Not allowed to read contracts", {"roles": list(caller.roles)})


def write_access(caller: CallerContext | None) -> Access:
    """admin and sales_manager change every contract, a sales rep their own."""
    caller = _authenticated(caller)
    if caller.is_system or caller.has_any(WRITE_ALL_ROLES):
        return Access(user_id=caller.user_id, admin=caller.is_system or caller.has_any(("admin",)))
    if caller.has_any(OWN_ROLES):
        return _own(caller)
    raise PermissionDenied(
        "Not allowed to change contracts",
        {"required_roles": list(WRITE_ALL_ROLES + OWN_ROLES), "roles": list(caller.roles)},
    )


def require(caller: CallerContext | None, roles: Sequence[str], action: str) -> CallerContext:
    caller = _authenticated(caller)
    if caller.is_system or caller.has_any(roles):
        return caller
    raise PermissionDenied(
        f"Requires one of the roles {', '.join(roles)} to {action}",
        {"required_roles": list(roles), "roles": list(caller.roles)},
    )


def check_can_write(access: Access, owner_id: int | None) -> None:
    if not access.allows(owner_id):
        raise PermissionDenied("Only the owner or a sales manager may change this contract")


def check_owner_assignment(access: Access, owner_id: int | None) -> None:
    if access.restricted and owner_id != access.owner_id:
        raise PermissionDenied(
            "A sales rep can only own contracts themselves", {"owner_id": ["must be your own user id"]}
        )


PORTAL_HIDDEN = (DRAFT, PENDING, CANCELLED)


# What the company keeps to itself when a customer reads its contract through the portal.
INTERNAL_FIELDS = (
    "notes", "department", "owner_id", "approval_id", "rejection_comment", "created_by",
    "template_id", "amounts_locked", "amendments",
)  # fmt: skip
INTERNAL_LINE_FIELDS = ("price_source", "warehouse_id")


def for_customer(view: dict[str, Any]) -> dict[str, Any]:
    """A contract view (full or summary, lines or not) without :data:`INTERNAL_FIELDS`."""
    out = {k: v for k, v in view.items() if k not in INTERNAL_FIELDS}
    if "lines" in out:
        out["lines"] = [{k: v for k, v in li.items() if k not in INTERNAL_LINE_FIELDS} for li in out["lines"]]
    return out


def portal_visible(access: Access, status: str) -> bool:
    """Portal users see signed contracts only: not drafts, pending or cancelled ones."""
    return access.customer_id is None or status not in PORTAL_HIDDEN


# -- numbers --------------------------------------------------------------------------------


def contract_number(year: int, n: int) -> str:
    """``C-2026-000042``: per year, unique, readable; the counter never goes back."""
    return f"C-{year}-{n:06d}"


def amendment_number(contract_number: str, n: int) -> str:
    return f"{contract_number}-A{n:02d}"


def counter_name(year: int) -> str:
    return f"contract:{year}"


# -- amounts ----------------------------------------------------------------------------------


def line_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity × unit price × (1 − discount %), exact (no rounding: documents round)."""
    return quantity * unit_price * (Decimal(100) - discount_percent) / Decimal(100)


def contract_total(amounts: Iterable[Decimal]) -> Decimal:
    return sum(amounts, Decimal(0))


def apply_percent(price: Decimal, percent: Decimal, currency: str) -> Decimal:
    """``price`` raised (or lowered) by ``percent``, rounded half-up to the currency's minor unit
    (a new price is a price someone quotes); never below zero."""
    if percent <= -100:
        raise ValidationFailed.field("percent", "must be greater than -100")
    if percent > MAX_PERCENT:
        raise ValidationFailed.field("percent", f"must be at most {MAX_PERCENT}")
    new = price * (Decimal(100) + percent) / Decimal(100)
    return quantize(new.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP), currency)


def amount_problem(
    value: Decimal | None, *, allow_zero: bool = True, limit: Decimal = MAX_AMOUNT
) -> str | None:
    if value is None:
        return None
    if not value.is_finite():
        return "must be a finite number"
    if value < 0:
        return "must not be negative"
    if not allow_zero and value == 0:
        return "must be greater than 0"
    if value > limit:
        return f"must be at most {limit}"
    return None


# -- terms ------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int, anchor_day: int | None = None) -> dt.date:
    """``day`` plus ``months`` calendar months, on ``anchor_day`` (default: ``day``'s own day),
    clamped to the end of a shorter month (31 January + 1 month = 28/29 February)."""
    total = day.year * 12 + (day.month - 1) + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(anchor_day or day.day, last))


def term_problems(start: dt.date | None, end: dt.date | None) -> dict[str, list[str]]:
    if start is None or end is None:
        return {}
    if end < start:
        return {"end_date": ["must not be before start_date"]}
    if end > add_months(start, 12 * MAX_TERM_YEARS):
        return {"end_date": [f"the term must be at most {MAX_TERM_YEARS} years"]}
    return {}


def line_term_problems(
    line_start: dt.date | None, line_end: dt.date | None, start: dt.date, end: dt.date
) -> dict[str, list[str]]:
    """A line's own dates lie inside the contract term, and end after they start."""
    errors: dict[str, list[str]] = {}
    if line_start is not None and not start <= line_start <= end:
        errors["start_date"] = [f"must lie inside the contract term {start} – {end}"]
    if line_end is not None and not start <= line_end <= end:
        errors["end_date"] = [f"must lie inside the contract term {start} – {end}"]
    if line_start is not None and line_end is not None and line_end < line_start:
        errors.setdefault("end_date", []).append("must not be before the line's start_date")
    return errors


def whole_months(start: dt.date, end: dt.date) -> int | None:
    """The number of whole months from ``start`` to ``end`` (inclusive) when the term is exactly
    that (1 Jan – 31 Dec = 12; 15 Jan – 14 Feb = 1), else ``None``."""
    for months in range(1, 12 * MAX_TERM_YEARS + 1):
        nxt = add_months(start, months)
        if nxt - dt.timedelta(days=1) == end:
            return months
        if nxt > end + dt.timedelta(days=1):
            return None
    return None


def next_term(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The renewal term: from the day after ``end``, as long as this one — in whole months when
    this term is whole months (so a calendar year renews to the next calendar year), else in
    days."""
    new_start = end + dt.timedelta(days=1)
    months = whole_months(start, end)
    if months is not None:
        return new_start, add_months(new_start, months, start.day) - dt.timedelta(days=1)
    return new_start, new_start + (end - start)


def day_start(day: dt.date) -> dt.datetime:
    """The first moment (UTC) of ``day``: when a daily job's change for a date takes effect."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


def job_dates(start: dt.date, end: dt.date, as_of: dt.date) -> dict[str, Any]:
    """What the daily job for ``as_of`` records of a contract's term, by the dates of the term
    and never by the clock, so a catch-up or back-dated run writes what a run on the day would
    have: active from the first moment of its start (``activated_at``), ended at the first
    moment after its last day (``ended_at``), and a renewal made then is numbered in the year
    its term starts (the day a run on time makes it)."""
    return {
        "activated_at": day_start(min(start, as_of)),
        "ended_at": day_start(min(end + dt.timedelta(days=1), as_of)),
        "renewal_year": min(end + dt.timedelta(days=1), as_of).year,
    }


def notice_deadline(end: dt.date, notice_days: int) -> dt.date:
    """The last day on which notice can still be given (the term ends ``notice_days`` later)."""
    return end - dt.timedelta(days=notice_days)


def term_value(total: Decimal, frequency: str, start: dt.date, end: dt.date) -> Decimal:
    """What the contract is worth over its term (for approval thresholds and reports): the
    per-period total × the number of billing periods, a last partial period counted by days
    (full price × days covered ÷ days in that period). ``once``: the total itself."""
    months = FREQUENCY_MONTHS.get(frequency)
    if months is None or end < start:
        return total
    # whole periods: the first guess from the calendar months between the dates, then corrected
    n = max(((end.year - start.year) * 12 + end.month - start.month) // months - 1, 0)
    while add_months(start, months * (n + 1), start.day) - dt.timedelta(days=1) <= end:
        n += 1
    value = total * n
    period_start = add_months(start, months * n, start.day)
    if period_start > end:
        return value
    period_end = add_months(start, months * (n + 1), start.day) - dt.timedelta(days=1)
    covered = (end - period_start).days + 1
    days = (period_end - period_start).days + 1
    return value + total * Decimal(covered) / Decimal(days)


# -- expiry -----------------------------------------------------------------------------------


def expiry_window(end: dt.date, as_of: dt.date, done: Iterable[int]) -> tuple[int | None, list[int]]:
    """Which ``contract_expiring`` window to announce on ``as_of`` for a term ending ``end``:
    the smallest window (90/60/30 days) that has been reached and not yet announced — and the
    larger ones reached but never announced, which are passed over (a contract first seen 25
    days before its end gets the 30-day notice, not three notices at once)."""
    days_left = (end - as_of).days
    if days_left < 0:
        return None, []
    done_set = set(done)
    reached = [w for w in EXPIRY_WINDOWS if days_left <= w]
    if not reached:
        return None, []
    smallest = min(reached)
    if smallest in done_set:
        return None, []
    skipped = [w for w in reached if w != smallest and w not in done_set]
    return smallest, skipped


# -- versions ---------------------------------------------------------------------------------

# fields of a snapshot compared by :func:`diff_snapshots` (lines are compared by line id)
VERSIONED_FIELDS = (
    "title", "kind", "currency", "start_date", "end_date", "signer", "signer_title", "signed_on",
    "payment_terms_days", "billing", "auto_renew", "notice_days", "renewal_uplift_percent",
    "owner_id", "template_id", "field_values", "total", "customer_name",
)  # fmt: skip
LINE_FIELDS = (
    "product_id", "sku", "product_name", "model", "serial_number", "manufacturing_number",
    "quantity", "unit_price", "discount_percent", "amount", "start_date", "end_date", "description",
)  # fmt: skip


def diff_snapshots(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """What changed from snapshot ``a`` to ``b``: header fields ``{name: {"from", "to"}}``, lines
    added, removed, and changed (per line id, per field)."""
    fields = {
        name: {"from": a.get(name), "to": b.get(name)}
        for name in VERSIONED_FIELDS
        if a.get(name) != b.get(name)
    }
    lines_a = {line["id"]: line for line in a.get("lines", [])}
    lines_b = {line["id"]: line for line in b.get("lines", [])}
    added = [lines_b[i] for i in lines_b if i not in lines_a]
    removed = [lines_a[i] for i in lines_a if i not in lines_b]
    changed = []
    for i in lines_a:
        if i in lines_b:
            delta = {
                name: {"from": lines_a[i].get(name), "to": lines_b[i].get(name)}
                for name in LINE_FIELDS
                if lines_a[i].get(name) != lines_b[i].get(name)
            }
            if delta:
                changed.append({"id": i, "product_name": lines_b[i].get("product_name"), "changes": delta})
    return {"fields": fields, "lines": {"added": added, "removed": removed, "changed": changed}}


# -- progress ---------------------------------------------------------------------------------


def delivery_progress(milestones: Sequence[Mapping[str, Any]], as_of: dt.date) -> dict[str, Any]:
    """Percent delivered vs plan: ``actual`` = the weighted mean of each milestone's percent
    complete; ``planned`` = the weighted share of milestones planned on or before ``as_of``
    (what should be done by now); ``behind`` when actual < planned. Milestones overdue are
    those planned before ``as_of`` and not complete."""
    total_weight = sum((Decimal(m["weight"]) for m in milestones), Decimal(0))
    if not milestones or total_weight == 0:
        return {"milestones": len(milestones), "actual_percent": None, "planned_percent": None,
                "behind": False, "overdue": []}  # fmt: skip
    actual = (
        sum((Decimal(m["weight"]) * m["percent_complete"] for m in milestones), Decimal(0)) / total_weight
    )
    planned = (
        sum((Decimal(m["weight"]) * 100 for m in milestones if m["planned_date"] <= as_of), Decimal(0))
        / total_weight
    )
    overdue = [m["id"] for m in milestones if m["planned_date"] < as_of and m["percent_complete"] < 100]
    q = Decimal("0.1")
    return {
        "milestones": len(milestones),
        "actual_percent": str(actual.quantize(q, rounding=ROUND_HALF_UP)),
        "planned_percent": str(planned.quantize(q, rounding=ROUND_HALF_UP)),
        "behind": actual < planned,
        "overdue": overdue,
    }


# -- dashboard --------------------------------------------------------------------------------

RENEWAL_WINDOW_DAYS = 90
RENEWAL_STATUSES = (APPROVED, ACTIVE)  # contracts whose end is a renewal to prepare
RENEWAL_ITEMS = 20  # renewals listed on the dashboard (the first by end date)
# roles whose dashboard counts every contract (a sales manager too, unless bound to a department)
DASHBOARD_ALL_ROLES = ("admin", "finance", "readonly", "approver", "warehouse")


@dataclass(frozen=True)
class DashboardScope:
    """Whose contracts a dashboard counts: every contract, one owner's (a sales rep), or those
    owned by the users of one department (a sales manager with a department; the owners'
    departments come from the users read copy)."""

    owner_id: int | None = None
    department: str | None = None


def dashboard_scope(caller: CallerContext | None) -> DashboardScope:
    """admin, finance, readonly (approver, warehouse: they read every contract anyway) and a
    sales manager without a department: everything; a sales manager with a department: the
    contracts owned by that department's users; a sales rep: their own; portal users: 403."""
    caller = _authenticated(caller)
    if caller.is_system or caller.has_any(DASHBOARD_ALL_ROLES):
        return DashboardScope()
    if caller.has_any(("sales_manager",)):
        return DashboardScope(department=(caller.department or "").strip() or None)
    if caller.has_any(OWN_ROLES):
        return DashboardScope(owner_id=_own(caller).owner_id)
    raise PermissionDenied("The dashboard is not available to this user", {"roles": list(caller.roles)})


def renewal_window(as_of: dt.date, days: int = RENEWAL_WINDOW_DAYS) -> tuple[dt.date, dt.date]:
    """The end dates (inclusive) of the contracts whose renewal is due within ``days``."""
    return as_of, as_of + dt.timedelta(days=days)


def renewal_due(status: str, end_date: dt.date, renewed_by_id: int | None, as_of: dt.date) -> bool:
    """A renewal to prepare: an approved or active contract ending within the window from
    ``as_of`` that was not renewed yet (no renewal made for it)."""
    first, last = renewal_window(as_of)
    return status in RENEWAL_STATUSES and first <= end_date <= last and renewed_by_id is None


def active_on(status: str, start_date: dt.date, end_date: dt.date, as_of: dt.date) -> bool:
    """An active contract whose term covers ``as_of``."""
    return status == ACTIVE and start_date <= as_of <= end_date


def year_span(year: int) -> tuple[dt.datetime, dt.datetime]:
    """[1 January, next 1 January) of ``year`` as UTC timestamps."""
    return (dt.datetime(year, 1, 1, tzinfo=dt.UTC), dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC))


# -- portal: installed items and service requests -----------------------------------------------

ITEM_KINDS = ("device",)  # product kinds that are installed items (else: lines with a serial number)
ITEM_STATUSES = (APPROVED, ACTIVE)  # the contracts whose items are listed unless asked otherwise


def is_item(product_kind: str | None, serial_number: str | None) -> bool:
    """A contract line is an installed item when its product is a device or it names a unit."""
    return product_kind in ITEM_KINDS or bool((serial_number or "").strip())


def item_matches(q: str | None, values: Iterable[str | None]) -> bool:
    """Whether the search text ``q`` occurs in any of ``values`` (serial number, manufacturing
    number, model, product name, SKU), Unicode case-insensitively (:func:`crm_common.text.fold`)."""
    key = fold(q)
    if not key:
        return True
    return any(key in fold(v) for v in values if v)


REQUEST_KINDS = ("renewal_quote", "service_call")
REQUEST_STATUSES = ("open", "closed")
MESSAGE_MAX = 4000


def service_request_problems(
    kind: str, contract_id: int | None, serial_number: str | None, line_id: int | None
) -> dict[str, list[str]]:
    """A renewal quote names its contract; a service call names its item: a serial number, or a
    contract and one of its lines."""
    if kind == "renewal_quote":
        if contract_id is None:
            return {"contract_id": ["required for a renewal quote"]}
        return {}
    if serial_number is None and (contract_id is None or line_id is None):
        return {"serial_number": ["required for a service call (or contract_id and line_id)"]}
    if line_id is not None and contract_id is None:
        return {"contract_id": ["required with line_id"]}
    return {}


def best_item(candidates: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The line a service call is about when a serial number is on several contracts: one in
    force (approved or active) before an ended one, then the newest contract."""
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c["contract_status"] in IN_FORCE, c["contract_id"], c["line_id"]))


def request_owner(contract_owner_id: int | None, customer_owner_id: int | None) -> int | None:
    """Who answers a portal request: the contract's owner, else the customer's."""
    return contract_owner_id if contract_owner_id is not None else customer_owner_id
