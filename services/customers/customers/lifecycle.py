"""Archive, restore and the red list (issue 17 §3–4), and the customer flags other services
ask for (contracts: is the customer red-listed or archived?).

* A customer anything refers to (contracts, invoices, payments, credit notes, open
  opportunities) cannot be deleted (:func:`customers.usecases.delete_customer`): it is
  **archived** — kept with its history, hidden from lists unless ``include_archived``, still
  found by the duplicate check, and it gets no new contracts or opportunities (409).
* The **red list**: a flag with its reason, who and when, set and cleared by a sales manager,
  an admin or finance; contracts refuse to submit for a red-listed customer unless a sales
  manager (or admin) overrides it with a reason.
"""

from __future__ import annotations

from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import PermissionDenied, ValidationFailed
from sqlalchemy import select, update

from . import domain
from . import events as ev
from . import models as m
from .exceptions import Conflict
from .usecases import (
    C,
    contacts_of,
    domain_red_list_columns,
    dump_customer,
    updated_payload,
    visible_customer,
)

MAX_FLAG_IDS = 1000


def _visible_for_write(s, caller: CallerContext, customer_id: int) -> dict:
    read, write = domain.read_access(caller), domain.write_access(caller)
    row = visible_customer(s, customer_id, read, for_update=True)
    domain.check_can_write(write, row["owner_id"])
    return row


def _event_payload(row: dict) -> dict:
    """The customer row as ``customer_archived`` / ``customer_restored`` carry it."""
    return ev.customer_archived_payload.dump(row)


def archive_customer(db, caller: CallerContext, customer_id: Any) -> dict:
    """Whoever may change the customer (its rep, a sales manager, an admin) archives it;
    archiving an archived customer is 409. Audited; ``customer_archived``."""
    customer_id = domain.parse_id(customer_id, "customer_id")
    with db.transaction() as uow:
        s = uow.session
        row = _visible_for_write(s, caller, customer_id)
        if row["archived_at"] is not None:
            raise Conflict(f"Customer {row['code']} is already archived", {"customer_id": customer_id})
        now = utcnow()
        row.update(archived_at=now, archived_by=caller.actor, updated_at=now)
        s.execute(
            update(m.customers).where(C.id == customer_id).values(archived_at=now, archived_by=caller.actor,
                                                                  updated_at=now)
        )  # fmt: skip
        uow.audit("customer", customer_id, "archive", {"archived_at": [None, now.isoformat()]})
        uow.publish(ev.CUSTOMER_ARCHIVED, _event_payload(row))
        return dump_customer(row, contacts_of(s, [customer_id])[customer_id])


def restore_customer(db, caller: CallerContext, customer_id: Any) -> dict:
    """A sales manager or an admin brings an archived customer back (403 for others; 409 when
    it is not archived). Audited; ``customer_restored``."""
    caller.require_any(domain.RESTORE_ROLES, "restore archived customers")
    customer_id = domain.parse_id(customer_id, "customer_id")
    with db.transaction() as uow:
        s = uow.session
        row = _visible_for_write(s, caller, customer_id)
        if row["archived_at"] is None:
            raise Conflict(f"Customer {row['code']} is not archived", {"customer_id": customer_id})
        old_at = row["archived_at"]
        now = utcnow()
        s.execute(
            update(m.customers)
            .where(C.id == customer_id)
            .values(archived_at=None, archived_by=None, updated_at=now)
        )
        uow.audit("customer", customer_id, "restore", {"archived_at": [old_at.isoformat(), None]})
        row.update(archived_at=None, archived_by=None, updated_at=now)
        uow.publish(ev.CUSTOMER_RESTORED, _event_payload({**row, "archived_by": caller.actor}))
        return dump_customer(row, contacts_of(s, [customer_id])[customer_id])


def _red_list_access(caller: CallerContext) -> domain.Access:
    caller.require_any(domain.RED_LIST_ROLES, "put customers on the red list or take them off")
    return domain.read_access(caller)  # every one of those roles reads every customer


def red_list_customer(db, caller: CallerContext, customer_id: Any, data: Any) -> dict:
    """``data = {"reason": text}`` (required, ≤ 1000 characters). Puts the customer on the red
    list (again: the reason, who and when are replaced). Audited; ``customer_updated``."""
    access = _red_list_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    if not isinstance(data, dict):
        raise ValidationFailed.field("reason", "a reason is required")
    unknown = sorted(set(data) - {"reason"})
    if unknown:
        raise ValidationFailed("Unknown fields", {k: ["unknown field"] for k in unknown})
    problem = domain.red_list_reason_problem(data.get("reason"))
    if problem:
        raise ValidationFailed.field("reason", problem)
    reason = data["reason"].strip()
    return _set_red_list(db, caller, access, customer_id, True, reason)


def clear_red_list(db, caller: CallerContext, customer_id: Any) -> dict:
    """Takes the customer off the red list (a customer not on it is returned unchanged)."""
    access = _red_list_access(caller)
    customer_id = domain.parse_id(customer_id, "customer_id")
    return _set_red_list(db, caller, access, customer_id, False, None)


def _set_red_list(db, caller, access, customer_id: int, listed: bool, reason: str | None) -> dict:
    with db.transaction() as uow:
        s = uow.session
        old = visible_customer(s, customer_id, access, for_update=True)
        if not listed and not old["red_listed"]:
            return dump_customer(old, contacts_of(s, [customer_id])[customer_id])
        now = utcnow()
        values = {"red_listed": listed, **domain_red_list_columns(listed, reason, now, caller.actor)}
        s.execute(update(m.customers).where(C.id == customer_id).values(**values, updated_at=now))
        changes = {k: [old[k], values[k]] for k in ("red_listed", "red_list_reason") if old[k] != values[k]}
        new = {**old, **values, "updated_at": now}
        uow.audit("customer", customer_id, "red_list" if listed else "red_list_clear", changes)
        if changes:
            uow.publish(ev.CUSTOMER_UPDATED, updated_payload(new, changes))
        return dump_customer(new, contacts_of(s, [customer_id])[customer_id])


def customer_flags(db, caller: CallerContext, customer_ids: Any) -> list[dict]:
    """``[{id, code, name, archived, archived_at, red_listed, red_list_reason, red_listed_at,
    red_listed_by}]`` of the given (≤ 1000, not deleted) customers, whoever owns them: other
    services ask it to enforce the archive and the red list for every caller (a rep's contract
    submit included). Any internal caller; portal users and unknown roles 403."""
    internal = caller.has_any(domain.READ_ALL_ROLES + domain.OWN_ROLES)
    if not caller.authenticated or not internal or caller.customer_id is not None:
        raise PermissionDenied("Not allowed to read customer flags", {"roles": list(caller.roles)})
    if not isinstance(customer_ids, list) or len(customer_ids) > MAX_FLAG_IDS:
        raise ValidationFailed.field("customer_ids", f"must be a list of at most {MAX_FLAG_IDS} ids")
    ids = sorted({domain.parse_id(i, "customer_ids") for i in customer_ids})
    if not ids:
        return []
    columns = (C.id, C.code, C.name, C.archived_at, C.red_listed, C.red_list_reason, C.red_listed_at,
               C.red_listed_by)  # fmt: skip
    with db.read() as s:
        rows = s.execute(select(*columns).where(C.id.in_(ids), C.deleted_at.is_(None)).order_by(C.id))
        return [
            {
                "id": r.id,
                "code": r.code,
                "name": r.name,
                "archived": r.archived_at is not None,
                "archived_at": r.archived_at.isoformat() if r.archived_at else None,
                "red_listed": bool(r.red_listed),
                "red_list_reason": r.red_list_reason,
                "red_listed_at": r.red_listed_at.isoformat() if r.red_listed_at else None,
                "red_listed_by": r.red_listed_by,
            }
            for r in rows
        ]
