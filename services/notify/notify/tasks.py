"""Tasks: the ones events open and close (:func:`open_tasks` / :func:`close_tasks`, applying
:mod:`notify.task_rules` in the event handler's transaction, each change published as
``task_opened`` / ``task_closed``) and the RPC use cases on them: the list, one task and an edit,
within the caller's scope (an admin sees every task, anyone else the ones assigned to them or to
one of their roles). Closing an unpaid invoice's collection task by hand is finance's or an
admin's decision."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import load_or_raise
from crm_common.paging import sorted_query
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from . import events as ev
from . import models as m
from . import schemas as sc
from . import task_rules
from .exceptions import Conflict, PermissionDenied, invalid, not_found
from .store import T, int_id, page_args, page_of, require_user, run_page


def open_tasks(uow, task: task_rules.TaskOpen, event_id: str, event_type: str) -> int:
    s = uow.session
    now = utcnow()
    opened = 0
    targets: list[tuple[int | None, str | None]] = [(uid, None) for uid in task.assignee_ids]
    targets += [(None, role) for role in task.assignee_roles]
    for assignee_id, role in targets:
        exists = s.execute(
            select(T.id).where(
                T.kind == task.kind,
                T.document_type == task.document_type,
                T.document_id == task.document_id,
                T.status == "open",
                T.assignee_id.is_(None) if assignee_id is None else T.assignee_id == assignee_id,
                T.assignee_role.is_(None) if role is None else T.assignee_role == role,
                T.step.is_(None) if task.step is None else T.step == task.step,
                T.reference.is_(None) if task.reference is None else T.reference == task.reference,
            )
        ).first()
        if exists:
            continue
        values = {
            "kind": task.kind,
            "title": task.title[:500],
            "notes": task.notes,
            "reference": task.reference,
            "assignee_id": assignee_id,
            "assignee_role": role,
            "due_date": task.due_date,
            "document_type": task.document_type,
            "document_id": task.document_id,
            "step": task.step,
            "status": "open",
            "opened_by_event": event_type,
            "created_at": now,
            "updated_at": now,
        }
        task_id = s.execute(m.tasks.insert().values(**values)).inserted_primary_key[0]
        uow.publish(ev.TASK_OPENED, ev.task_payload.dump({"id": task_id, **values}))
        opened += 1
    return opened


def close_tasks(uow, task: task_rules.TaskClose, event_id: str, event_type: str) -> int:
    s = uow.session
    query = select(m.tasks).where(
        T.kind == task.kind,
        T.document_type == task.document_type,
        T.document_id == task.document_id,
        T.status == "open",
    )
    if task.step is not None:
        query = query.where(T.step == task.step)
    rows = s.execute(query).mappings().all()
    now = utcnow()
    for row in rows:
        s.execute(
            update(m.tasks)
            .where(T.id == row["id"])
            .values(
                status="done",
                closed_by_event=event_type,
                close_reason=task.reason,
                closed_at=now,
                updated_at=now,
            )
        )
        uow.publish(
            ev.TASK_CLOSED,
            ev.task_payload.dump(
                {**row, "status": "done", "closed_by_event": event_type, "close_reason": task.reason}
            ),
        )
    return len(rows)


# the fields the task list may be sorted by and their columns
TASK_SORT = {
    "due_date": T.due_date, "status": T.status, "kind": T.kind, "title": T.title, "created_at": T.created_at,
    "updated_at": T.updated_at, "id": T.id,
}  # fmt: skip


def _task_scope(caller: CallerContext):
    if caller.has_any(("admin",)):
        return None
    user_id = require_user(caller)
    clauses = [T.assignee_id == user_id]
    if caller.roles:
        clauses.append(and_(T.assignee_id.is_(None), T.assignee_role.in_(list(caller.roles))))
    return or_(*clauses)


def list_tasks(
    db, caller: CallerContext, filters: Any = None, page=1, page_size=50, sort: Any = None
) -> dict:
    page, page_size = page_args(page, page_size)
    data = load_or_raise(sc.task_filters, filters) if filters is not None else {}
    query = select(m.tasks)
    scope = _task_scope(caller)
    if scope is not None:
        query = query.where(scope)
    for key in ("status", "kind", "assignee_id", "document_type", "document_id"):
        if data.get(key) is not None:
            query = query.where(getattr(T, key) == data[key])
    with db.read() as s:
        rows, total = run_page(
            s,
            sorted_query(query, sort, TASK_SORT, T.status, T.due_date.is_(None), T.due_date, T.id),
            page,
            page_size,
        )
    return page_of(sc.task_out.dump(rows, many=True), total, page, page_size)


def _visible_task(session: Session, caller: CallerContext, task_id: Any) -> dict:
    query = select(m.tasks).where(T.id == int_id(task_id))
    scope = _task_scope(caller)
    if scope is not None:
        query = query.where(scope)
    row = session.execute(query).mappings().first()
    if row is None:
        raise not_found("task", task_id)
    return dict(row)


def get_task(db, caller: CallerContext, task_id: Any) -> dict:
    with db.read() as s:
        return sc.task_out.dump(_visible_task(s, caller, task_id))


def update_task(db, caller: CallerContext, task_id: Any, data: Any) -> dict:
    """Edit a visible task. An unpaid invoice's collection task closes only by finance or an
    admin with a ``close_reason`` (and ``note``), and with it the invoice's other open collection
    tasks (the owner's); anyone else gets 409 and nothing changes."""
    changes = load_or_raise(sc.task_update, data)
    if "assignee_id" in changes and not caller.has_any(("admin", "sales_manager")):
        raise PermissionDenied("Only managers and admins reassign tasks", {"assignee_id": ["not allowed"]})
    close_reason, close_note = changes.pop("close_reason", None), changes.pop("note", None)
    with db.transaction() as uow:
        row = _visible_task(uow.session, caller, task_id)
        refusal = task_rules.manual_close_refusal(
            row, changes.get("status"), caller.roles, close_reason, close_note
        )
        if refusal is not None:
            kind, field, message = refusal
            if kind == "conflict":
                raise Conflict(f"Task {row['id']}: {message}", {field: [message]})
            raise invalid({field: [message]})
        now = utcnow()
        values: dict[str, Any] = {k: v for k, v in changes.items() if row.get(k) != v}
        if "status" in values:
            values["closed_at"] = now if values["status"] != "open" else None
            values["closed_by_event"] = None
            values["close_reason"] = close_reason
            values["close_note"] = close_note or None
            if close_reason is not None or close_note:
                changes.update(close_reason=close_reason, close_note=close_note)
        if not values:
            return sc.task_out.dump(row)
        values["updated_at"] = now
        uow.session.execute(update(m.tasks).where(T.id == row["id"]).values(**values))
        uow.audit("task", row["id"], "update", {k: [row.get(k), v] for k, v in changes.items()})
        row.update(values)
        if values.get("status") in ("done", "cancelled"):
            uow.publish(ev.TASK_CLOSED, ev.task_payload.dump(row))
            if row["kind"] == "collection" and close_reason is not None:
                _close_siblings(uow, row, now)
    return sc.task_out.dump(row)


def _close_siblings(uow, task: Mapping[str, Any], now: dt.datetime) -> None:
    """The same invoice's other open collection tasks close with the one finance closed."""
    s = uow.session
    siblings = s.execute(
        select(m.tasks).where(
            T.kind == task["kind"],
            T.document_type == task["document_type"],
            T.document_id == task["document_id"],
            T.status == "open",
            T.id != task["id"],
        )
    ).mappings()
    for sibling in list(siblings):
        values = {k: task[k] for k in ("status", "close_reason", "close_note")}
        values.update(closed_at=now, closed_by_event=None, updated_at=now)
        s.execute(update(m.tasks).where(T.id == sibling["id"]).values(**values))
        uow.audit("task", sibling["id"], "update", {"status": [sibling["status"], task["status"]],
                                                    "close_reason": [None, task["close_reason"]]})  # fmt: skip
        uow.publish(ev.TASK_CLOSED, ev.task_payload.dump({**sibling, **values}))
