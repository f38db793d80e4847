"""``/healthz`` (the process is up) and ``/readyz`` (the broker is connected and every service in
CRM_SERVICES answers its ``health`` RPC within ~2 s). No token."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ..deps import State
from ..rpc import Call, RemoteError, RpcTimeout, ServiceUnavailable
from ..schemas import Health, Readiness

router = APIRouter(tags=["health"])

READY_TIMEOUT = 2.0


@router.get("/healthz", response_model=Health)
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(state: State) -> JSONResponse:
    client = state.rpc
    services = state.settings.crm_services
    broker = "ok" if client.connected else f"down: {client.last_error or 'not connected'}"
    statuses: dict[str, str] = {}
    if client.connected:
        results = await client.call_many(Call(name, "health", timeout=READY_TIMEOUT) for name in services)
        for name, result in zip(services, results, strict=True):
            if isinstance(result, ServiceUnavailable):
                statuses[name] = f"unavailable: {result.reason}"
            elif isinstance(result, RpcTimeout):
                statuses[name] = "timeout"
            elif isinstance(result, RemoteError):
                statuses[name] = f"error: {result.exc_type}"
            elif isinstance(result, BaseException):
                statuses[name] = f"error: {type(result).__name__}"
            else:
                statuses[name] = "ok"
    else:
        statuses = {name: "unknown: broker down" for name in services}
    ready = broker == "ok" and all(v == "ok" for v in statuses.values())
    body = {"status": "ready" if ready else "not_ready", "broker": broker, "services": statuses}
    return JSONResponse(body, status_code=200 if ready else 503)
