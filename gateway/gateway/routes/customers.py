"""Customers, their contacts and follow-ups, and the CSV import — all owned by the ``customers``
service; each route is named after the RPC it calls and passes the service's JSON through."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response

from .. import imports
from ..deps import Pagination, Rpc, Settings, path_id
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import (
    MAX_ID,
    ContactCreate,
    CustomerCreate,
    CustomerUpdate,
    ErrorBody,
    FollowUpCreate,
    ImportAccepted,
    RedListBody,
    ResourceId,
)
from ..views_core import (
    ContactPage,
    ContactPublic,
    CustomerImportResult,
    CustomerPage,
    CustomerPublic,
    FollowUpPage,
    FollowUpPublic,
    ImportJobPublic,
    ok,
)

SERVICE = "customers"

router = APIRouter(
    prefix="/customers",
    tags=["customers"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        422: {"model": ErrorBody},
        503: {"model": ErrorBody},
        504: {"model": ErrorBody},
    },
)
NOT_FOUND = {404: {"model": ErrorBody}}

# multipart body documented by hand: the upload is parsed as a stream, not by FastAPI
IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV with a header row, UTF-8 (BOM allowed)",
                        }
                    },
                }
            }
        },
    }
}


def _filters(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# -- import (declared before /{customer_id} routes) --------------------------------------


@router.post(
    "/import",
    openapi_extra=IMPORT_BODY,
    responses={
        **ok(CustomerImportResult),
        202: {"model": ImportAccepted},
        413: {"model": ErrorBody},
    },
)
async def import_customers(
    request: Request,
    rpc: Rpc,
    settings: Settings,
    background: BackgroundTasks,
    mode: Literal["all_or_nothing", "skip_bad"] = "all_or_nothing",
    run_async: Annotated[bool, Query(alias="async", description="202 at once; poll the job")] = False,
) -> Any:
    """Stream a CSV upload to customers.start_import / import_batch (1000 rows each) /
    finish_import. 200 with ``{"created", "updated", "errors", "job_id", "status"}``; with
    ``?async=true`` 202 ``{"job_id"}`` and ``GET /customers/import/{job_id}`` for progress."""
    return await imports.import_upload(
        request, rpc, SERVICE, mode, run_async, background, settings.crm_import_timeout, settings.max_upload_bytes,
        "/api/v1/customers/import",
    )  # fmt: skip


@router.get("/import/{job_id}", responses={**ok(ImportJobPublic), **NOT_FOUND})
async def get_customer_import(job_id: str, rpc: Rpc) -> Any:
    """Progress of an import: status, rows_received, rows_processed, created, updated,
    error_count (and the errors once finished)."""
    return await rpc.customers.get_import(path_id(job_id, "Import job"))


# -- customers -------------------------------------------------------------------------


@router.post(
    "",
    dependencies=[IDEMPOTENCY_HEADER],
    status_code=201,
    responses={**ok(CustomerPublic, 201), 409: {"model": ErrorBody}},
)
async def create_customer(body: CustomerCreate, rpc: Rpc) -> Any:
    """A likely duplicate → 409 with ``details.candidates`` unless ``allow_duplicate``."""
    return await rpc.customers.create_customer(body.data())


CustomerSort = sortable(
    "name", "code", "level", "region", "industry", "kind", "created_at", "updated_at", "id"
)
ContactSort = sortable("name", "email", "created_at", "id")
FollowUpSort = sortable("occurred_at", "next_action_at", "method", "created_at", "id")


@router.get("", responses=ok(CustomerPage))
async def list_customers(
    rpc: Rpc,
    page: Pagination,
    sort: CustomerSort,
    q: Annotated[
        str | None, Query(max_length=200, description="any part of a name, code, e-mail, phone, tax id")
    ] = None,
    level: Literal["A", "B", "C"] | None = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    region: Annotated[str | None, Query(max_length=200)] = None,
    industry: Annotated[str | None, Query(max_length=200)] = None,
    kind: Literal["company", "person"] | None = None,
    include_archived: Annotated[
        bool, Query(description="also archived customers (hidden by default)")
    ] = False,
    red_listed: Annotated[
        bool | None, Query(description="only customers on (true) / off (false) the red list")
    ] = None,
) -> Any:
    filters = _filters(
        q=q, level=level, tag=tag, owner_id=owner_id, region=region, industry=industry, kind=kind,
        include_archived=include_archived or None, red_listed=red_listed,
    )  # fmt: skip
    return await rpc.customers.list_customers(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/{customer_id}", responses={**ok(CustomerPublic), **NOT_FOUND})
async def get_customer(customer_id: str, rpc: Rpc) -> Any:
    return await rpc.customers.get_customer(path_id(customer_id, "Customer"))


@router.patch("/{customer_id}", responses={**ok(CustomerPublic), **NOT_FOUND, 409: {"model": ErrorBody}})
async def update_customer(customer_id: str, body: CustomerUpdate, rpc: Rpc) -> Any:
    return await rpc.customers.update_customer(path_id(customer_id, "Customer"), body.data())


@router.delete("/{customer_id}", status_code=204, responses={**NOT_FOUND, 409: {"model": ErrorBody}})
async def delete_customer(customer_id: str, rpc: Rpc) -> Response:
    """204 No Content once the service has deleted it. A customer with contracts, invoices,
    payments, credit notes or open opportunities is not deleted: 409 with
    ``details.blocked_by`` (``{"invoices": 1, ...}``) — archive it instead."""
    await rpc.customers.delete_customer(path_id(customer_id, "Customer"))
    return Response(status_code=204)


# -- archive and the red list -------------------------------------------------------------

STATE = {**ok(CustomerPublic), **NOT_FOUND, 409: {"model": ErrorBody}}


@router.post("/{customer_id}/archive", responses=STATE)
async def archive_customer(customer_id: str, rpc: Rpc) -> Any:
    """Whoever may change the customer archives it: hidden from lists (``include_archived=true``
    shows it), still found by the duplicate check, no new contracts or opportunities (409).
    409 when already archived."""
    return await rpc.customers.archive_customer(path_id(customer_id, "Customer"))


@router.post("/{customer_id}/restore", responses=STATE)
async def restore_customer(customer_id: str, rpc: Rpc) -> Any:
    """Sales managers and admins only (403 otherwise); 409 when it is not archived."""
    return await rpc.customers.restore_customer(path_id(customer_id, "Customer"))


@router.post("/{customer_id}/red-list", responses={**ok(CustomerPublic), **NOT_FOUND})
async def red_list_customer(customer_id: str, body: RedListBody, rpc: Rpc) -> Any:
    """Put the customer on the red list with a reason (sales manager, admin, finance; 403
    otherwise). Submitting its contracts is then 409 unless a sales manager overrides it."""
    return await rpc.customers.red_list_customer(path_id(customer_id, "Customer"), body.data())


@router.delete("/{customer_id}/red-list", responses={**ok(CustomerPublic), **NOT_FOUND})
async def clear_red_list(customer_id: str, rpc: Rpc) -> Any:
    """Take the customer off the red list (sales manager, admin, finance; 403 otherwise)."""
    return await rpc.customers.clear_red_list(path_id(customer_id, "Customer"))


# -- contacts and follow-ups ------------------------------------------------------------


@router.post(
    "/{customer_id}/contacts",
    dependencies=[IDEMPOTENCY_HEADER],
    status_code=201,
    responses={**ok(ContactPublic, 201), **NOT_FOUND},
)
async def add_contact(customer_id: str, body: ContactCreate, rpc: Rpc) -> Any:
    return await rpc.customers.add_contact(path_id(customer_id, "Customer"), body.data())


@router.get("/{customer_id}/contacts", responses={**ok(ContactPage), **NOT_FOUND})
async def list_contacts(customer_id: str, rpc: Rpc, page: Pagination, sort: ContactSort) -> Any:
    return await rpc.customers.list_contacts(
        path_id(customer_id, "Customer"), page.page, page.page_size, **sort.kwargs()
    )


@router.post(
    "/{customer_id}/follow-ups",
    dependencies=[IDEMPOTENCY_HEADER],
    status_code=201,
    responses={**ok(FollowUpPublic, 201), **NOT_FOUND},
)
async def add_follow_up(customer_id: str, body: FollowUpCreate, rpc: Rpc) -> Any:
    return await rpc.customers.add_follow_up(path_id(customer_id, "Customer"), body.data())


@router.get("/{customer_id}/follow-ups", responses={**ok(FollowUpPage), **NOT_FOUND})
async def list_follow_ups(customer_id: str, rpc: Rpc, page: Pagination, sort: FollowUpSort) -> Any:
    return await rpc.customers.list_follow_ups(
        path_id(customer_id, "Customer"), page.page, page.page_size, **sort.kwargs()
    )


__all__ = ["router", "ResourceId"]
