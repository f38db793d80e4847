"""Opportunities (the sales funnel), owned by the ``customers`` service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..deps import Pagination, Rpc, path_id
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody, OpportunityCreate, OpportunityUpdate, Stage
from ..views_core import OpportunityPage, OpportunityPublic, ok

router = APIRouter(
    prefix="/opportunities",
    tags=["opportunities"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND = {404: {"model": ErrorBody}}


@router.post(
    "",
    dependencies=[IDEMPOTENCY_HEADER],
    status_code=201,
    responses={**ok(OpportunityPublic, 201), **NOT_FOUND},
)
async def create_opportunity(body: OpportunityCreate, rpc: Rpc) -> Any:
    return await rpc.customers.create_opportunity(body.data())


OpportunitySort = sortable(
    "title", "stage", "amount", "expected_close", "probability", "created_at", "updated_at", "id"
)


@router.get("", responses={**ok(OpportunityPage), **NOT_FOUND})  # a customer_id that cannot exist
async def list_opportunities(
    rpc: Rpc,
    page: Pagination,
    sort: OpportunitySort,
    stage: Stage | None = None,
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    filters: dict[str, Any] = {}
    if stage is not None:
        filters["stage"] = stage
    if owner_id is not None:
        filters["owner_id"] = owner_id
    if customer_id is not None:
        filters["customer_id"] = path_id(customer_id, "Customer")
    return await rpc.customers.list_opportunities(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/{opportunity_id}", responses={**ok(OpportunityPublic), **NOT_FOUND})
async def get_opportunity(opportunity_id: str, rpc: Rpc) -> Any:
    return await rpc.customers.get_opportunity(path_id(opportunity_id, "Opportunity"))


@router.patch(
    "/{opportunity_id}", responses={**ok(OpportunityPublic), **NOT_FOUND, 409: {"model": ErrorBody}}
)
async def update_opportunity(opportunity_id: str, body: OpportunityUpdate, rpc: Rpc) -> Any:
    return await rpc.customers.update_opportunity(path_id(opportunity_id, "Opportunity"), body.data())
