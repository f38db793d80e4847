"""Prometheus metrics of the gateway (``GET /metrics``, text format), on crm_common's
dependency-free :class:`~crm_common.metrics.Registry`:

``crm_http_request_duration_seconds{method,route,status}``  histogram per route template
``crm_http_requests_total{method,route,status}``
``crm_rpc_duration_seconds{service,method,outcome}``  every RPC the gateway makes
                                                      (ok, or the exception class: ServiceUnavailable, RpcTimeout, ...)

Wiring (gateway/gateway/main.py, in ``create_app`` / where the RPC client is created)::

    from . import metrics
    app.add_middleware(metrics.MetricsMiddleware)      # next to RequestContextMiddleware
    app.include_router(metrics.router)                 # GET /metrics, no token
    metrics.instrument_rpc_client(rpc_client)          # once, on the RpcClient instance
"""

from __future__ import annotations

import functools
import time
from typing import Any

from crm_common.catalogue import UNDECLARED_EVENTS
from crm_common.metrics import CONTENT_TYPE, Registry
from fastapi import APIRouter
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

registry = Registry()
HTTP_DURATION = registry.histogram(
    "crm_http_request_duration_seconds", "Gateway request duration.", ("method", "route", "status")
)
HTTP_REQUESTS = registry.counter(
    "crm_http_requests_total", "Gateway requests.", ("method", "route", "status")
)
RPC_DURATION = registry.histogram(
    "crm_rpc_duration_seconds",
    "RPC calls from the gateway to the services.",
    ("service", "method", "outcome"),
)
registry.register(UNDECLARED_EVENTS)  # events published without a catalogue entry (crm_common.catalogue)

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics() -> Response:
    return Response(registry.render(), media_type=CONTENT_TYPE)


def _route_of(scope: Scope) -> str:
    """The route template (``/api/v1/customers/{customer_id}``), never the raw path: ids in
    labels would make a series per customer."""
    route = scope.get("route")
    path = getattr(route, "path", None) or getattr(route, "path_format", None)
    return path or "unmatched"


class MetricsMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware: streaming uploads stay streaming)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == "/metrics":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            labels = (scope.get("method", "?"), _route_of(scope), str(status["code"]))
            HTTP_DURATION.observe(time.monotonic() - started, *labels)
            HTTP_REQUESTS.inc(*labels)


def instrument_rpc_client(client: Any) -> Any:
    """Time every ``client.call(service, method, ...)`` (``call_many`` goes through it too)."""
    original = client.call
    if getattr(original, "_crm_metrics", False):
        return client

    @functools.wraps(original)
    async def call(service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        outcome = "ok"
        try:
            return await original(service, method, *args, **kwargs)
        except BaseException as exc:
            outcome = type(exc).__name__
            raise
        finally:
            RPC_DURATION.observe(time.monotonic() - started, service, method, outcome)

    call._crm_metrics = True  # type: ignore[attr-defined]
    client.call = call
    return client


__all__ = ["MetricsMiddleware", "instrument_rpc_client", "registry", "router"]
