"""Contract progress — owned by the ``contracts`` service: delivery milestones of a contract
(planned date, weight, percent complete), its progress (delivered vs plan, invoiced and paid as
billing reported it) and the list of contracts with their progress. Each route is named after
the RPC it calls and passes the service's JSON through; the service enforces record scopes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from ..deps import Pagination, Rpc, path_id, require_roles
from ..errors import ApiError
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody, IsoDate
from ..schemas_contract_progress import ContractStatus, MilestoneCreate, MilestoneUpdate
from ..views_contracts import ContractProgress, MilestoneList, MilestonePublic, ProgressPage
from ..views_core import ok

MILESTONE_WRITERS = Depends(require_roles("admin", "sales_manager", "sales_rep"))

router = APIRouter(
    tags=["contract progress"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
CHANGES: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorBody},
    409: {"model": ErrorBody, "description": "the contract is cancelled"},
}


def int_id(value: str, what: str) -> int:
    """Contracts and milestones have integer ids: anything else cannot exist (404)."""
    found = path_id(value, what)
    if not isinstance(found, int):
        raise ApiError(404, f"{what} {value!r} not found", {"id": value})
    return found


@router.post(
    "/contracts/{contract_id}/milestones",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, MILESTONE_WRITERS],
    responses={**ok(MilestonePublic, 201), **CHANGES},
)
async def add_milestone(contract_id: str, body: MilestoneCreate, rpc: Rpc) -> Any:
    """A delivery milestone of the contract; ``planned_date`` inside the contract term."""
    return await rpc.contracts.add_milestone(int_id(contract_id, "Contract"), body.data())


@router.get("/contracts/{contract_id}/milestones", responses={**ok(MilestoneList), **NOT_FOUND})
async def list_milestones(contract_id: str, rpc: Rpc) -> Any:
    """``{"contract_id", "items", "total"}``, in plan order."""
    return await rpc.contracts.list_milestones(int_id(contract_id, "Contract"))


@router.patch(
    "/contracts/{contract_id}/milestones/{milestone_id}",
    dependencies=[MILESTONE_WRITERS],
    responses={**ok(MilestonePublic), **CHANGES},
)
async def update_milestone(contract_id: str, milestone_id: str, body: MilestoneUpdate, rpc: Rpc) -> Any:
    return await rpc.contracts.update_milestone(
        int_id(contract_id, "Contract"), int_id(milestone_id, "Milestone"), body.data()
    )


@router.delete(
    "/contracts/{contract_id}/milestones/{milestone_id}",
    status_code=204,
    dependencies=[MILESTONE_WRITERS],
    responses=CHANGES,
)
async def delete_milestone(contract_id: str, milestone_id: str, rpc: Rpc) -> Response:
    """204 No Content once the service has removed it."""
    await rpc.contracts.delete_milestone(int_id(contract_id, "Contract"), int_id(milestone_id, "Milestone"))
    return Response(status_code=204)


@router.get("/contracts/{contract_id}/progress", responses={**ok(ContractProgress), **NOT_FOUND})
async def get_progress(
    contract_id: str,
    rpc: Rpc,
    as_of: Annotated[
        IsoDate | None, Query(description="the day the plan is measured on (default today)")
    ] = None,
) -> Any:
    """``{"contract_id", "as_of", "term_value", "delivery": {"actual_percent", "planned_percent",
    "behind", "overdue", "items"}, "billing": [{"currency", "invoiced", "paid", "outstanding",
    "invoices", "overdue_invoices", "percent_invoiced", "percent_paid"}], "invoices"}``."""
    return await rpc.contracts.get_progress(
        int_id(contract_id, "Contract"), as_of.isoformat() if as_of is not None else None
    )


ProgressSort = sortable("number", "title", "customer_name", "status", "start_date", "end_date", "id")


@router.get("/contract-progress", responses=ok(ProgressPage))
async def list_progress(
    rpc: Rpc,
    page: Pagination,
    sort: ProgressSort,
    behind: Annotated[
        bool | None, Query(description="true: only contracts behind plan; false: on plan")
    ] = None,
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: ContractStatus | None = None,
    as_of: IsoDate | None = None,
) -> Any:
    """Contracts with milestones the caller may see, with actual vs planned percent."""
    values = {
        "behind": behind,
        "owner_id": owner_id,
        "customer_id": customer_id,
        "status": status,
        "as_of": as_of.isoformat() if as_of is not None else None,
    }
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.contracts.list_progress(filters, page.page, page.page_size, **sort.kwargs())
