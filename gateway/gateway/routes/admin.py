"""Administration: run every service's daily jobs for a date (also how tests move time)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..deps import AdminUser, Rpc, Settings
from ..errors import as_body
from ..rpc import Call
from ..schemas import DailyJobRequest, DailyJobResult, ErrorBody

router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 422: {"model": ErrorBody}},
)


@router.post("/jobs/daily", response_model=DailyJobResult)
async def run_daily(body: DailyJobRequest, admin: AdminUser, rpc: Rpc, settings: Settings) -> Any:
    """Calls ``<service>.run_daily(as_of)`` on every service of CRM_SERVICES at once; each
    service's entry is its result, or ``{"error": {...}, "status": <http status>}``."""
    services = settings.crm_services
    as_of = body.as_of.isoformat()
    results = await rpc.call_many(
        Call(name, "run_daily", (as_of,), timeout=settings.crm_job_timeout) for name in services
    )
    out: dict[str, Any] = {}
    for name, result in zip(services, results, strict=True):
        out[name] = as_body(result) if isinstance(result, BaseException) else result
    return {"as_of": as_of, "results": out}
