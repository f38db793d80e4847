"""Warehouses, owned by the ``inventory`` service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import ErrorBody
from ..schemas_inventory import WarehouseCreate
from ..views_inventory import WarehousePage, WarehousePublic

router = APIRouter(
    prefix="/warehouses",
    tags=["stock"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)


@router.post(
    "",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, Depends(require_roles("admin", "warehouse"))],
    responses={201: {"model": WarehousePublic}, 409: {"model": ErrorBody}},
)
async def create_warehouse(body: WarehouseCreate, rpc: Rpc) -> Any:
    """A duplicate code → 409."""
    return await rpc.inventory.create_warehouse(body.data())


WarehouseSort = sortable("code", "name", "created_at", "id")


@router.get("", responses={200: {"model": WarehousePage}})
async def list_warehouses(rpc: Rpc, page: Pagination, sort: WarehouseSort) -> Any:
    return await rpc.inventory.list_warehouses(page.page, page.page_size, **sort.kwargs())


@router.get("/{warehouse_id}", responses={200: {"model": WarehousePublic}, 404: {"model": ErrorBody}})
async def get_warehouse(warehouse_id: str, rpc: Rpc) -> Any:
    return await rpc.inventory.get_warehouse(path_id(warehouse_id, "Warehouse"))
