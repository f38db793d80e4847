"""``GET /api/v1/contracts/{id}/overview`` — contract 360: the contract with its customer,
approvals, invoices, payments, units and open tasks in one response.

The gateway only composes: it reads the contract (the contracts service decides whether the
caller may see it: 404 / 403 end the request), then asks every other service in parallel, each
with the caller's own context, so every part is scoped by its owner. A part the caller's role may
not read is ``null`` and named in ``forbidden``; a part whose service does not answer is ``null``
and named in ``unavailable``. Collection tasks hang on invoices, so the open tasks of the
contract's unpaid invoices are asked for in a second, also parallel, round."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import Rpc
from ..errors import Parts
from ..rpc import Call
from ..schemas import ErrorBody
from ..views_contracts import ContractOverview
from ..views_core import ok
from .contracts import cid

router = APIRouter(
    prefix="/contracts",
    tags=["contracts"],
    responses={403: {"model": ErrorBody}, 404: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)

LIMIT = 100  # items per part; ``total`` says when there are more (the part's own list has them all)
UNPAID = ("issued", "partially_paid", "overdue")
MAX_INVOICE_TASK_LOOKUPS = 24


def _open_tasks(page: dict | None) -> list[dict]:
    return [t for t in (page or {}).get("items", []) if t.get("status") == "open"]


@router.get("/{contract_id}/overview", responses=ok(ContractOverview))
async def get_contract_overview(contract_id: str, rpc: Rpc) -> Any:
    """``{"contract", "customer", "approvals", "invoices", "payments", "units", "tasks",
    "forbidden", "unavailable"}``; the list parts are ``{"items", "total"}`` (at most 100 items)."""
    contract = await rpc.contracts.get_contract(cid(contract_id))
    ident = contract["id"]
    calls = {
        "customer": Call("customers", "get_customer", (contract["customer_id"],)),
        "approvals": Call(
            "approvals",
            "list_approvals",
            ({"document_type": "contract", "document_id": str(ident)}, 1, LIMIT),
        ),
        "invoices": Call("billing", "list_invoices", ({"contract_id": ident}, 1, LIMIT)),
        "payments": Call("billing", "list_payments", ({"contract_id": ident}, 1, LIMIT)),
        "units": Call("inventory", "list_units", ({"contract_id": ident}, 1, LIMIT)),
        "tasks": Call(
            "notify",
            "list_tasks",
            ({"document_type": "contract", "document_id": str(ident), "status": "open"}, 1, LIMIT),
        ),
    }
    parts = Parts(tolerate=(403, 404))  # 404: e.g. the customer was deleted since
    results = await rpc.call_many(calls.values())
    out = {name: parts.take(name, result) for name, result in zip(calls, results, strict=True)}

    unpaid = [i["id"] for i in (out["invoices"] or {}).get("items", []) if i.get("status") in UNPAID]
    tasks = _open_tasks(out["tasks"])
    if unpaid and out["tasks"] is not None:
        more = await rpc.call_many(
            Call(
                "notify",
                "list_tasks",
                ({"document_type": "invoice", "document_id": str(i), "status": "open"}, 1, 20),
            )
            for i in unpaid[:MAX_INVOICE_TASK_LOOKUPS]
        )
        for result in more:
            tasks += _open_tasks(parts.take("tasks", result))
    if out["tasks"] is not None:
        out["tasks"] = {"items": tasks, "total": len(tasks)}
    return {
        "contract": contract,
        **out,
        "forbidden": sorted(set(parts.forbidden)),
        "unavailable": sorted(set(parts.unavailable)),
    }
