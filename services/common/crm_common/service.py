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

from .context import Caller, CallerContext, caller_of
from .daily import daily_timer, run_daily_once
from .errors import ValidationFailed
from .logs import set_request_id
from .rpc import rpc

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
        log.info("%s.%s %s in %.1f ms", worker_ctx.service_name,
                 worker_ctx.entrypoint.method_name, outcome, ms)

    def worker_teardown(self, worker_ctx):
        set_request_id(None)


def parse_as_of(as_of) -> dt.date:
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise ValidationFailed.field("as_of", "not an ISO 8601 date (YYYY-MM-DD)") from None


class ServiceBase:
    name: str
    caller = Caller()
    request_logging = RequestIdLogging()

    @rpc
    def health(self) -> dict:
        """Answers when the service is up and its database reachable."""
        out = {"service": self.name, "status": "ok"}
        db = getattr(self, "db", None)
        if db is not None:
            with db.read() as s:
                s.execute(__import__("sqlalchemy").text("SELECT 1"))
        relay = getattr(self, "relay", None)
        if relay is not None:
            out["outbox"] = relay.lag()
        return out

    @rpc
    def run_daily(self, as_of) -> dict:
        """Run the daily work for ``as_of`` now (administrators; also how tests move time)."""
        caller: CallerContext = self.caller
        caller.require_any(("admin",), "run the daily jobs")
        return self.daily_jobs(parse_as_of(as_of))

    @daily_timer()
    def _daily_tick(self) -> None:
        run_daily_once(self, dt.datetime.now(dt.UTC).date())

    def daily_jobs(self, as_of: dt.date) -> dict:
        """Override: the service's daily work for ``as_of``, idempotent; returns what it did."""
        return {}


__all__ = ["ServiceBase", "caller_of", "parse_as_of"]
