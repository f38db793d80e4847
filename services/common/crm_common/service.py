"""What every CRM Nameko service has: caller context, request-id logging, a health RPC and
the daily job entrypoints.

    class CustomersService(ServiceBase):
        name = "customers"
        db = Database(Base.metadata)
        relay = OutboxRelayProvider()

        def daily_jobs(self, as_of: date) -> dict: ...   # the service's daily work
"""

from __future__ import annotations

import datetime as dt
import logging
import time

from nameko.extensions import DependencyProvider
from sqlalchemy import text

from .context import Caller, CallerContext, caller_of
from .daily import daily_timer, run_daily_once
from .errors import ValidationFailed
from .logs import set_request_id
from .metrics import Metrics
from .rpc import rpc
from .start import Heartbeat

log = logging.getLogger(__name__)


class RequestIdLogging(DependencyProvider):
    """Puts the worker's request id where :mod:`crm_common.logs` finds it for every log line,
    and logs one access line per worker (entrypoint, outcome, duration)."""

    def __init__(self):
        self._started: dict[int, float] = {}

    def worker_setup(self, worker_ctx):
        set_request_id(worker_ctx.context_data.get("request_id"))
        self._started[id(worker_ctx)] = time.monotonic()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(id(worker_ctx), None)
        ms = (time.monotonic() - started) * 1000 if started is not None else -1
        outcome = "ok" if exc_info is None else type(exc_info[1]).__name__
        log.info(
            "%s.%s %s in %.1f ms", worker_ctx.service_name, worker_ctx.entrypoint.method_name, outcome, ms
        )

    def worker_teardown(self, worker_ctx):
        set_request_id(None)


def parse_as_of(as_of) -> dt.date:
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise ValidationFailed.field("as_of", "not an ISO 8601 date (YYYY-MM-DD)") from None


def _health(service) -> dict:
    out = {"service": service.name, "status": "ok"}
    db = getattr(service, "db", None)
    if db is not None:
        with db.read() as s:
            s.execute(text("SELECT 1"))
    relay = getattr(service, "relay", None)
    if relay is not None:
        out["outbox"] = relay.lag()
    return out


def _run_daily(service, as_of) -> dict:
    caller: CallerContext = service.caller
    caller.require_any(("admin",), "run the daily jobs")
    return service.daily_jobs(parse_as_of(as_of))


def _install_entrypoints(cls) -> None:
    """Fresh functions per service class: Nameko registers entrypoints on the function object,
    so one shared function decorated for several services would carry all their entrypoints."""

    def health(self) -> dict:
        """Answers when the service is up and its database reachable."""
        return _health(self)

    def run_daily(self, as_of) -> dict:
        """Run the daily work for ``as_of`` now (administrators; also how tests move time)."""
        return _run_daily(self, as_of)

    def daily_tick(self) -> None:
        run_daily_once(self, dt.datetime.now(dt.UTC).date())

    cls.health = rpc(health)
    cls.run_daily = rpc(run_daily)
    cls.daily_tick = daily_timer()(daily_tick)


class ServiceBase:
    """Base of every CRM service. It has no entrypoints itself (so ``nameko run <module>`` does
    not take it for a service); each direct subclass gets ``health``, ``run_daily`` and the
    daily timer."""

    name: str
    caller = Caller()
    request_logging = RequestIdLogging()
    heartbeat = Heartbeat()  # liveness file for probes (CRM_HEARTBEAT_FILE / CRM_HEARTBEAT=1)
    metrics = Metrics()  # Prometheus /metrics on CRM_METRICS_PORT when set

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if getattr(cls, "health", None) is None:
            _install_entrypoints(cls)

    def daily_jobs(self, as_of: dt.date) -> dict:
        """Override: the service's daily work for ``as_of``, idempotent; returns what it did."""
        return {}


__all__ = ["ServiceBase", "caller_of", "parse_as_of"]
