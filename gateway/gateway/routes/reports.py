"""Finance reports — computed by the ``billing`` service from its invoices, payments and
schedules, per currency (never summed across currencies); each route is named after the RPC it
calls and passes the service's JSON through. Staff only (a sales rep sees the customers they
own); not portal users."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ..deps import Rpc
from ..schemas import MAX_ID, IsoDate
from ..schemas_billing import RevenueBy
from ..views_billing import CashFlow, ReceivablesAging, RecurringRevenue, Revenue
from .billing import BILLING_ERRORS, STAFF_READERS

router = APIRouter(
    prefix="/reports", tags=["reports"], dependencies=[STAFF_READERS], responses=BILLING_ERRORS
)

Year = Annotated[int | None, Query(ge=1900, le=2200, description="default the current year")]
CurrencyQuery = Annotated[str | None, Query(pattern=r"^[A-Z]{3}$", description="ISO 4217 code")]


def _args(**values: Any) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items() if v is not None}


@router.get("/receivables-aging", responses={200: {"model": ReceivablesAging}})
async def receivables_aging(
    rpc: Rpc,
    as_of: Annotated[IsoDate | None, Query(description="default today")] = None,
    currency: CurrencyQuery = None,
    customer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Any:
    """Open balances by days past due: ``{"as_of", "currencies": {"EUR": {"total": {"current",
    "1_30", "31_60", "61_90", "over_90", "total"}, "customers": [...]}}}``."""
    return await rpc.billing.receivables_aging(_args(as_of=as_of, currency=currency, customer_id=customer_id))


@router.get("/cash-flow", responses={200: {"model": CashFlow}})
async def cash_flow(rpc: Rpc, year: Year = None) -> Any:
    """Per month of the year: ``invoiced``, ``collected`` and ``forecast`` (due from open
    invoices and schedules): ``{"year", "currencies": {"EUR": [{"month", ...}] × 12}}``."""
    return await rpc.billing.cash_flow(_args(year=year))


@router.get("/revenue", responses={200: {"model": Revenue}})
async def revenue(
    rpc: Rpc,
    year: Year = None,
    from_: Annotated[IsoDate | None, Query(alias="from", description="instead of year: first day")] = None,
    to: Annotated[IsoDate | None, Query(description="instead of year: last day")] = None,
    by: RevenueBy = "customer",
) -> Any:
    """Invoiced net revenue less credit notes, by customer or product: ``{"from", "to", "by",
    "currencies": {"EUR": {"total", "items": [{"key", "name", "amount"}]}}}``."""
    return await rpc.billing.revenue(_args(year=year, to=to, by=by, **{"from": from_}))


@router.get("/recurring-revenue", responses={200: {"model": RecurringRevenue}})
async def recurring_revenue(
    rpc: Rpc, as_of: Annotated[IsoDate | None, Query(description="default today")] = None
) -> Any:
    """MRR and ARR of the schedules running on ``as_of``: ``{"as_of", "currencies": {"EUR":
    {"mrr", "arr", "contracts"}}}``."""
    return await rpc.billing.recurring_revenue(_args(as_of=as_of))
