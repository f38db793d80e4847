"""Payments: record, confirm, allocate to invoices, refund, lock — owned by the ``billing``
service; each route is named after the RPC it calls and passes the service's JSON through.
Roles: see :mod:`gateway.routes.billing`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..deps import Pagination, Rpc
from ..idempotency import IDEMPOTENCY_HEADER
from ..listing import sortable
from ..schemas import MAX_ID
from ..schemas_billing import PaymentAllocate, PaymentCreate, PaymentMethod, PaymentStatus, RefundCreate
from ..views_billing import PaymentPage, PaymentPublic
from .billing import BILLING_ERRORS, BILLING_READERS, BILLING_WRITERS, NOT_FOUND, PAYMENT_RECORDERS, STATE
from .contract_progress import int_id

router = APIRouter(
    prefix="/payments", tags=["payments"], dependencies=[BILLING_READERS], responses=BILLING_ERRORS
)


PAYMENT: dict[int | str, dict[str, Any]] = {200: {"model": PaymentPublic}}
PAYMENT_STATE = {**PAYMENT, **STATE}


def pid(payment_id: str) -> int:
    return int_id(payment_id, "Payment")


@router.post(
    "",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, PAYMENT_RECORDERS],
    responses={201: {"model": PaymentPublic}},
)
async def record_payment(body: PaymentCreate, rpc: Rpc) -> Any:
    """A payment received: confirmed and allocated at once when finance records it, pending
    until confirmed when a sales manager or rep (own customers) does. With ``allocations`` it pays those invoices (each at most its
    balance, the sum at most the amount → else 422 naming ``allocations.<i>.amount``); without,
    the customer's oldest open invoices first. The rest stays as the customer's credit."""
    return await rpc.billing.record_payment(body.data())


PaymentSort = sortable("received_at", "amount", "status", "method", "currency", "created_at", "id")


@router.get("", responses={200: {"model": PaymentPage}})
async def list_payments(
    rpc: Rpc,
    page: Pagination,
    sort: PaymentSort,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: PaymentStatus | None = None,
    method: PaymentMethod | None = None,
    currency: Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")] = None,
) -> Any:
    values = {"customer_id": customer_id, "status": status, "method": method, "currency": currency}
    filters = {k: v for k, v in values.items() if v is not None}
    return await rpc.billing.list_payments(filters, page.page, page.page_size, **sort.kwargs())


@router.get("/{payment_id}", responses={**PAYMENT, **NOT_FOUND})
async def get_payment(payment_id: str, rpc: Rpc) -> Any:
    """The payment with its allocations and refunds."""
    return await rpc.billing.get_payment(pid(payment_id))


@router.post(
    "/{payment_id}/confirm", dependencies=[IDEMPOTENCY_HEADER, BILLING_WRITERS], responses=PAYMENT_STATE
)
async def confirm_payment(payment_id: str, rpc: Rpc) -> Any:
    """pending → confirmed (finance has seen the money arrive)."""
    return await rpc.billing.confirm_payment(pid(payment_id))


@router.post(
    "/{payment_id}/allocations", dependencies=[IDEMPOTENCY_HEADER, BILLING_WRITERS], responses=PAYMENT_STATE
)
async def allocate_payment(payment_id: str, rpc: Rpc, body: PaymentAllocate | None = None) -> Any:
    """Allocate the unallocated rest: to the invoices named, or oldest open invoices first."""
    return await rpc.billing.allocate_payment(pid(payment_id), body.data() if body else {})


@router.post(
    "/{payment_id}/refunds",
    status_code=201,
    dependencies=[IDEMPOTENCY_HEADER, BILLING_WRITERS],
    responses={201: {"model": PaymentPublic}, **STATE},
)
async def refund_payment(payment_id: str, body: RefundCreate, rpc: Rpc) -> Any:
    """Pay back part of the unallocated rest (more than is left → 422)."""
    return await rpc.billing.refund_payment(pid(payment_id), body.data())


@router.post("/{payment_id}/lock", dependencies=[BILLING_WRITERS], responses=PAYMENT_STATE)
async def lock_payment(payment_id: str, rpc: Rpc) -> Any:
    """Finance: nobody allocates or refunds it until unlocked (409 meanwhile)."""
    return await rpc.billing.lock_payment(pid(payment_id))


@router.post("/{payment_id}/unlock", dependencies=[BILLING_WRITERS], responses=PAYMENT_STATE)
async def unlock_payment(payment_id: str, rpc: Rpc) -> Any:
    return await rpc.billing.unlock_payment(pid(payment_id))
