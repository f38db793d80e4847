"""Billing runs, billing schedules, tax rates and customer balances — owned by the ``billing``
service; each route is named after the RPC it calls and passes the service's JSON through.

The roles of every billing route module are here: finance and administrators write; every role
but ``warehouse`` reads invoices, credit notes and payments (the service narrows sales reps to the
customers they own and portal users to their own customer's issued documents); sales managers
and reps also record payments, which stay pending until finance confirms them; runs, schedules,
tax rates and reports are for staff, not portal users. The service checks all of it again."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from ..deps import Pagination, Rpc, Settings, require_roles
from ..listing import sortable
from ..schemas import ErrorBody
from ..schemas_billing import BillingRunCreate, CorrectionDecision, TaxRateSet
from ..views_billing import (
    BillingRunPage,
    BillingRunPublic,
    CustomerBalance,
    PendingCorrection,
    PendingCorrectionPage,
    SchedulePublic,
    TaxRateList,
    TaxRateSetResult,
)
from .contract_progress import int_id

STAFF = ("admin", "finance", "sales_manager", "sales_rep", "approver", "readonly")
BILLING_WRITERS = Depends(require_roles("admin", "finance"))
BILLING_READERS = Depends(require_roles(*STAFF, "portal"))
STAFF_READERS = Depends(require_roles(*STAFF))
# sales managers and reps record payments too: pending until finance confirms them
PAYMENT_RECORDERS = Depends(require_roles("admin", "finance", "sales_manager", "sales_rep"))

# the service's default wait for a run when the request names none
DEFAULT_RUN_WAIT_SECONDS = 20.0

BILLING_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    422: {"model": ErrorBody},
    503: {"model": ErrorBody},
    504: {"model": ErrorBody},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
STATE: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 409: {"model": ErrorBody}}

router = APIRouter(prefix="/billing", tags=["billing"], responses=BILLING_ERRORS)


@router.post(
    "/runs",
    status_code=201,
    dependencies=[BILLING_WRITERS],
    responses={
        201: {
            "model": BillingRunPublic,
            "description": "the run finished within wait_seconds (completed or failed)",
        },
        202: {
            "model": BillingRunPublic,
            "description": "the run is still going: poll GET /billing/runs/{id}",
        },
    },
)
async def start_billing_run(body: BillingRunCreate, rpc: Rpc, settings: Settings) -> Any:
    """Bill every schedule with a period due on or before ``as_of``. The answer is the run
    ``{id, status, contracts_due, contracts_processed, invoices_created, credit_notes_created,
    failures, progress, ...}``: 201 once finished, 202 (with ``Location``) while it still runs."""
    wait = body.wait_seconds if body.wait_seconds is not None else DEFAULT_RUN_WAIT_SECONDS
    data = {"as_of": body.as_of.isoformat(), "wait_seconds": wait}
    # the service answers after at most ``wait`` seconds: the call may take that long plus the
    # ordinary allowance of any call (a run longer than that answers 202, it is not cut off)
    timeout = wait + settings.crm_rpc_timeout
    run = await rpc.call("billing", "start_billing_run", data, timeout=timeout)
    if isinstance(run, dict) and run.get("status") == "running":
        return JSONResponse(run, status_code=202, headers={"Location": f"/api/v1/billing/runs/{run['id']}"})
    return JSONResponse(run, status_code=201)


BillingRunSort = sortable("as_of", "status", "started_at", "finished_at", "id")


@router.get("/runs", dependencies=[STAFF_READERS], responses={200: {"model": BillingRunPage}})
async def list_billing_runs(rpc: Rpc, page: Pagination, sort: BillingRunSort) -> Any:
    """Billing runs, newest first."""
    return await rpc.billing.list_billing_runs(page.page, page.page_size, **sort.kwargs())


@router.get(
    "/runs/{run_id}", dependencies=[STAFF_READERS], responses={200: {"model": BillingRunPublic}, **NOT_FOUND}
)
async def get_billing_run(run_id: str, rpc: Rpc) -> Any:
    """A run with its counts, failures and progress (0..1)."""
    return await rpc.billing.get_billing_run(int_id(run_id, "Billing run"))


@router.get(
    "/schedules/{contract_id}",
    dependencies=[STAFF_READERS],
    responses={200: {"model": SchedulePublic}, **NOT_FOUND},
)
async def get_schedule(contract_id: str, rpc: Rpc) -> Any:
    """The billing schedule of a contract: its terms, segments, cursor and every period
    (``invoiced`` with its invoice, ``due`` or ``planned``) with its exact amount."""
    return await rpc.billing.get_schedule(int_id(contract_id, "Contract"))


@router.get("/tax-rates", dependencies=[STAFF_READERS], responses={200: {"model": TaxRateList}})
async def list_tax_rates(rpc: Rpc) -> Any:
    """``{"items": [{"key", "percent", "updated_by", "updated_at"}], "fallback_percent"}``."""
    return await rpc.billing.list_tax_rates()


@router.put("/tax-rates/{key}", dependencies=[BILLING_WRITERS], responses={200: {"model": TaxRateSetResult}})
async def set_tax_rate(
    body: TaxRateSet,
    rpc: Rpc,
    key: str = Path(max_length=210, description='"default", "kind:<product kind>" or "category:<category>"'),
) -> Any:
    """Set the rate of a key (``percent: null`` removes it). Contract lines take the most
    specific rate: category, then kind, then the default."""
    return await rpc.billing.set_tax_rate({"key": key, "percent": body.percent})


@router.get(
    "/customers/{customer_id}/balance",
    dependencies=[BILLING_READERS],
    responses={200: {"model": CustomerBalance}, **NOT_FOUND},
)
async def customer_balance(customer_id: str, rpc: Rpc) -> Any:
    """``{"customer_id", "currencies": {"EUR": {"open", "overdue", "credit"}}}``."""
    return await rpc.billing.customer_balance(int_id(customer_id, "Customer"))


CorrectionSort = sortable("created_at", "status", "kind", "amount", "decided_at", "id")


@router.get(
    "/pending-corrections", dependencies=[BILLING_WRITERS], responses={200: {"model": PendingCorrectionPage}}
)
async def list_pending_corrections(
    rpc: Rpc,
    page: Pagination,
    sort: CorrectionSort,
    status: Literal["pending", "applied", "dismissed", "all"] = "pending",
    invoice_id: Annotated[int | None, Query(ge=1)] = None,
    contract_id: Annotated[int | None, Query(ge=1)] = None,
) -> Any:
    """Finance's queue: what billing runs would have credited on invoices finance locked (billing
    never credits or adjusts a locked invoice), with the reason; oldest first. Each is applied
    when the invoice is unlocked, or by ``/apply``."""
    values = {"status": status, "invoice_id": invoice_id, "contract_id": contract_id}
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.billing.list_pending_corrections(filters, page.page, page.page_size, **sort.kwargs())


@router.post(
    "/pending-corrections/{correction_id}/apply",
    dependencies=[BILLING_WRITERS],
    responses={200: {"model": PendingCorrection}, **STATE},
)
async def apply_pending_correction(
    correction_id: str, rpc: Rpc, body: CorrectionDecision | None = None
) -> Any:
    """Finance approves it: the credit note is issued now, even on the locked invoice."""
    data = {"comment": body.comment} if body else {}
    return await rpc.billing.apply_pending_correction(int_id(correction_id, "Pending correction"), data)


@router.post(
    "/pending-corrections/{correction_id}/dismiss",
    dependencies=[BILLING_WRITERS],
    responses={200: {"model": PendingCorrection}, **STATE},
)
async def dismiss_pending_correction(
    correction_id: str, rpc: Rpc, body: CorrectionDecision | None = None
) -> Any:
    """Finance keeps the invoice as it is: the correction is dismissed."""
    data = {"comment": body.comment} if body else {}
    return await rpc.billing.dismiss_pending_correction(int_id(correction_id, "Pending correction"), data)
