"""X-Request-ID in, out and in every log line; the last-resort 500 (with the error body and the
request id, never a traceback to the client); one JSON access-log line per request."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid

from crm_common.logs import setup_logging
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body

log = logging.getLogger("gateway.access")

REQUEST_ID_HEADER = "x-request-id"
MAX_REQUEST_ID = 64
_UNSAFE = re.compile(r"[^A-Za-z0-9._:\-]")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def sanitise_request_id(raw: str | None) -> str | None:
    """Keep ``[A-Za-z0-9._:-]``, at most 64 characters; ``None`` when nothing usable remains."""
    if not raw:
        return None
    cleaned = _UNSAFE.sub("", raw)[:MAX_REQUEST_ID]
    return cleaned or None


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every log record (crm_common's JSON formatter prints
    ``record.request_id``); its own thread-local only works for Nameko workers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            rid = request_id_var.get()
            if rid is not None:
                record.request_id = rid
        return True


def configure_logging(level: str | None = None) -> None:
    """crm_common's JSON log lines, with the request id of the asyncio task or thread."""
    setup_logging(level)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # replaced by gateway.access lines
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


class RequestContextMiddleware:
    """Pure ASGI (outermost): request id, access log, and the answer to unhandled exceptions."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = None
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = sanitise_request_id(incoming) or uuid.uuid4().hex
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False
        header = (b"x-request-id", rid.encode("ascii"))

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            logging.getLogger("gateway").exception(
                "unhandled error on %s %s", scope.get("method"), scope.get("path")
            )
            if response_started:
                raise
            status = 500
            body = json.dumps(error_body("INTERNAL", "Internal error", {"request_id": rid})).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        header,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.info("%s %s %d %.1fms", scope.get("method"), scope.get("path"), status, elapsed_ms)
            request_id_var.reset(token)
