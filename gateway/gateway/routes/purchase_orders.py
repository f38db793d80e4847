"""Purchase orders (raised automatically below a product's reorder point, or by hand) and
their receipt into stock — owned by the ``inventory`` service."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody
from ..schemas_inventory import PurchaseOrderCancel, PurchaseOrderCreate, PurchaseOrderReceive
from ..views_inventory import PurchaseOrderPage, PurchaseOrderPublic, PurchaseOrderReceived

MOVERS = Depends(require_roles("admin", "warehouse"))

router = APIRouter(
    prefix="/purchase-orders",
    tags=["stock"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


PurchaseOrderSort = sortable("number", "status", "quantity", "created_at", "received_at", "id")


@router.get("", responses={200: {"model": PurchaseOrderPage}})
async def list_purchase_orders(
    rpc: Rpc,
    page: Pagination,
    sort: PurchaseOrderSort,
    status: Literal["open", "received", "cancelled"] | None = None,
    product_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Any:
    filters = {k: v for k, v in {"status": status, "product_id": product_id}.items() if v is not None}
    return await rpc.inventory.list_purchase_orders(filters, page.page, page.page_size, **sort.kwargs())


@router.post(
    "",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, MOVERS],
    responses={201: {"model": PurchaseOrderPublic}, **NOT_FOUND},
)
async def create_purchase_order(body: PurchaseOrderCreate, rpc: Rpc) -> Any:
    return await rpc.inventory.create_purchase_order(body.data())


@router.get("/{purchase_order_id}", responses={200: {"model": PurchaseOrderPublic}, **NOT_FOUND})
async def get_purchase_order(purchase_order_id: str, rpc: Rpc) -> Any:
    return await rpc.inventory.get_purchase_order(path_id(purchase_order_id, "Purchase order"))


@router.post(
    "/{purchase_order_id}/receive",
    dependencies=[IDEMPOTENCY_HEADER, MOVERS],
    responses={200: {"model": PurchaseOrderReceived}, **NOT_FOUND, 409: {"model": ErrorBody}},
)
async def receive_purchase_order(
    purchase_order_id: str, rpc: Rpc, body: PurchaseOrderReceive | None = None
) -> Any:
    """Into stock (reason purchase); a PO already received → 409."""
    data = body.data() if body is not None else {}
    return await rpc.inventory.receive_purchase_order(path_id(purchase_order_id, "Purchase order"), data)


@router.post(
    "/{purchase_order_id}/cancel",
    dependencies=[MOVERS],
    responses={200: {"model": PurchaseOrderPublic}, **NOT_FOUND, 409: {"model": ErrorBody}},
)
async def cancel_purchase_order(
    purchase_order_id: str, rpc: Rpc, body: PurchaseOrderCancel | None = None
) -> Any:
    """An open PO → cancelled (else 409); the next reorder check may raise a new one."""
    reason = body.reason if body is not None else None
    return await rpc.inventory.cancel_purchase_order(path_id(purchase_order_id, "Purchase order"), reason)
