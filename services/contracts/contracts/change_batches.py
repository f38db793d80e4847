"""Co-termination and restructuring of contracts in force under ONE approval, as bulk price
updates are (:func:`contracts.bulk.submit_price_batch`): both change what customers owe, so for
anyone but an admin they become a batch (``amendment_batches`` of kind ``co_terminate`` or
``restructure``) with one pending amendment per contract in force it touches, and a
``change_batch_submitted`` event (document type ``change_batch``). While the batch waits, those
contracts take no other change order (their amendment is pending).

Approved: the operation runs as it was asked, with the submitter's scope, against the contracts
as they are then (one transaction); what it changed is ``applied``, contracts it now skips are
``failed`` with the reason; an operation that no longer holds as a whole (restructure: a 409 or
422 now) fails the batch, changing nothing. Rejected or withdrawn: nothing changes. A decided
batch is left alone (at-least-once delivery).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from crm_common.context import CallerContext
from crm_common.db import utcnow
from crm_common.errors import Conflict, CrmError
from sqlalchemy import insert, select, update

from . import bulk, domain
from . import events as ev
from . import models as m

log = logging.getLogger(__name__)

A = m.amendments.c
B = m.amendment_batches.c
KINDS = ("co_terminate", "restructure")


def direct(caller: CallerContext) -> bool:
    """Admins (and the system) change contracts in force at once; others through approval."""
    return caller.is_system or caller.has_any(("admin",))


def json_ready(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value


class NeedsApproval(Exception):
    """Raised inside a non-admin's restructure of contracts in force: the transaction rolls back
    (the checks passed, nothing is kept) and the caller submits a batch instead."""

    def __init__(self, contract_ids: Sequence[int]):
        super().__init__("needs approval")
        self.contract_ids = list(contract_ids)


def submit(
    uow,
    caller: CallerContext,
    access: domain.Access,
    kind: str,
    params: Mapping[str, Any],
    rows: Mapping[int, Mapping[str, Any]],
    changes: Mapping[int, dict],
    summary_text: str,
    summary: Mapping[str, Any],
) -> int:
    """One batch of ``kind`` for the contracts of ``changes`` (id → {"impact", "changes"}): their
    amendments pending, ``change_batch_submitted`` published; returns the batch id. 409 when one
    of them has another change order pending (nothing written)."""
    s = uow.session
    ids = sorted(changes)
    bulk.lock_contracts(s, ids)
    pending = bulk.pending_amendment_ids(s, ids)
    if pending:
        numbers = sorted(rows[c]["number"] for c in pending)
        raise Conflict(
            f"Contract {numbers[0]} has a change order pending approval", {"contract_ids": sorted(pending)}
        )
    now = utcnow()
    stored = {**json_ready(params), "scope_owner_id": access.owner_id}
    batch_id = s.execute(
        insert(m.amendment_batches)
        .values(kind=kind, status=domain.PENDING, params=stored, summary=json_ready(dict(summary)),
                created_at=now, created_by=caller.actor, created_by_id=caller.user_id)
        .returning(B.id)
    ).scalar_one()  # fmt: skip
    numbers = bulk.next_amendment_numbers(s, {cid: rows[cid]["number"] for cid in ids})
    amendments = [
        {
            "contract_id": cid,
            "number": numbers[cid],
            "status": domain.PENDING,
            "reason": params.get("reason") or summary_text,
            "impact": changes[cid]["impact"],
            "effective_date": dt.date.fromisoformat(stored["effective_date"]),
            "changes": {"changes": changes[cid].get("changes", {}), "add_lines": [], "remove_line_ids": [],
                        "change_lines": [], kind: {"batch_id": batch_id, **changes[cid].get("detail", {})}},
            "amount_before": rows[cid]["total"],
            "amount_after": rows[cid]["total"],
            "batch_id": batch_id,
            "from_version": rows[cid]["version"],
            "created_at": now,
            "created_by": caller.actor,
            "created_by_id": caller.user_id,
        }
        for cid in ids
    ]  # fmt: skip
    for chunk in bulk.chunked(amendments):
        s.execute(insert(m.amendments), list(chunk))
    uow.publish(
        ev.CHANGE_BATCH_SUBMITTED,
        {
            "document_id": batch_id,
            "document_type": ev.DOC_CHANGE_BATCH,
            "submitter_id": caller.user_id,
            "department": caller.department,
            "summary": summary_text,
            "kind": kind,
            "contracts": len(ids),
            "contract_numbers": [rows[c]["number"] for c in ids[: bulk.MAX_CHANGES]],
            "effective_date": stored["effective_date"],
        },
    )
    uow.audit(
        "amendment_batch", batch_id, "submit", {"status": [None, domain.PENDING], "contracts": [0, len(ids)]}
    )
    return batch_id


def pending_result(batch_id: int, rows: Mapping[int, Mapping[str, Any]], ids: Sequence[int]) -> dict:
    return {
        "status": "pending_approval",
        "batch_id": batch_id,
        "contracts_pending": [
            {"contract_id": c, "number": rows[c]["number"]} for c in ids[: bulk.MAX_CHANGES]
        ],
    }


def _finish(s, uow, batch: Mapping[str, Any], status: str, base: dict, summary: dict) -> None:
    s.execute(
        update(m.amendment_batches).where(B.id == batch["id"]).values(status=status, summary=summary, **base)
    )
    uow.audit("amendment_batch", batch["id"], status, {"status": [domain.PENDING, status]})


def decide_change_batch(db, batch_id: int, outcome: str, decision: Mapping[str, Any]) -> str:
    """The approvals service decided a co-termination or restructuring batch (see the module)."""
    now = utcnow()
    base = {"approval_id": decision.get("approval_id"), "comment": decision.get("comment"), "decided_at": now}
    try:
        return _decide(db, batch_id, outcome, base)
    except CrmError as exc:  # the operation no longer holds: everything it did rolled back
        reason = f"not applied: {exc.message}"
    with db.transaction() as uow:
        s = uow.session
        batch = dict(s.execute(select(m.amendment_batches).where(B.id == batch_id)).mappings().one())
        s.execute(
            update(m.amendments)
            .where(A.batch_id == batch_id, A.status == domain.PENDING)
            .values(status="failed", **{**base, "comment": reason})
        )
        _finish(
            s,
            uow,
            batch,
            "failed",
            {**base, "comment": reason},
            {**batch["summary"], "failed_reason": reason},
        )
    return f"{batch['kind']} batch {batch_id}: failed ({reason})"


def _decide(db, batch_id: int, outcome: str, base: dict) -> str:
    with db.transaction() as uow:
        s = uow.session
        batch = (
            s.execute(select(m.amendment_batches).where(B.id == batch_id).with_for_update())
            .mappings()
            .first()
        )
        if batch is None or batch["kind"] not in KINDS:
            log.warning("decision on unknown change batch %s ignored", batch_id)
            return "unknown change batch"
        batch = dict(batch)
        if batch["status"] != domain.PENDING:
            return f"change batch is {batch['status']}: nothing to do"
        mine = (A.batch_id == batch_id) & (A.status == domain.PENDING)
        if outcome != "approved":
            status = "rejected" if outcome == "rejected" else "withdrawn"
            s.execute(update(m.amendments).where(mine).values(status=status, **base))
            _finish(s, uow, batch, status, base, dict(batch["summary"]))
            return status
        amendments = {r.contract_id: r.id for r in s.execute(select(A.contract_id, A.id).where(mine))}
        # no longer pending, so the operation's own "change order pending" checks pass
        s.execute(update(m.amendments).where(mine).values(status="applied", **base))
        params = batch["params"]
        access = domain.Access(owner_id=params.get("scope_owner_id"), user_id=batch["created_by_id"])
        failed: dict[int, str] = {}
        if batch["kind"] == "co_terminate":
            result = bulk.apply_co_terminate(uow, access, params, sorted(amendments))
            failed = {
                x["contract_id"]: x["reason"] for x in result["skipped"] if x["contract_id"] in amendments
            }
        else:
            bulk.run_restructure(uow, access, params)
        rows = [
            {"id": amendments[c], "status": "failed", "comment": f"not applied: {r}"}
            for c, r in failed.items()
        ]
        bulk.update_rows(s, m.amendments, "id", rows)
        summary = {**batch["summary"], "applied_contracts": len(amendments) - len(failed),
                   "skipped_on_apply": [{"contract_id": c, "reason": r} for c, r in failed.items()]}  # fmt: skip
        _finish(s, uow, batch, "applied", base, summary)
        return f"{batch['kind']} batch {batch_id}: applied"
