"""The tasks events open and close, and who may close one by hand (pure, no I/O). Each event
type that touches tasks has a small handler in :data:`TASK_HANDLERS` (event type → function of the
payload and the business date); :func:`task_actions` looks one up. Also the task vocabulary
(kinds, statuses, collection close reasons) the schemas and the gateway share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .payload_fields import approver_targets, as_date, doc_id, ints, overdue_since, owner_of, step_of

TASK_KINDS = ("collection", "follow_up", "approval", "renewal", "dispatch", "service_request")
SERVICE_REQUEST_KINDS = ("renewal_quote", "service_call")
SERVICE_REQUEST_DUE_WORKING_DAYS = 2
TASK_STATUSES = ("open", "done", "cancelled")


@dataclass(frozen=True)
class TaskOpen:
    kind: str
    document_type: str
    document_id: str
    title: str
    due_date: dt.date | None
    assignee_ids: tuple[int, ...] = ()
    assignee_roles: tuple[str, ...] = ()
    step: str | None = None
    notes: str | None = None
    # what opened it when one document has several such tasks (``service_request:<id>``)
    reference: str | None = None


@dataclass(frozen=True)
class TaskClose:
    kind: str
    document_type: str
    document_id: str
    step: str | None = None  # None: every step
    reason: str | None = None  # stored as the task's close_reason ("paid", "voided")


# Why finance closes a collection task whose invoice is still unpaid (``PATCH /tasks/{id}``);
# the paid / voided / credited-in-full invoice closes it by itself ("paid", "voided").
COLLECTION_CLOSE_REASONS = ("dispute", "write_off", "payment_arranged", "other")
COLLECTION_CLOSERS = ("finance", "admin")


def manual_close_refusal(
    task: Mapping[str, Any], new_status: str | None, roles: Iterable[str], close_reason: str | None, note: Any
) -> tuple[str, str, str] | None:
    """Why a user may not make this change to a task's status: ``(kind, field, message)`` with
    kind ``conflict`` (409) or ``invalid`` (422), else ``None``. An open collection task means
    its invoice is unpaid (billing's ``invoice_paid`` / ``invoice_voided`` close it), so closing
    it by hand is finance's or an admin's decision, with a reason (``note`` required for
    ``other``); everyone else waits for the payment."""
    closing = new_status in ("done", "cancelled") and task.get("status") == "open"
    if (close_reason is not None or note) and not closing:
        field = "close_reason" if close_reason is not None else "note"
        return ("invalid", field, "only when closing an open task (status done or cancelled)")
    if not closing or task.get("kind") != "collection":
        return None
    if not set(roles) & set(COLLECTION_CLOSERS):
        return (
            "conflict",
            "status",
            "the invoice is not paid: its collection task closes when the invoice is paid, voided or "
            "credited in full, or by finance with a reason (dispute, write-off)",
        )
    if close_reason is None:
        reasons = ", ".join(COLLECTION_CLOSE_REASONS)
        return (
            "invalid",
            "close_reason",
            f"required to close an unpaid invoice's collection task ({reasons})",
        )
    if close_reason == "other" and not (isinstance(note, str) and note.strip()):
        return ("invalid", "note", "required when the close reason is other")
    return None


def add_working_days(start: dt.date, days: int) -> dt.date:
    """``days`` working days (Monday–Friday) after ``start``: Friday + 2 → Tuesday, Saturday
    + 2 → Tuesday. No holiday calendar."""
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def service_request_task(payload: Mapping[str, Any], today: dt.date) -> TaskOpen | None:
    """The task a portal service request opens: for the contract's owner (every sales manager
    when it has none), on the contract (so the contract's page lists it), due in two working
    days, the customer's message as notes; one per request (``reference``)."""
    request = doc_id(payload, "service_request_id", "id")
    contract = doc_id(payload, "contract_id")
    if not request or not contract:
        return None
    owner = owner_of(payload)
    number = payload.get("contract_number") or contract
    serial = payload.get("serial_number")
    what = "Renewal quote" if payload.get("kind") == "renewal_quote" else "Service call"
    title = f"{what} requested for contract {number}" + (f" (serial number {serial})" if serial else "")
    customer = payload.get("customer_name")
    if customer:
        title += f" — {customer}"
    message = payload.get("message")
    return TaskOpen(
        "service_request",
        "contract",
        contract,
        title,
        add_working_days(today, SERVICE_REQUEST_DUE_WORKING_DAYS),
        (owner,) if owner is not None else (),
        () if owner is not None else ("sales_manager",),
        notes=str(message) if message not in (None, "") else None,
        reference=f"service_request:{request}",
    )


Actions = tuple[list[TaskOpen], list[TaskClose]]
TaskHandler = Callable[[str, Mapping[str, Any], dt.date], Actions]


def _opens(*tasks: TaskOpen | None) -> Actions:
    return [t for t in tasks if t is not None], []


def _closes(*tasks: TaskClose) -> Actions:
    return [], list(tasks)


def _invoice_overdue(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    invoice = doc_id(payload, "invoice_id", "id")
    if not invoice:
        return _opens()
    owner = owner_of(payload)
    number = payload.get("invoice_number") or invoice
    return _opens(
        TaskOpen(
            "collection",
            "invoice",
            invoice,
            f"Collect overdue invoice {number}",
            overdue_since(payload) or today,
            (owner,) if owner is not None else (),
            ("finance",),
        )
    )


def _invoice_settled(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    # invoice_paid also when credit notes leave nothing to pay
    invoice = doc_id(payload, "invoice_id", "id")
    if not invoice:
        return _closes()
    reason = "voided" if event_type == "invoice_voided" else "paid"
    return _closes(TaskClose("collection", "invoice", invoice, reason=reason))


def _payment_received(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    paid = payload.get("paid_invoice_ids") or []
    return _closes(*(TaskClose("collection", "invoice", str(inv), reason="paid") for inv in paid))


def _approval_requested(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    request = doc_id(payload, "request_id", "approval_id", "id")
    if not request:
        return _opens()
    users, roles = approver_targets(payload)
    label = f"{payload.get('document_type') or 'document'} {payload.get('document_number') or payload.get('document_id') or ''}"
    return _opens(
        TaskOpen(
            "approval",
            "approval",
            request,
            f"Decide approval of {label.strip()}",
            as_date(payload.get("due_at") or payload.get("sla_due_at")),
            tuple(users),
            tuple(roles),
            step_of(payload),
        )
    )


def _approval_step_decided(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    request = doc_id(payload, "request_id", "approval_id", "id")
    step = step_of(payload)
    if request and step is not None:
        return _closes(TaskClose("approval", "approval", request, step))
    return _closes()


def _approval_ended(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    request = doc_id(payload, "request_id", "approval_id", "id")
    return _closes(TaskClose("approval", "approval", request)) if request else _closes()


def _follow_up_due(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    follow_up = doc_id(payload, "follow_up_id", "id")
    owner = owner_of(payload)
    if owner is None:
        created = ints(payload.get("created_by"))
        owner = created[0] if created else None
    if not follow_up:
        return _opens()
    return _opens(
        TaskOpen(
            "follow_up",
            "follow_up",
            follow_up,
            f"Follow up with {payload.get('customer_name') or 'customer'}",
            as_date(payload.get("due_date")) or today,
            (owner,) if owner is not None else (),
            (),
        )
    )


def _contract_expiring(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    contract = doc_id(payload, "contract_id", "id")
    owner = owner_of(payload)
    if not contract:
        return _opens()
    return _opens(
        TaskOpen(
            "renewal",
            "contract",
            contract,
            f"Renew contract {payload.get('contract_number') or contract}",
            as_date(payload.get("end_date")),
            (owner,) if owner is not None else (),
            (),
        )
    )


def _contract_ended(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    contract = doc_id(payload, "contract_id", "id")
    return _closes(TaskClose("renewal", "contract", contract)) if contract else _closes()


def _dispatch_approved(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    doc = doc_id(payload, "document_id", "dispatch_id", "id")
    if not doc:
        return _opens()
    return _opens(
        TaskOpen(
            "dispatch",
            "dispatch_request",
            doc,
            f"Dispatch {payload.get('document_number') or doc}",
            as_date(payload.get("due_date")) or today,
            (),
            ("warehouse",),
        )
    )


def _stock_dispatched(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    doc = doc_id(payload, "dispatch_request_id", "document_id")
    return _closes(TaskClose("dispatch", "dispatch_request", doc)) if doc else _closes()


def _service_request_created(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    return _opens(service_request_task(payload, today))


# event type → the handler that says which tasks it opens and closes
TASK_HANDLERS: dict[str, TaskHandler] = {
    "invoice_overdue": _invoice_overdue,
    "invoice_paid": _invoice_settled,
    "invoice_voided": _invoice_settled,
    "payment_received": _payment_received,
    "approval_requested": _approval_requested,
    "approval_step_decided": _approval_step_decided,
    "approval_approved": _approval_ended,
    "approval_rejected": _approval_ended,
    "approval_withdrawn": _approval_ended,
    "follow_up_due": _follow_up_due,
    "contract_expiring": _contract_expiring,
    "contract_renewed": _contract_ended,
    "contract_terminated": _contract_ended,
    "contract_expired": _contract_ended,
    "contract_cancelled": _contract_ended,
    "dispatch_approved": _dispatch_approved,
    "stock_dispatched": _stock_dispatched,
    "service_request_created": _service_request_created,
}


def task_actions(event_type: str, payload: Mapping[str, Any], today: dt.date) -> Actions:
    """The tasks an event opens and the ones it resolves (:data:`TASK_HANDLERS`); ``today`` is
    the event's business date (:func:`notify.payload_fields.business_date`), never the clock's."""
    handler = TASK_HANDLERS.get(event_type)
    return handler(event_type, payload, today) if handler is not None else ([], [])
