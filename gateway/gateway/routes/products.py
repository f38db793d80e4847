"""Products and their categories, and the CSV import of products — owned by the ``inventory``
service; each route is named after the RPC it calls and passes the service's JSON through."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request

from .. import imports
from ..deps import Pagination, Rpc, Settings, path_id, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import page_list, sortable
from ..schemas import ErrorBody, ImportAccepted
from ..schemas_inventory import CategoryCreate, Kind, ProductCreate, ProductUpdate
from ..views_inventory import CategoryPage, CategoryPublic, ProductImportJob, ProductPage, ProductPublic
from .customers import IMPORT_BODY

SERVICE = "inventory"
CATALOGUE_WRITERS = Depends(require_roles("admin", "warehouse", "sales_manager"))

router = APIRouter(
    tags=["products"],
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
    "/products/import",
    openapi_extra=IMPORT_BODY,
    dependencies=[CATALOGUE_WRITERS],
    responses={200: {"model": ProductImportJob}, 202: {"model": ImportAccepted}, 413: {"model": ErrorBody}},
)
async def import_products(
    request: Request,
    rpc: Rpc,
    settings: Settings,
    background: BackgroundTasks,
    mode: Literal["all_or_nothing", "skip_bad"] = "all_or_nothing",
    run_async: Annotated[bool, Query(alias="async", description="202 at once; poll the job")] = False,
) -> Any:
    """CSV columns: sku, name, kind, unit_price, currency, model, manufacturer, category, unit,
    serialized, reorder_point, reorder_quantity, preferred_partner, active. 200 with
    ``{"created", "errors": [{"line", "field", "message"}], "job_id", "status"}``."""
    return await imports.import_upload(
        request, rpc, SERVICE, mode, run_async, background, settings.crm_import_timeout, settings.max_upload_bytes,
        "/api/v1/products/import",
    )  # fmt: skip


@router.get("/products/import/{job_id}", responses={200: {"model": ProductImportJob}, **NOT_FOUND})
async def get_product_import(job_id: str, rpc: Rpc) -> Any:
    return await rpc.inventory.get_import(path_id(job_id, "Import job"))


@router.post(
    "/products",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, CATALOGUE_WRITERS],
    responses={201: {"model": ProductPublic}, 409: {"model": ErrorBody}},
)
async def create_product(body: ProductCreate, rpc: Rpc) -> Any:
    """A duplicate SKU → 409."""
    return await rpc.inventory.create_product(body.data())


ProductSort = sortable("sku", "name", "kind", "manufacturer", "unit_price", "created_at", "updated_at", "id")


@router.get("/products", responses={200: {"model": ProductPage}})
async def list_products(
    rpc: Rpc,
    page: Pagination,
    sort: ProductSort,
    q: Annotated[
        str | None, Query(max_length=200, description="any part of SKU, name, model, manufacturer")
    ] = None,
    category: Annotated[
        str | None, Query(max_length=1000, description="a category path; includes sub-categories")
    ] = None,
    kind: Kind | None = None,
    active: bool | None = None,
    sku: Annotated[str | None, Query(max_length=64)] = None,
) -> Any:
    values = {"q": q, "category": category, "kind": kind, "active": active, "sku": sku}
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.inventory.list_products(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/products/{product_id}", responses={200: {"model": ProductPublic}, **NOT_FOUND})
async def get_product(product_id: str, rpc: Rpc) -> Any:
    return await rpc.inventory.get_product(path_id(product_id, "Product"))


@router.patch(
    "/products/{product_id}",
    dependencies=[CATALOGUE_WRITERS],
    responses={200: {"model": ProductPublic}, **NOT_FOUND},
)
async def update_product(product_id: str, body: ProductUpdate, rpc: Rpc) -> Any:
    return await rpc.inventory.update_product(path_id(product_id, "Product"), body.data())


@router.post(
    "/categories",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, CATALOGUE_WRITERS],
    responses={
        201: {"model": CategoryPublic},
        404: {"model": ErrorBody},  # no such parent
        409: {"model": ErrorBody},
    },
)
async def create_category(body: CategoryCreate, rpc: Rpc) -> Any:
    return await rpc.inventory.create_category(body.data())


CategorySort = sortable("path", "name", "id")


@router.get("/categories", responses={200: {"model": CategoryPage}})
async def list_categories(rpc: Rpc, page: Pagination, sort: CategorySort) -> Any:
    """The categories with their ``path`` and ``parent_id`` (the tree), by path unless
    ``sort`` says otherwise; ``page_size=500`` for the whole tree of a usual catalogue."""
    return page_list(await rpc.inventory.list_categories(), sort, page)
