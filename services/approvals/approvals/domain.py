"""Approval rules, pure Python (no I/O): which flow applies to a document, who may decide a step,
how ``any`` / ``all`` steps close, the request state machine, and SLA escalation.

Shapes (plain dicts, as stored and as sent over RPC):

* flow: ``{"id", "version", "name", "document_type", "conditions", "priority", "sla_hours",
  "allow_self_approval", "active", "steps": [step spec]}``
* step spec: ``{"name", "mode": "any"|"all", "approver_role"?, "approver_user_id"?,
  "approver_user_ids"?, "department_head"?}`` — one kind of approver per step
* document: ``{"document_type", "amount"?, "currency"?, "department"?, "company"?,
  "contract_kind"?, "submitter"}``
* user: ``{"id", "roles", "department", "is_department_head", "active"}`` (the read copy)
* request step (resolved when the step starts): ``{"index", "name", "mode", "status",
  "users": [ids], "roles": [...], "department_head": bool, "required": [ids] (all mode),
  "approved_by": [ids], "started_at", "decided_at", "overdue_notified_at"}``
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

# -- vocabulary ---------------------------------------------------------------------------

PENDING, APPROVED, REJECTED, WITHDRAWN = "pending", "approved", "rejected", "withdrawn"
STATUSES = (PENDING, APPROVED, REJECTED, WITHDRAWN)
CLOSED = (APPROVED, REJECTED, WITHDRAWN)
APPROVE, REJECT = "approve", "reject"
DECISIONS = (APPROVE, REJECT)
ANY, ALL = "any", "all"
MODES = (ANY, ALL)
# step statuses
WAITING, STEP_PENDING, STEP_APPROVED, STEP_REJECTED, STEP_CANCELLED = (
    "waiting",
    "pending",
    "approved",
    "rejected",
    "cancelled",
)

KNOWN_DOCUMENT_TYPES = (
    "contract",
    "amendment",
    "trade_in",
    "sales_application",
    "dispatch_request",
    "discount",
    "credit_note",
    "termination",
    "change_batch",
)
DOCUMENT_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
CONDITION_KEYS = ("min_amount", "max_amount", "currency", "department", "company", "contract_kind")
DEFAULT_SLA_HOURS = 48
DEFAULT_APPROVER_ROLES = ("approver", "admin")
# who may decide a department-head step when the department has no known head
NO_HEAD_FALLBACK_ROLES = ("admin",)
# who sees every request (others: their own submissions and what they may decide)
READ_ALL_ROLES = ("admin", "approver", "sales_manager", "finance", "readonly")


class Refused(Exception):
    """A rule says no. ``kind``: ``forbidden`` (403), ``conflict`` (409), ``invalid`` (422)."""

    def __init__(self, kind: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.details = details or {}


def valid_document_type(value: Any) -> bool:
    return isinstance(value, str) and bool(DOCUMENT_TYPE_RE.match(value))


def document_type_of_event(event_type: str) -> str | None:
    """``trade_in_submitted`` → ``trade_in``; ``None`` for anything not ``<type>_submitted``."""
    if not event_type.endswith("_submitted"):
        return None
    doc = event_type[: -len("_submitted")]
    return doc if valid_document_type(doc) else None


def as_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, (bool, float)):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


# -- flows --------------------------------------------------------------------------------


def step_spec_problems(step: Mapping[str, Any]) -> list[str]:
    """What is wrong with one step spec (empty when fine)."""
    kinds = [
        k
        for k in ("approver_role", "approver_roles", "approver_user_id", "approver_user_ids")
        if step.get(k) not in (None, [], "")
    ]
    if step.get("department_head"):
        kinds.append("department_head")
    if not kinds:
        return ["names no approver: give approver_role, approver_user_id(s) or department_head"]
    if len(kinds) > 1:
        return [f"names more than one kind of approver ({', '.join(kinds)}); use one step each"]
    if step.get("mode", ANY) not in MODES:
        return ["mode must be 'any' or 'all'"]
    return []


def condition_problems(conditions: Mapping[str, Any]) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    low, high = as_decimal(conditions.get("min_amount")), as_decimal(conditions.get("max_amount"))
    if low is not None and high is not None and low > high:
        problems["conditions.max_amount"] = ["must not be below min_amount"]
    return problems


def flow_matches(flow: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    """Every condition the flow sets holds for the document. Amounts: ``min_amount <= amount <=
    max_amount`` (a document without an amount matches no amount condition); texts compare
    case-insensitively; a condition the document lacks does not hold."""
    if not flow.get("active", True) or flow.get("document_type") != doc.get("document_type"):
        return False
    cond = flow.get("conditions") or {}
    amount = as_decimal(doc.get("amount"))
    low, high = as_decimal(cond.get("min_amount")), as_decimal(cond.get("max_amount"))
    if low is not None and (amount is None or amount < low):
        return False
    if high is not None and (amount is None or amount > high):
        return False
    for key in ("currency", "department", "company", "contract_kind"):
        want = cond.get(key)
        if want in (None, ""):
            continue
        have = doc.get(key)
        if have is None or str(have).strip().casefold() != str(want).strip().casefold():
            return False
    return True


def select_flow(flows: Iterable[Mapping[str, Any]], doc: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first matching flow by ``priority`` (lower first), then id; ``None`` → the default."""
    ordered = sorted(flows, key=lambda f: (int(f.get("priority") or 0), int(f.get("id") or 0)))
    for flow in ordered:
        if flow_matches(flow, doc):
            return flow
    return None


def default_flow(document_type: str) -> dict[str, Any]:
    """With no flow matching: one step decided by any ``approver`` or ``admin``."""
    return {
        "id": None,
        "version": None,
        "name": "default",
        "document_type": document_type,
        "conditions": {},
        "priority": 0,
        "sla_hours": DEFAULT_SLA_HOURS,
        "allow_self_approval": False,
        "active": True,
        "steps": [{"name": "Approval", "mode": ANY, "approver_roles": list(DEFAULT_APPROVER_ROLES)}],
    }


# -- steps ------------------------------------------------------------------------------


def department_heads(users: Iterable[Mapping[str, Any]], department: str | None) -> list[int]:
    if not department:
        return []
    key = department.strip().casefold()
    return sorted(
        int(u["id"])
        for u in users
        if u.get("is_department_head")
        and u.get("active", True)
        and (u.get("department") or "").strip().casefold() == key
    )


def holders_of(users: Iterable[Mapping[str, Any]], roles: Sequence[str]) -> list[int]:
    return sorted(
        int(u["id"]) for u in users if u.get("active", True) and set(u.get("roles") or ()) & set(roles)
    )


def resolve_step(
    spec: Mapping[str, Any],
    index: int,
    doc: Mapping[str, Any],
    users: Sequence[Mapping[str, Any]],
    allow_self: bool,
    now: dt.datetime,
) -> dict[str, Any]:
    """The step as it starts: who may decide it. In ``all`` mode, ``required`` is every named
    approver (a role: its holders now) — the submitter left out unless self-approval is allowed."""
    mode = spec.get("mode") or ANY
    submitter = doc.get("submitter")
    user_ids: list[int] = []
    roles: list[str] = []
    head = bool(spec.get("department_head"))
    if spec.get("approver_user_id") is not None:
        user_ids.append(int(spec["approver_user_id"]))
    user_ids.extend(int(u) for u in spec.get("approver_user_ids") or ())
    if spec.get("approver_role"):
        roles.append(str(spec["approver_role"]))
    roles.extend(str(r) for r in spec.get("approver_roles") or ())
    if head:
        user_ids.extend(department_heads(users, doc.get("department")))
        if not allow_self:
            user_ids = [u for u in user_ids if u != submitter]
        if not user_ids:  # nobody heads the department (or only the submitter does)
            roles.extend(NO_HEAD_FALLBACK_ROLES)
    user_ids = sorted(set(user_ids))
    required: list[int] = []
    if mode == ALL:
        required = sorted(set(user_ids) | set(holders_of(users, roles)))
        if not allow_self:
            required = [u for u in required if u != submitter]
    return {
        "index": index,
        "name": spec.get("name") or f"Step {index}",
        "mode": mode,
        "status": STEP_PENDING,
        "users": user_ids,
        "roles": sorted(set(roles)),
        "department_head": head,
        "required": required,
        "approved_by": [],
        "started_at": now.isoformat(),
        "decided_at": None,
        "overdue_notified_at": None,
    }


def may_decide(
    step: Mapping[str, Any],
    user_id: int | None,
    roles: Iterable[str],
    submitter: int | None,
    allow_self: bool,
) -> bool:
    """Whether this user may decide this (pending) step now."""
    if step.get("status") != STEP_PENDING or user_id is None:
        return False
    if user_id == submitter and not allow_self:
        return False
    if user_id in (step.get("approved_by") or ()):
        return False
    if step.get("mode") == ALL and step.get("required"):
        return user_id in step["required"]
    return user_id in (step.get("users") or ()) or bool(set(roles) & set(step.get("roles") or ()))


VALUED_DOCUMENT_TYPES = ("trade_in",)


def valuation_problems(
    document_type: str, decision: str, approved_value: Any, currency: str | None, request_currency: str | None
) -> dict[str, list[str]]:
    """What is wrong with a decision's ``approved_value`` / ``currency`` (empty: nothing): a
    valuation is decided only when approving a trade-in, in the request's currency."""
    if approved_value is None:
        return {"currency": ["only with approved_value"]} if currency is not None else {}
    if document_type not in VALUED_DOCUMENT_TYPES:
        return {"approved_value": [f"only for {', '.join(VALUED_DOCUMENT_TYPES)} documents"]}
    if decision != APPROVE:
        return {"approved_value": ["only when approving"]}
    if currency is not None and request_currency is not None and currency != request_currency:
        return {"currency": [f"must be the request's currency {request_currency}"]}
    return {}


def check_decision(
    request: Mapping[str, Any], user_id: int | None, roles: Iterable[str], decision: str
) -> Mapping[str, Any]:
    """The current step if this user may take this decision now; :class:`Refused` otherwise."""
    if decision not in DECISIONS:
        raise Refused(
            "invalid", "decision must be 'approve' or 'reject'", {"decision": ["not one of approve, reject"]}
        )
    if request["status"] != PENDING:
        raise Refused(
            "conflict",
            f"Approval request {request['id']} is {request['status']}: it cannot be decided",
            {"status": request["status"]},
        )
    step = current_step(request)
    if step is None:  # pragma: no cover - a pending request always has a pending step
        raise Refused("conflict", "The request has no pending step")
    allow_self = bool(request.get("allow_self_approval"))
    submitter = request.get("submitter")
    if user_id is not None and user_id == submitter and not allow_self:
        raise Refused("forbidden", "You cannot decide your own submission", {"submitter": submitter})
    if user_id is not None and user_id in (step.get("approved_by") or ()):
        raise Refused("conflict", "You have already approved this step", {"step": step["index"]})
    if not may_decide(step, user_id, roles, submitter, allow_self):
        raise Refused(
            "forbidden",
            f"You may not decide step {step['index']} ({step['name']})",
            {"step": step["index"], "users": step.get("users"), "roles": step.get("roles")},
        )
    return step


def current_step(request: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for step in request.get("steps") or ():
        if step.get("status") == STEP_PENDING:
            return step
    return None


def apply_decision(
    steps: list[dict[str, Any]], step_index: int, user_id: int, decision: str, now: dt.datetime
) -> tuple[str, str]:
    """Record a checked decision on the step (mutates ``steps``); returns ``(step_status,
    outcome)`` where outcome is ``next`` (a next step must start), ``approved`` (the last step
    is approved), ``rejected`` or ``waiting`` (an ``all`` step waits for more approvals)."""
    step = next(s for s in steps if s["index"] == step_index)
    stamp = now.isoformat()
    if decision == REJECT:
        step.update(status=STEP_REJECTED, decided_at=stamp)
        for later in steps:
            if later["index"] > step_index:
                later["status"] = STEP_CANCELLED
        return STEP_REJECTED, REJECTED
    step["approved_by"] = sorted({*step.get("approved_by", ()), user_id})
    if step.get("mode") == ALL and step.get("required"):
        if not set(step["required"]) <= set(step["approved_by"]):
            return STEP_PENDING, "waiting"
    step.update(status=STEP_APPROVED, decided_at=stamp)
    if any(s["index"] > step_index for s in steps):
        return STEP_APPROVED, "next"
    return STEP_APPROVED, APPROVED


def check_withdraw(request: Mapping[str, Any], user_id: int | None, roles: Iterable[str]) -> None:
    if request["status"] != PENDING:
        raise Refused(
            "conflict",
            f"Approval request {request['id']} is {request['status']}: it cannot be withdrawn",
            {"status": request["status"]},
        )
    if user_id != request.get("submitter") and not ({"admin", "system"} & set(roles)):
        raise Refused("forbidden", "Only the submitter or an admin may withdraw a request")


def can_read(request: Mapping[str, Any], user_id: int | None, roles: Iterable[str]) -> bool:
    roles = set(roles)
    if roles & {*READ_ALL_ROLES, "system"}:
        return True
    if user_id is not None and user_id == request.get("submitter"):
        return True
    if user_id is not None and any(
        user_id in (s.get("approved_by") or ()) for s in request.get("steps") or ()
    ):
        return True
    step = current_step(request)
    return bool(
        step
        and request.get("status") == PENDING
        and may_decide(
            step, user_id, roles, request.get("submitter"), bool(request.get("allow_self_approval"))
        )
    )


# -- escalation -------------------------------------------------------------------------


def parse_ts(value: str) -> dt.datetime:
    ts = dt.datetime.fromisoformat(value)
    return ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)


def due_at(step: Mapping[str, Any], sla_hours: int | None) -> dt.datetime | None:
    if not step.get("started_at"):
        return None
    return parse_ts(step["started_at"]) + dt.timedelta(hours=sla_hours or DEFAULT_SLA_HOURS)


def is_overdue(step: Mapping[str, Any], sla_hours: int | None, now: dt.datetime) -> bool:
    """Pending past its SLA and not yet escalated (escalation happens once per step)."""
    if step.get("status") != STEP_PENDING or step.get("overdue_notified_at"):
        return False
    due = due_at(step, sla_hours)
    return due is not None and due <= now


def end_of_day(as_of: dt.date) -> dt.datetime:
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time(0, 0), tzinfo=dt.UTC)


def escalation_moment(as_of: dt.date, now: dt.datetime) -> dt.datetime:
    """The moment the daily job for ``as_of`` looks at: now for today (the daily timer), the end
    of that day (UTC) for any other date (an administrator moving time)."""
    return now if as_of == now.date() else end_of_day(as_of)


def page_args(page: Any, page_size: Any, max_size: int = 500) -> tuple[int, int, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}

    def as_int(value: Any, name: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            errors[name] = ["not an integer"]
            return default
        try:
            return int(value)
        except ValueError:
            errors[name] = ["not an integer"]
            return default

    p, s = as_int(page, "page", 1), as_int(page_size, "page_size", 50)
    if "page" not in errors and p < 1:
        errors["page"] = ["must be at least 1"]
    if "page_size" not in errors and not 1 <= s <= max_size:
        errors["page_size"] = [f"must be between 1 and {max_size}"]
    return p, s, errors


def document_number(document_type: str | None, details: Mapping[str, Any] | None) -> str | None:
    """The number people know a document by (``C-2026-000017``), from what its submitting event
    carried (kept in ``details``): ``document_number``, else ``number``, else the ``number`` of
    the nested document (``amendment: {number}``), else a contract's ``contract_number``; None
    when the event carried none (the id is shown then)."""
    details = details or {}
    nested = details.get(document_type or "")
    candidates = [details.get("document_number"), details.get("number")]
    if isinstance(nested, Mapping):
        candidates.append(nested.get("number"))
    if document_type == "contract":
        candidates.append(details.get("contract_number"))
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
