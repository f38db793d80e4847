"""Terminations that change what the customer owes, and the contract archive.

* A termination effective before today, or on or before the end of a period billing already
  invoiced (``contract_invoices.period_end``, from ``invoice_issued``), would make billing credit
  what it billed: for anyone but an admin it is a ``termination`` document (an amendment whose ``changes`` hold
  ``{"termination": {"effective_date", "reason"}}``) that the approvals service decides
  (``termination_submitted``); approved, the contract is terminated as an admin's termination is
  (``contract_terminated``); rejected or withdrawn, nothing changes. A termination from today on
  applies at once.
* A contract whose amounts finance locked is never terminated (409), nor is a pending
  termination applied while they are locked (the amendment ``failed``, with the reason).
* ``archive``: an ended contract (expired, terminated, cancelled, renewed) becomes ``archived``:
  read-only (every change is a 409 from the lifecycle) and left out of lists unless
  ``include_archived``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import Conflict, ValidationFailed, load_or_raise
from crm_common.paging import parse_date, parse_id
from sqlalchemy import func, insert, select

from . import domain, usecases
from . import events as ev
from . import models as m

C = m.contracts.c
A = m.amendments.c
KIND = "termination"


def is_admin(caller: CallerContext) -> bool:
    return caller.is_system or caller.has_any(("admin",))


def check_term(row: Mapping[str, Any], effective: dt.date) -> None:
    if not row["start_date"] <= effective <= row["end_date"]:
        raise ValidationFailed.field(
            "effective_date", f"must lie inside the contract term {row['start_date']} – {row['end_date']}"
        )


def terminate_now(uow, row: Mapping[str, Any], effective: dt.date, reason: str, **extra: Any) -> None:
    """approved / active → terminated from ``effective``; billing stops there (it settles
    periods already invoiced, never touching a locked invoice), inventory releases what it
    reserved."""
    status = domain.transition(row["status"], "terminate", row["number"])
    usecases.set_status(uow, row, status, "terminate", status_reason=reason, termination_date=effective,
                        ended_at=utcnow())  # fmt: skip
    usecases.publish_contract_event(uow, ev.CONTRACT_TERMINATED, row["id"], reason=reason,
                                    effective_date=effective.isoformat(), **extra)  # fmt: skip


def invoiced_through(s, contract_id: int) -> dt.date | None:
    """The last day of the periods billing invoiced for the contract (from its ``invoice_issued``
    events; a voided invoice does not count), or ``None``."""
    INV = m.contract_invoices.c
    return s.execute(
        select(func.max(INV.period_end)).where(INV.contract_id == contract_id, INV.status != "void")
    ).scalar()


def termination_of(a: Mapping[str, Any]) -> dict | None:
    """The termination an amendment carries, or ``None`` for another change order."""
    changes = a.get("changes") or {}
    found = changes.get(KIND) if isinstance(changes, Mapping) else None
    return found if isinstance(found, dict) else None


def terminate_contract(db, caller: CallerContext, contract_id: Any, data: Any) -> dict:
    """Terminate an approved or active contract from ``effective_date`` (inside its term). From
    today on, or by an admin: at once. Back-dated by anyone else: a termination request awaiting
    approval — the contract as it is, with ``termination_request`` (the pending amendment).
    Locked amounts, or another change order pending: 409, nothing written."""
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    v = load_or_raise(usecases.terminate_in, data)
    effective: dt.date = v["effective_date"]
    with db.transaction() as uow:
        s = uow.session
        row = usecases.writable_contract(s, contract_id, access)
        domain.transition(row["status"], "terminate", row["number"])
        check_term(row, effective)
        domain.check_amounts_unlocked(row, "terminate")
        pending = usecases.pending_amendment(s, contract_id)
        if pending is not None:
            what = "a termination" if termination_of(pending) else f"amendment {pending['number']}"
            raise Conflict(
                f"Contract {row['number']} already has {what} waiting for approval",
                {"amendment_id": pending["id"]},
            )
        through = invoiced_through(s, contract_id)
        if not domain.termination_needs_approval(effective, usecases.today(), is_admin(caller), through):
            terminate_now(uow, row, effective, v["reason"])
            return usecases.contract_view(s, usecases.visible_contract(s, contract_id, access))
        request = submit_termination(uow, caller, row, effective, v["reason"])
        view = usecases.contract_view(s, usecases.visible_contract(s, contract_id, access))
        return {**view, "termination_request": request}


def submit_termination(
    uow, caller: CallerContext, row: Mapping[str, Any], effective: dt.date, reason: str
) -> dict:
    s = uow.session
    contract_id = row["id"]
    n = usecases.next_values(s, f"amendment:{contract_id}")[0]
    now = utcnow()
    values = {
        "contract_id": contract_id,
        "number": domain.amendment_number(row["number"], n),
        "status": domain.PENDING,
        "reason": reason,
        "impact": f"Terminated from {effective.isoformat()}, before today: invoiced periods from then on are credited",
        "effective_date": effective,
        "changes": {"changes": {}, "add_lines": [], "remove_line_ids": [], "change_lines": [],
                    KIND: {"effective_date": effective.isoformat(), "reason": reason}},
        "amount_before": row["total"],
        "amount_after": row["total"],
        "from_version": row["version"],
        "created_at": now,
        "created_by": caller.actor,
        "created_by_id": caller.user_id,
    }  # fmt: skip
    aid = s.execute(insert(m.amendments).values(**values).returning(A.id)).scalar_one()
    uow.audit("amendment", aid, "submit_termination",
              {"contract_id": [None, contract_id], "effective_date": [None, effective.isoformat()]})  # fmt: skip
    amendment = {**values, "id": aid, "batch_id": None, "approval_id": None, "to_version": None,
                 "comment": None, "decided_at": None}  # fmt: skip
    view = usecases.amendment_view(amendment)
    uow.publish(
        ev.TERMINATION_SUBMITTED,
        {
            "document_type": ev.DOC_TERMINATION,
            "document_id": aid,
            "submitter_id": caller.user_id,
            "amount": usecases.money(row["total"], row["currency"]),
            "currency": row["currency"],
            "department": row["department"],
            "company": row["company"],
            "contract_kind": row["kind"],
            "summary": f"Terminate {row['number']} {row['title']} — {row['customer_name']} from "
            f"{effective.isoformat()}: {reason}",
            "contract_id": contract_id,
            "contract_number": row["number"],
            "owner_id": row["owner_id"],
            "customer_id": row["customer_id"],
            "customer_name": row["customer_name"],
            "effective_date": effective.isoformat(),
            "amendment": view,
        },
    )
    return view


def decide_termination(db, amendment_id: int, outcome: str, decision: Mapping[str, Any]) -> str:
    """The approvals service decided a termination request: approved → the contract is
    terminated from the requested date (unless it left force, its amounts got locked or its term
    no longer holds the date: the request ``failed``, with the reason); rejected / withdrawn →
    nothing changes. A decided request is left alone (at-least-once delivery)."""
    with db.transaction() as uow:
        done, opened = usecases.open_decision(
            uow, amendment_id, outcome, decision, "termination", lambda a: termination_of(a) is not None
        )
        if opened is None:
            return done or "nothing to do"
        a, base, row = opened
        term = termination_of(a) or {}
        effective = parse_date(term.get("effective_date"), "effective_date")
        reason = None
        if row is None or row["status"] not in domain.IN_FORCE:
            reason = f"contract is {row['status'] if row else 'gone'}: not terminated"
        elif row["amounts_locked"]:
            reason = "the contract's amounts are locked by finance: not terminated"
        elif not row["start_date"] <= effective <= row["end_date"]:
            reason = f"{effective} no longer lies inside the term {row['start_date']} – {row['end_date']}"
        if reason is not None or row is None:
            usecases.close_decision(uow, amendment_id, base, "failed", reason)
            return reason or "failed"
        usecases.close_decision(uow, amendment_id, base, "applied")
        terminate_now(uow, row, effective, term.get("reason") or a["reason"],
                      approval_id=base["approval_id"], amendment_id=amendment_id)  # fmt: skip
        return "terminated"


def archive_contract(db, caller: CallerContext, contract_id: Any) -> dict:
    """expired / terminated / cancelled / renewed → archived (read-only, hidden from lists
    unless ``include_archived``); anything else: 409."""
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.transaction() as uow:
        s = uow.session
        row = usecases.writable_contract(s, contract_id, access)
        status = domain.transition(row["status"], "archive", row["number"])
        usecases.set_status(uow, row, status, "archive")
        usecases.publish_contract_event(uow, ev.CONTRACT_ARCHIVED, contract_id, archived_from=row["status"])
        return usecases.contract_view(s, usecases.visible_contract(s, contract_id, access))
