"""Trade-in applications (a used machine offered against a new one): submitted for approval,
decided by the approvals service (or an approver here), then received into stock — owned by
the ``inventory`` service."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import ErrorBody
from ..schemas_inventory import TradeInCreate, TradeInDecision, TradeInReceive
from ..views_inventory import TradeInPage, TradeInPublic, TradeInReceived

router = APIRouter(
    prefix="/trade-ins",
    tags=["trade-ins"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
STATE: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 409: {"model": ErrorBody}}


@router.post(
    "",
    status_code=201,
    dependencies=[
        IDEMPOTENCY_HEADER,
        Depends(require_roles("admin", "sales_manager", "sales_rep", "warehouse")),
    ],
    responses={201: {"model": TradeInPublic}, 404: {"model": ErrorBody}},
)
async def create_trade_in(body: TradeInCreate, rpc: Rpc) -> Any:
    return await rpc.inventory.create_trade_in(body.data())


TradeInSort = sortable("status", "requested_value", "approved_value", "created_at", "updated_at", "id")


@router.get("", responses={200: {"model": TradeInPage}})
async def list_trade_ins(
    rpc: Rpc,
    page: Pagination,
    sort: TradeInSort,
    status: Literal["submitted", "approved", "rejected", "received"] | None = None,
) -> Any:
    return await rpc.inventory.list_trade_ins(
        {"status": status} if status else {}, page.page, page.page_size, **sort.kwargs()
    )


@router.get("/{trade_in_id}", responses={200: {"model": TradeInPublic}, 404: {"model": ErrorBody}})
async def get_trade_in(trade_in_id: str, rpc: Rpc) -> Any:
    return await rpc.inventory.get_trade_in(path_id(trade_in_id, "Trade-in"))


@router.post(
    "/{trade_in_id}/decision",
    dependencies=[Depends(require_roles("admin", "approver"))],
    responses={200: {"model": TradeInPublic}, **STATE},
)
async def decide_trade_in(trade_in_id: str, body: TradeInDecision, rpc: Rpc) -> Any:
    return await rpc.inventory.decide_trade_in(path_id(trade_in_id, "Trade-in"), body.data())


@router.post(
    "/{trade_in_id}/receive",
    dependencies=[Depends(require_roles("admin", "warehouse"))],
    responses={200: {"model": TradeInReceived}, **STATE},
)
async def receive_trade_in(trade_in_id: str, body: TradeInReceive, rpc: Rpc) -> Any:
    """Into stock with reason trade_in; only an approved trade-in (else 409)."""
    return await rpc.inventory.receive_trade_in(path_id(trade_in_id, "Trade-in"), body.data())
