"""Serialized units — owned by the ``inventory`` service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from ..deps import Pagination, Rpc, path_id
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody
from ..views_inventory import UnitPage, UnitPublic

router = APIRouter(
    prefix="/units",
    tags=["stock"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
Status = Literal["in_stock", "reserved", "dispatched", "leased", "returned", "scrapped"]


UnitSort = sortable("serial_number", "status", "created_at", "updated_at", "id")


@router.get(
    "",
    responses={200: {"model": UnitPage}, 404: {"model": ErrorBody}},  # 404: a contract_id that cannot exist
)
async def list_units(
    rpc: Rpc,
    page: Pagination,
    sort: UnitSort,
    q: Annotated[str | None, Query(max_length=100, description="part of a serial number")] = None,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    warehouse_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Status | None = None,
    contract_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    values = {
        "q": q,
        "product_id": product_id,
        "warehouse_id": warehouse_id,
        "status": status,
        "contract_id": path_id(contract_id, "Contract") if contract_id is not None else None,
    }
    return await rpc.inventory.list_units(
        {k: v for k, v in values.items() if v is not None}, page.page, page.page_size, **sort.kwargs()
    )


@router.get(
    "/{serial_number}",
    responses={200: {"model": UnitPublic}, 404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
)
async def get_unit(
    serial_number: Annotated[str, "the serial number"],
    rpc: Rpc,
    product_id: Annotated[int | None, Query(ge=1, description="when two products share the serial")] = None,
) -> Any:
    """The unit, its product, where it is (warehouse, or the contract it went to) and its full
    history."""
    return await rpc.inventory.get_unit(serial_number, product_id)
