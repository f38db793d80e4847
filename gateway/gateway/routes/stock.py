"""Stock levels, moves, transfers and reservations — owned by the ``inventory`` service.
Warehouse and admin users move stock; every other staff role reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody
from ..schemas_inventory import DispatchReservations, ReleaseReservations, Reserve, StockMove, StockTransfer
from ..views_inventory import (
    DispatchResult,
    MovePage,
    MoveRecorded,
    ReleaseResult,
    ReservationPage,
    ReserveResult,
    StockPage,
    TransferResult,
)

MOVERS = Depends(require_roles("admin", "warehouse"))
RESERVERS = Depends(require_roles("admin", "warehouse", "sales_manager"))

router = APIRouter(
    prefix="/stock",
    tags=["stock"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
STOCK_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}, 409: {"model": ErrorBody}}


def _id(value: str | None, what: str) -> int | str | None:
    return path_id(value, what) if value is not None else None


StockSort = sortable("sku", "name", "warehouse", "on_hand", "reserved")


@router.get("", responses={200: {"model": StockPage}, 404: {"model": ErrorBody}})
async def get_stock(
    rpc: Rpc,
    page: Pagination,
    sort: StockSort,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    warehouse_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Any:
    """``items``: ``{product_id, sku, warehouse_id, warehouse_code, on_hand, reserved, available}``."""
    filters = {
        k: v for k, v in {"product_id": product_id, "warehouse_id": warehouse_id}.items() if v is not None
    }
    return await rpc.inventory.get_stock(filters, page.page, page.page_size, **sort.kwargs())


@router.post(
    "/moves",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, MOVERS],
    responses={201: {"model": MoveRecorded}, **STOCK_ERRORS},
)
async def record_move(body: StockMove, rpc: Rpc) -> Any:
    """Below zero → 409; serial numbers not matching the quantity of a serialized product → 422;
    a serial number already in stock → 409."""
    return await rpc.inventory.record_move(body.data())


MoveSort = sortable("created_at", "quantity", "direction", "reason", "id")


@router.get(
    "/moves",
    responses={200: {"model": MovePage}, 404: {"model": ErrorBody}},  # 404: a contract_id that cannot exist
)
async def list_moves(
    rpc: Rpc,
    page: Pagination,
    sort: MoveSort,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    warehouse_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    contract_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    values = {
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "contract_id": _id(contract_id, "Contract"),
    }
    return await rpc.inventory.list_moves(
        {k: v for k, v in values.items() if v is not None}, page.page, page.page_size, **sort.kwargs()
    )


@router.post(
    "/transfers",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, MOVERS],
    responses={201: {"model": TransferResult}, **STOCK_ERRORS},
)
async def transfer_stock(body: StockTransfer, rpc: Rpc) -> Any:
    return await rpc.inventory.transfer_stock(body.data())


@router.post(
    "/reservations",
    status_code=201,
    dependencies=[RESERVERS],
    responses={201: {"model": ReserveResult}, **STOCK_ERRORS},
)
async def reserve_stock(body: Reserve, rpc: Rpc) -> Any:
    """Reserve stock or named units for a contract; not enough → 409 unless ``allow_partial``."""
    return await rpc.inventory.reserve_stock(body.data())


ReservationSort = sortable("created_at", "quantity", "status", "id")


@router.get(
    "/reservations",
    responses={
        200: {"model": ReservationPage},
        404: {"model": ErrorBody},
    },  # 404: a contract_id that cannot exist
)
async def list_reservations(
    rpc: Rpc,
    page: Pagination,
    sort: ReservationSort,
    contract_id: Annotated[str | None, Query(max_length=64)] = None,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Literal["active", "released", "dispatched"] | None = None,
) -> Any:
    values = {"contract_id": _id(contract_id, "Contract"), "product_id": product_id, "status": status}
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.inventory.list_reservations(filters, page.page, page.page_size, **sort.kwargs())


@router.post(
    "/reservations/{contract_id}/release",
    dependencies=[RESERVERS],
    responses={200: {"model": ReleaseResult}, 404: {"model": ErrorBody}},
)
async def release_reservations(contract_id: str, rpc: Rpc, body: ReleaseReservations | None = None) -> Any:
    reason = body.reason if body is not None else None
    return await rpc.inventory.release_reservations(path_id(contract_id, "Contract"), reason)


@router.post(
    "/reservations/{contract_id}/dispatch",
    dependencies=[MOVERS],
    responses={200: {"model": DispatchResult}, **STOCK_ERRORS},
)
async def dispatch_reservations(contract_id: str, rpc: Rpc, body: DispatchReservations | None = None) -> Any:
    """Turn a contract's reservations into dispatches (``lease: true`` marks the units leased)."""
    lease = body.lease if body is not None else False
    return await rpc.inventory.dispatch_reservations(path_id(contract_id, "Contract"), lease)
