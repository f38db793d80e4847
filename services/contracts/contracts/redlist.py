"""The customers service's archive and red list, as contracts see them (issue 17 §3–4).

* :func:`check_submit` — before a draft is submitted: a customer on the red list stops it
  (409) unless a sales manager or an admin overrides it with a reason
  (``{"override_red_list": "reason"}``); the override is kept in the contract's audit trail and
  told to the approver (:func:`contracts.usecases.submit_contract`). An archived customer's draft
  is not submitted either (409). The customer's flags are asked of the customers service
  (``customer_flags``, whoever owns the customer) at submit time: contracts keep no copy.
* :func:`with_customer_flags` — the single contract view gets ``customer_red_listed`` (and
  ``customer_archived``), one RPC at read time; lists do not carry them.
* :func:`customer_activity` — what the customers service asks before deleting a customer.
"""

from __future__ import annotations

import logging
from typing import Any

from crm_common.context import CallerContext
from crm_common.errors import Conflict, PermissionDenied, ValidationFailed
from crm_common.paging import parse_id
from sqlalchemy import func, select

from . import domain
from . import models as m

log = logging.getLogger(__name__)

C = m.contracts.c
OVERRIDE_ROLES = ("sales_manager", "admin")
REASON_LIMIT = 2000


def customer_activity(db, caller: CallerContext, customer_id: Any) -> dict:
    """``{"customer_id", "contracts": n, "contracts_by_status": {status: n}}`` — every contract
    of the customer whoever owns it (read-only counts, no contract data). Internal callers only:
    portal users and unknown roles 403."""
    access = domain.read_access(caller)
    if access.customer_id is not None:
        raise PermissionDenied("Not allowed to count a customer's contracts")
    customer_id = parse_id(customer_id, "customer_id")
    with db.read() as s:
        rows = s.execute(
            select(C.status, func.count()).where(C.customer_id == customer_id).group_by(C.status)
        ).all()
    by_status = {status: n for status, n in sorted(rows)}
    return {
        "customer_id": customer_id,
        "contracts": sum(by_status.values()),
        "contracts_by_status": by_status,
    }


def override_reason(data: Any) -> str | None:
    """The body of a submit: nothing, ``{}`` or ``{"override_red_list": "reason"}``."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ValidationFailed.field("body", "must be an object")
    unknown = sorted(set(data) - {"override_red_list"})
    if unknown:
        raise ValidationFailed("Unknown fields", {k: ["unknown field"] for k in unknown})
    reason = data.get("override_red_list")
    if reason is None:
        return None
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed.field("override_red_list", "a reason is required")
    if len(reason) > REASON_LIMIT:
        raise ValidationFailed.field("override_red_list", f"must be at most {REASON_LIMIT} characters")
    return reason.strip()


def _flags(customers_rpc: Any, customer_id: int) -> dict | None:
    found = customers_rpc.customer_flags([customer_id])
    return found[0] if found else None


def check_submit(db, caller: CallerContext, customers_rpc: Any, contract_id: Any, data: Any) -> dict | None:
    """Before ``submit_contract``: ``None`` (nothing to record) or the red-list override to keep.
    The contract's own checks (scope, status) come first so their errors win; the customer's
    flags are asked outside any transaction."""
    from .usecases import writable_contract

    reason = override_reason(data)
    access = domain.write_access(caller)
    contract_id = parse_id(contract_id, "contract_id")
    with db.read() as s:
        row = writable_contract(s, contract_id, access, for_update=False)
        domain.transition(row["status"], "submit", row["number"])
    flags = _flags(customers_rpc, row["customer_id"])
    if flags is None:  # the customer was deleted: nothing to stop
        return None
    code = flags.get("code") or row["customer_id"]
    if flags.get("archived"):
        raise Conflict(
            f"Customer {code} is archived: its contracts cannot be submitted (restore it first)",
            {"customer_id": row["customer_id"], "archived": True},
        )
    if not flags.get("red_listed"):
        return None
    if reason is None:
        raise Conflict(
            f"Customer {code} is on the red list: a sales manager may submit it with override_red_list",
            {
                "customer_id": row["customer_id"],
                "red_listed": True,
                "red_list_reason": flags.get("red_list_reason"),
                "override_red_list": ["a sales manager's reason is required"],
            },
        )
    caller.require_any(OVERRIDE_ROLES, "override the red list")
    return {"reason": reason, "red_list_reason": flags.get("red_list_reason"), "by": caller.actor}


def with_customer_flags(view: dict, customers_rpc: Any, caller: CallerContext) -> dict:
    """The single contract view with ``customer_red_listed`` / ``customer_archived`` (one RPC);
    a portal caller's view is left as it is, and when the customers service cannot say the
    fields are ``None`` (unknown) rather than failing the read."""
    if caller.customer_id is not None or "portal" in caller.roles:
        return view
    try:
        flags = _flags(customers_rpc, view["customer_id"])
    except Exception as exc:  # noqa: BLE001 — a decoration of the read never fails it
        log.warning("customer flags of contract %s unavailable: %s", view.get("id"), exc)
        flags = {}
    flags = flags if flags is not None else {"red_listed": False, "archived": False}
    view["customer_red_listed"] = flags.get("red_listed")
    view["customer_archived"] = flags.get("archived")
    view["customer_red_list_reason"] = flags.get("red_list_reason")
    return view
