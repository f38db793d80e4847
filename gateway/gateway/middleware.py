"""X-Request-ID in, out and in every log line; the last-resort 500 (with the error body and the
request id, never a traceback to the client); one JSON access-log line per request."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from typing import Any

from crm_common.logs import setup_logging
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body
from .listing import unknown_query_parameters

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


# --------------------------------------------------------------------------------------
# Input limits: body size, JSON nesting, NUL characters, authentication before the body
# --------------------------------------------------------------------------------------

DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024  # the largest bulk bodies (10,000 prices, 5,000 lines) fit
MAX_JSON_DEPTH = 32
# bodies with their own streaming limits (CSV imports, contract attachments: CRM_MAX_UPLOAD_MB)
STREAMED_CONTENT_TYPES = (b"multipart/form-data",)
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


async def _answer(
    send: Send, status: int, body: dict, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def json_problem(value: object, max_depth: int = MAX_JSON_DEPTH) -> tuple[str, str] | None:
    """``(location, reason)`` when a parsed JSON document nests deeper than ``max_depth`` or
    holds a NUL character in a string or a key; None when it is fine. Iterative (no recursion)."""
    stack: list[tuple[object, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return where or "body", "must not contain NUL characters"
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > max_depth:
            return where or "body", f"nested deeper than {max_depth} levels"
        if isinstance(item, dict):
            for key, child in item.items():
                if "\x00" in key:
                    return where or "body", "a key must not contain NUL characters"
                stack.append((child, depth + 1, f"{where}.{key}" if where else str(key)))
        else:
            stack.extend(
                (child, depth + 1, f"{where}.{i}" if where else str(i)) for i, child in enumerate(item)
            )
    return None


_public_cache: dict[int, list[tuple[str, re.Pattern[str]]]] = {}


def _public_operations(app: Any) -> list[tuple[str, re.Pattern[str]]]:
    """``(METHOD, path pattern)`` of the API operations that need no token: those the OpenAPI
    document marks ``security: []`` (the operations that do not depend on the current user)."""
    key = id(app)
    if key not in _public_cache:
        found: list[tuple[str, re.Pattern[str]]] = []
        for path, operations in app.openapi().get("paths", {}).items():
            parts = re.split(r"\{[^}]+\}", path)
            pattern = re.compile("[^/]+".join(re.escape(part) for part in parts) + "/?")
            for method, operation in operations.items():
                if isinstance(operation, dict) and operation.get("security") == []:
                    found.append((method.upper(), pattern))
        _public_cache[key] = found
    return _public_cache[key]


def _route_needs_auth(scope: Scope) -> bool:
    """An API path (``/api/``) that is not one of the public operations."""
    path = scope.get("path", "")
    if not path.startswith("/api/"):
        return False
    app = scope.get("app")
    if app is None or not hasattr(app, "openapi"):
        return False
    method = scope.get("method", "")
    return not any(m == method and p.fullmatch(path) for m, p in _public_operations(app))


class InputLimitsMiddleware:
    """Pure ASGI, inside the request-id middleware. For every request:

    * a NUL character (``%00``) in the path or the query → 422;
    * a query parameter the matched route does not declare → 422 ``UNKNOWN_PARAMETER`` naming
      it (:func:`gateway.listing.unknown_query_parameters`);
    * a request with a body to a route that needs a token, sent without ``Authorization`` or
      ``X-API-Key`` → 401 before a byte of the body is read;
    * a body over ``CRM_MAX_BODY_BYTES`` (default 4 MiB; by its Content-Length, or counted while
      it streams in) → 413; multipart uploads keep their own streaming limits;
    * a JSON body nested deeper than 32 levels, or with a NUL character in a string → 422.
    """

    def __init__(
        self, app: ASGIApp, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH
    ):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await _answer(
                send,
                422,
                error_body(
                    "VALIDATION_FAILED",
                    "A NUL character is never valid input",
                    {"query": ["contains NUL (%00)"]},
                ),
            )
            return
        unknown = unknown_query_parameters(scope)
        if unknown is not None:
            await _answer(send, 422, unknown)
            return
        headers = dict(scope.get("headers", ()))
        length_header = headers.get(b"content-length")
        has_body = scope.get("method") in _BODY_METHODS and (
            (length_header is not None and length_header.strip() not in (b"", b"0"))
            or b"transfer-encoding" in headers
        )
        if not has_body:
            await self.app(scope, receive, send)
            return
        if b"authorization" not in headers and b"x-api-key" not in headers and _route_needs_auth(scope):
            await _answer(
                send,
                401,
                error_body("UNAUTHORIZED", "Not authenticated: send Authorization: Bearer <token>"),
                [(b"www-authenticate", b"Bearer")],
            )
            return
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype in STREAMED_CONTENT_TYPES:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        too_large = error_body(
            "PAYLOAD_TOO_LARGE",
            f"The body is larger than {limit} bytes",
            {"body": [f"larger than {limit} bytes"], "max_bytes": limit},
        )
        if length_header is not None and length_header.strip().isdigit() and int(length_header) > limit:
            await _answer(send, 413, too_large)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _answer(send, 413, too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if ctype in (b"", b"application/json") or ctype.endswith(b"+json"):  # FastAPI reads none as JSON
            problem = None
            try:
                problem = json_problem(json.loads(body), self.max_depth)
            except RecursionError:
                problem = ("body", f"nested deeper than {self.max_depth} levels")
            except ValueError:
                pass  # not JSON at all: FastAPI answers it (400/422) as before
            if problem is not None:
                where, reason = problem
                await _answer(
                    send, 422, error_body("VALIDATION_FAILED", f"Invalid input: {where}", {where: [reason]})
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
