"""The customer portal: what a portal user (role ``portal``, bound to one customer) sees — their
contracts with lines and status, the items installed under them, their invoices with balance and
status and the PDFs, their payments and balance — and the requests they make (a renewal quote,
a service call on an item), which open a task for the customer's owner.

Portal users reach these routes only (403 on every other one, see :mod:`gateway.deps`). The
scope travels in the caller context (``customer_id``) and every service enforces it again: an id
of another customer's record answers 404 exactly like one that does not exist. Each route is
named after the RPC it calls and passes the service's JSON through."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from ..deps import CurrentUser, Pagination, Rpc, require_roles
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID, ErrorBody, UserPublic
from ..schemas_billing import InvoiceStatus, PaymentStatus
from ..schemas_contracts import Status
from ..schemas_portal import ServiceRequestCreate, ServiceRequestKind
from ..views_billing import CustomerBalance, InvoicePage, InvoicePublic, PaymentPage
from ..views_portal import (
    InstalledItemPage,
    PortalContract,
    PortalContractPage,
    ServiceRequestPage,
    ServiceRequestPublic,
)
from .contract_progress import int_id
from .invoices import PDF_RESPONSES, pdf_response
from .users import change_my_password, get_me

router = APIRouter(
    prefix="/portal",
    tags=["portal"],
    dependencies=[Depends(require_roles("portal"))],
    responses={403: {"model": ErrorBody}, 503: {"model": ErrorBody}, 504: {"model": ErrorBody}},
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody}}
Search = Annotated[str | None, Query(max_length=200, description="part of a serial number, model or product")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _filters(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


# --------------------------------------------------------------------------------------
# The portal user
# --------------------------------------------------------------------------------------


router.add_api_route(
    "/me",
    get_me,
    methods=["GET"],
    name="portal_get_me",
    response_model=UserPublic,
    summary="The signed-in portal user",
)
router.add_api_route(
    "/me/password",
    change_my_password,
    methods=["POST"],
    name="portal_change_my_password",
    status_code=204,
    response_class=Response,
    summary="Change my password",
    description="``old_password`` and ``new_password`` (at least 8 characters, not the old one).",
)


# --------------------------------------------------------------------------------------
# Contracts and installed items (contracts service)
# --------------------------------------------------------------------------------------


PortalContractSort = sortable("number", "title", "status", "kind", "start_date", "end_date", "total", "id")


@router.get("/contracts", responses={200: {"model": PortalContractPage}})
async def portal_list_contracts(
    rpc: Rpc,
    page: Pagination,
    sort: PortalContractSort,
    status: Annotated[list[Status] | None, Query(description="one or more statuses")] = None,
    q: Annotated[str | None, Query(max_length=200, description="number or title")] = None,
) -> Any:
    """The customer's contracts (signed ones: never drafts or pending ones) with their lines."""
    filters = _filters(status=status, q=q, include_lines=True)
    return await rpc.contracts.list_contracts(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/contracts/{contract_id}", responses={200: {"model": PortalContract}, **NOT_FOUND})
async def portal_get_contract(contract_id: str, rpc: Rpc) -> Any:
    return await rpc.contracts.get_contract(int_id(contract_id, "Contract"))


PortalItemSort = sortable(
    "contract_number", "sku", "product_name", "serial_number", "contract_end_date", "line_id"
)


@router.get("/items", responses={200: {"model": InstalledItemPage}})
async def list_items(
    rpc: Rpc,
    page: Pagination,
    sort: PortalItemSort,
    q: Search = None,
    contract_id: IdQuery = None,
) -> Any:
    """The items installed under the customer's contracts (one per contract line: product, model,
    serial and manufacturing number, the contract and its term); ``q`` searches serial number,
    model and product."""
    filters = _filters(q=q, contract_id=contract_id)
    return await rpc.contracts.list_items(filters, page.page, page.page_size, **sort.kwargs())


@router.post(
    "/requests",
    dependencies=[IDEMPOTENCY_HEADER],
    status_code=201,
    responses={201: {"model": ServiceRequestPublic}, **NOT_FOUND},
)
async def create_service_request(body: ServiceRequestCreate, rpc: Rpc) -> Any:
    """Ask for a renewal quote on a contract (``contract_id``) or a service call on an item
    (``serial_number``): the customer's owner gets a task. Another customer's contract or item →
    404."""
    return await rpc.contracts.create_service_request(body.data())


ServiceRequestSort = sortable("created_at", "status", "kind", "id")


@router.get("/requests", responses={200: {"model": ServiceRequestPage}})
async def list_service_requests(
    rpc: Rpc, page: Pagination, sort: ServiceRequestSort, kind: ServiceRequestKind | None = None
) -> Any:
    """The requests the customer made, newest first."""
    return await rpc.contracts.list_service_requests(
        _filters(kind=kind), page.page, page.page_size, **sort.kwargs()
    )


# --------------------------------------------------------------------------------------
# Invoices, payments, balance (billing service)
# --------------------------------------------------------------------------------------


PortalInvoiceSort = sortable("issue_date", "due_date", "number", "status", "total", "paid", "id")


@router.get("/invoices", responses={200: {"model": InvoicePage}})
async def portal_list_invoices(
    rpc: Rpc,
    page: Pagination,
    sort: PortalInvoiceSort,
    status: InvoiceStatus | None = None,
    contract_id: IdQuery = None,
    overdue: Annotated[bool | None, Query(description="true: only overdue")] = None,
) -> Any:
    """The customer's issued invoices with ``balance`` and ``status``, newest first."""
    filters = _filters(status=status, contract_id=contract_id, overdue=overdue)
    return await rpc.billing.list_invoices(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/invoices/{invoice_id}", responses={200: {"model": InvoicePublic}, **NOT_FOUND})
async def portal_get_invoice(invoice_id: str, rpc: Rpc) -> Any:
    return await rpc.billing.get_invoice(int_id(invoice_id, "Invoice"))


@router.get("/invoices/{invoice_id}/pdf", response_class=Response, responses=PDF_RESPONSES)
async def portal_invoice_pdf(invoice_id: str, request: Request, rpc: Rpc) -> Response:
    """The invoice document in the customer's language (ETag; ``If-None-Match`` → 304)."""
    doc = await rpc.billing.render_invoice_pdf(int_id(invoice_id, "Invoice"))
    return pdf_response(doc, request)


PortalPaymentSort = sortable("received_at", "amount", "status", "id")


@router.get("/payments", responses={200: {"model": PaymentPage}})
async def portal_list_payments(
    rpc: Rpc, page: Pagination, sort: PortalPaymentSort, status: PaymentStatus | None = None
) -> Any:
    """The customer's payments and how each was allocated to invoices."""
    return await rpc.billing.list_payments(
        _filters(status=status), page.page, page.page_size, **sort.kwargs()
    )


@router.get("/balance", responses={200: {"model": CustomerBalance}})
async def portal_customer_balance(rpc: Rpc, user: CurrentUser) -> Any:
    """``{"customer_id", "currencies": {"EUR": {"open", "overdue", "credit"}}}``."""
    return await rpc.billing.customer_balance(user.customer_id)
