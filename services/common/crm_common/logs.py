"""JSON log lines carrying the request id of the call or event being handled."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys

SERVICE = os.environ.get("CRM_SERVICE_NAME", "")


def _current_request_id() -> str | None:
    """The request id of the Nameko worker running in this (green) thread, if any."""
    try:
        from nameko.containers import get_worker_context  # type: ignore[attr-defined]
    except ImportError:  # nameko 2.14 has no such helper; fall back to the thread-local
        get_worker_context = None
    if get_worker_context is not None:  # pragma: no cover
        ctx = get_worker_context()
        return ctx.context_data.get("request_id") if ctx else None
    return getattr(_local, "request_id", None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if SERVICE:
            out["service"] = SERVICE
        rid = getattr(record, "request_id", None) or _current_request_id()
        if rid:
            out["request_id"] = rid
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


import threading  # noqa: E402

_local = threading.local()


def set_request_id(request_id: str | None) -> None:
    _local.request_id = request_id


def setup_logging(level: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("CRM_LOG_FORMAT", "json") == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level or os.environ.get("CRM_LOG_LEVEL", "INFO"))
