"""``GET /api/v1/dashboard?year=``: the company's KPIs for a year, composed by the gateway from
three parts asked for in parallel, each answered by its service from its own data and scoped by
it (a sales rep sees their own book, a sales manager with a department that department's, admin,
finance and read-only users everything):

* ``contracts.dashboard`` — active contracts, renewals due in the next 90 days;
* ``billing.dashboard`` — MRR / ARR, receivables, overdue, cash flow per month (invoiced,
  collected, forecast), top customers;
* ``customers.pipeline`` — opportunities per funnel stage (count and amount).

Amounts are per currency (``{"EUR": "1200.00"}``), never added across currencies. When a service
does not answer, its figures are ``null`` and its name is in ``unavailable``: the rest of the
dashboard still shows. The gateway adds nothing up itself."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ..deps import Rpc, require_roles
from ..errors import Parts
from ..rpc import Call
from ..schemas import ErrorBody, IsoDate
from ..views_core import DashboardSummary, ok

READERS = ("admin", "finance", "sales_manager", "sales_rep", "readonly")

router = APIRouter(
    tags=["dashboard"],
    dependencies=[Depends(require_roles(*READERS))],
    responses={403: {"model": ErrorBody}},
)

# (service, method, the arguments it takes): the funnel is per year, the rest also per day
PARTS = (
    ("contracts", "dashboard", ("year", "as_of")),
    ("billing", "dashboard", ("year", "as_of")),
    ("customers", "pipeline", ("year",)),
)


def compose(
    year: int, as_of: str, contracts: dict | None, billing: dict | None, pipeline: dict | None
) -> dict:
    """The API.md shape from the three parts (``None`` for a part that did not answer)."""
    c, b, p = contracts or {}, billing or {}, pipeline or {}
    currencies = sorted(
        set(b.get("currencies") or []) | set(p.get("currencies") or []) | set(c.get("active_value") or {})
    )
    return {
        "year": year,
        "as_of": as_of,
        "currencies": currencies,
        "active_contracts": c.get("active_contracts"),
        "active_value": c.get("active_value"),
        "mrr": b.get("mrr"),
        "arr": b.get("arr"),
        "receivables": b.get("receivables"),
        "overdue": b.get("overdue"),
        "overdue_invoices": b.get("overdue_invoices"),
        "renewals_next_90_days": c.get("renewals_next_90_days"),
        "renewals": c.get("renewals"),
        "signed_in_year": c.get("signed_in_year"),
        "pipeline": p.get("stages"),
        "won_in_year": p.get("won_in_year"),
        "cash_flow": b.get("cash_flow"),
        "top_customers": b.get("top_customers"),
    }


@router.get("/dashboard", responses=ok(DashboardSummary))
async def dashboard(
    rpc: Rpc,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="default the current year")] = None,
    as_of: Annotated[
        IsoDate | None,
        Query(description="the day point-in-time figures (MRR, receivables) are for; default today"),
    ] = None,
) -> Any:
    """``{"active_contracts", "mrr", "arr", "receivables", "overdue", "renewals_next_90_days",
    "pipeline": {stage: {"count", "amount"}}, "cash_flow": [{"month", "invoiced", "collected",
    "forecast"}] × 12, "top_customers": [...], "currencies", "unavailable"}`` for the caller's
    scope; every amount is a ``{currency: "amount"}`` object."""
    day = as_of or dt.date.today()
    args = {"year": year or day.year, "as_of": day.isoformat()}
    results = await rpc.call_many(
        Call(service, method, ({k: args[k] for k in takes},)) for service, method, takes in PARTS
    )
    parts = Parts()
    contracts, billing, pipeline = (
        parts.take(service, result) for result, (service, _, _) in zip(results, PARTS, strict=True)
    )
    return {
        **compose(args["year"], args["as_of"], contracts, billing, pipeline),
        "unavailable": parts.unavailable,
    }
