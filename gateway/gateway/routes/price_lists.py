"""Price lists per channel with dated prices, bulk updates by percent, and the price of a
product for a channel on a date — owned by the ``inventory`` service."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ..deps import Pagination, Rpc, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody, IsoDate
from ..schemas_inventory import BulkPriceUpdate, Channel, PriceListCreate, PricesSet
from ..views_inventory import BulkPriceResult, PriceListDetail, PriceListPage, PriceListPublic, PriceQuote

PRICE_WRITERS = Depends(require_roles("admin", "sales_manager", "finance"))

router = APIRouter(
    prefix="/price-lists",
    tags=["price lists"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}


@router.post(
    "",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, PRICE_WRITERS],
    responses={201: {"model": PriceListPublic}, **NOT_FOUND},
)
async def create_price_list(body: PriceListCreate, rpc: Rpc) -> Any:
    return await rpc.inventory.create_price_list(body.data())


PriceListSort = sortable("name", "channel", "currency", "created_at", "updated_at", "id")


@router.get("", responses={200: {"model": PriceListPage}})
async def list_price_lists(
    rpc: Rpc, page: Pagination, sort: PriceListSort, channel: Channel | None = None
) -> Any:
    filters = {"channel": channel} if channel else {}
    return await rpc.inventory.list_price_lists(filters, page.page, page.page_size, **sort.kwargs())


@router.post(
    "/bulk-update", dependencies=[PRICE_WRITERS], responses={200: {"model": BulkPriceResult}, **NOT_FOUND}
)
async def bulk_update_prices(body: BulkPriceUpdate, rpc: Rpc) -> Any:
    """Every active price list at once: ``{"percent", "category"?, "product_ids"?, "effective_date"?}``."""
    return await rpc.inventory.bulk_update_prices(None, body.data())


@router.get("/price", responses={200: {"model": PriceQuote}, **NOT_FOUND})  # no such product
async def price_for(
    rpc: Rpc,
    product_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    channel: Channel,
    date: IsoDate | None = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$")] = None,
    tier: Annotated[str | None, Query(max_length=50)] = None,
) -> Any:
    """The price ``inventory.price_for`` gives contracts: list price valid that day, else base price."""
    return await rpc.inventory.price_for(
        product_id, channel, date.isoformat() if date else None, currency, tier
    )


@router.get("/{price_list_id}", responses={200: {"model": PriceListDetail}, **NOT_FOUND})
async def get_price_list(price_list_id: str, rpc: Rpc, as_of: IsoDate | None = None) -> Any:
    """The prices valid ``as_of`` (default today) in ``items``, every dated price in ``history``."""
    return await rpc.inventory.get_price_list(
        path_id(price_list_id, "Price list"), as_of.isoformat() if as_of else None
    )


@router.post(
    "/{price_list_id}/items",
    dependencies=[PRICE_WRITERS],
    responses={200: {"model": PriceListPublic}, **NOT_FOUND},
)
async def set_prices(price_list_id: str, body: PricesSet, rpc: Rpc) -> Any:
    """New (possibly future-dated) prices; the price they replace stays in history."""
    return await rpc.inventory.set_prices(path_id(price_list_id, "Price list"), body.data())


@router.post(
    "/{price_list_id}/bulk-update",
    dependencies=[PRICE_WRITERS],
    responses={200: {"model": BulkPriceResult}, **NOT_FOUND},
)
async def bulk_update_price_list(price_list_id: str, body: BulkPriceUpdate, rpc: Rpc) -> Any:
    """``{"percent", "category"?, "product_ids"?, "effective_date"?}``: rounded to the currency's
    minor unit, effective from the date (default today); old prices stay in history."""
    return await rpc.inventory.bulk_update_prices(path_id(price_list_id, "Price list"), body.data())
