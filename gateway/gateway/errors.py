"""Errors → HTTP. THE one table mapping remote exceptions (by ``exc_path``) to status and code,
and the error body of API.md: ``{"error": {"code", "message", "details"}}``.

:class:`ErrorLanguageMiddleware` answers every error body in the caller's language (the
messages are in :mod:`gateway.error_messages`); the ``code`` never changes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from crm_common.errors import CrmError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .error_messages import choose_language, translate
from .rpc import RemoteError, RpcTimeout, ServiceUnavailable

log = logging.getLogger(__name__)

# remote exception path → (HTTP status, error code, pass the remote message and details on?)
REMOTE_ERRORS: dict[str, tuple[int, str, bool]] = {
    "crm_common.errors.NotFound": (404, "NOT_FOUND", True),
    "crm_common.errors.ValidationFailed": (422, "VALIDATION_FAILED", True),
    "crm_common.errors.Conflict": (409, "CONFLICT", True),
    "crm_common.errors.PermissionDenied": (403, "FORBIDDEN", True),
    "crm_common.errors.Unavailable": (503, "SERVICE_UNAVAILABLE", True),
    "nameko.exceptions.MethodNotFound": (501, "NOT_IMPLEMENTED", False),
    "nameko.exceptions.IncorrectSignature": (500, "INTERNAL", False),
    "nameko.exceptions.MalformedRequest": (500, "INTERNAL", False),
}
UNKNOWN_REMOTE_ERROR = (500, "INTERNAL", False)

# HTTP status → default error code (errors raised by the gateway itself and by Starlette)
STATUS_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    410: "GONE",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_FAILED",
    429: "RATE_LIMITED",
    500: "INTERNAL",
    501: "NOT_IMPLEMENTED",
    503: "SERVICE_UNAVAILABLE",
    504: "TIMEOUT",
}

GENERIC_MESSAGES = {
    500: "Internal error",
    501: "This operation is not implemented by the service",
}


class ApiError(Exception):
    """An error the gateway answers with (its own checks)."""

    def __init__(
        self,
        status: int,
        message: str,
        details: dict[str, Any] | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.status = status
        self.code = code or STATUS_CODES.get(status, "ERROR")
        self.message = message
        self.details = details or {}
        self.headers = headers
        super().__init__(message)


def unauthorized(message: str = "Not authenticated") -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str, details: dict[str, Any] | None = None) -> ApiError:
    return ApiError(403, message, details)


def not_found(message: str = "Not found", details: dict[str, Any] | None = None) -> ApiError:
    return ApiError(404, message, details)


def validation_failed(details: dict[str, list[str]], message: str | None = None) -> ApiError:
    return ApiError(422, message or "Invalid input: " + ", ".join(sorted(details)), details)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def from_remote(exc: RemoteError) -> ApiError:
    """THE mapping of a remote error to the gateway's answer."""
    status, code, public = REMOTE_ERRORS.get(exc.exc_path, UNKNOWN_REMOTE_ERROR)
    if public:
        details = exc.details if isinstance(exc.details, dict) else {}
        return ApiError(status, exc.message, details, code)
    log.error(
        "remote error from %s.%s: %s: %s (value %r)",
        exc.service,
        exc.method,
        exc.exc_path,
        exc.message,
        exc.value,
    )
    return ApiError(status, GENERIC_MESSAGES.get(status, "Internal error"), {}, code)


def from_local(exc: CrmError) -> ApiError:
    """A crm_common error raised in the gateway itself (user rules) → the same table."""
    cls = type(exc)
    for klass in cls.__mro__:
        entry = REMOTE_ERRORS.get(f"{klass.__module__}.{klass.__qualname__}")
        if entry is not None:
            return ApiError(entry[0], exc.message, exc.details, entry[1])
    log.error("unmapped error %r", exc)
    return ApiError(500, "Internal error")


def from_rpc_error(exc: Exception) -> ApiError:
    if isinstance(exc, CrmError):
        return from_local(exc)
    if isinstance(exc, RemoteError):
        return from_remote(exc)
    if isinstance(exc, ServiceUnavailable):
        log.warning("%s", exc)
        return ApiError(
            503, f"Service {exc.service!r} is unavailable, try again later", {"service": exc.service}
        )
    if isinstance(exc, RpcTimeout):
        log.warning("%s", exc)
        return ApiError(
            504,
            f"Service {exc.service!r} did not answer in time",
            {"service": exc.service, "timeout_seconds": exc.timeout},
        )
    log.error("unexpected error: %r", exc)
    return ApiError(500, "Internal error")


def as_body(exc: Exception) -> dict[str, Any]:
    """``{"error": {...}}`` of an RPC failure (per-service results of aggregated calls)."""
    err = exc if isinstance(exc, ApiError) else from_rpc_error(exc)
    return {**error_body(err.code, err.message, err.details), "status": err.status}


def validation_details(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """FastAPI/pydantic errors → ``{"field.path": [reason, ...]}``. The location part
    (``body``, ``query``, ``path``, ``header``, ``form``) is dropped; a body that is missing or
    not JSON at all is reported on ``body``."""
    details: dict[str, list[str]] = {}
    for err in errors:
        loc = list(err.get("loc") or ())
        if loc and loc[0] in ("body", "query", "path", "header", "cookie", "form"):
            where = loc.pop(0)
        else:
            where = "body"
        if err.get("type") == "json_invalid":
            loc = []  # the position inside the document is not a field
        key = ".".join(str(p) for p in loc) or where
        msg = str(err.get("msg") or "invalid")
        if msg.startswith("Value error, "):  # pydantic's prefix for our validators' ValueErrors
            msg = msg[len("Value error, ") :]
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            msg = f"Malformed JSON: {ctx.get('error', msg)}"
        details.setdefault(key, [])
        if msg not in details[key]:
            details[key].append(msg)
    return details


class Parts:
    """The results of :meth:`RpcClient.call_many` for a composed answer (dashboard, contract
    360): a service that does not answer leaves its part ``None`` and is named in
    ``unavailable``; a remote error whose HTTP status is in ``tolerate`` leaves it ``None`` too
    (403: named in ``forbidden``); any other error is raised as the request's answer."""

    def __init__(self, tolerate: tuple[int, ...] = ()) -> None:
        self.tolerate = tolerate
        self.forbidden: list[str] = []
        self.unavailable: list[str] = []

    def take(self, name: str, result: Any) -> Any:
        if isinstance(result, (ServiceUnavailable, RpcTimeout)) or (
            isinstance(result, RemoteError) and result.exc_path == "crm_common.errors.Unavailable"
        ):
            self.unavailable.append(name)
            return None
        if isinstance(result, BaseException):
            error = from_rpc_error(result)
            if isinstance(result, RemoteError) and error.status in self.tolerate:
                if error.status == 403:
                    self.forbidden.append(name)
                return None
            raise error
        return result


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(CrmError)
    @app.exception_handler(RemoteError)
    @app.exception_handler(ServiceUnavailable)
    @app.exception_handler(RpcTimeout)
    async def _rpc_error(request: Request, exc: Exception) -> JSONResponse:
        err = from_rpc_error(exc)
        return error_response(err.status, err.code, err.message, err.details)

    @app.exception_handler(RequestValidationError)
    async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = validation_details(list(exc.errors()))
        return error_response(
            422, "VALIDATION_FAILED", "Invalid input: " + ", ".join(sorted(details)), details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        message = exc.detail if isinstance(exc.detail, str) else STATUS_CODES.get(status, "Error")
        if status == 404 and message == "Not Found":
            message = f"No route {request.method} {request.url.path}"
        return error_response(
            status, STATUS_CODES.get(status, "ERROR"), message, {}, getattr(exc, "headers", None)
        )


MAX_ERROR_BODY = 1 << 20  # an error body larger than this is passed on as it is


class ErrorLanguageMiddleware:
    """Every JSON error answer (status >= 400, ``{"error": {"code", "message", ...}}``) gets its
    ``message`` in the caller's language and ``Content-Language`` (plus ``Vary:
    Accept-Language``); other answers pass untouched, streamed as they come.

    The language is the signed-in user's profile language (``request.state.user``, set by the
    authentication dependency), else the ``Accept-Language`` header's best supported match, else
    English (:func:`gateway.error_messages.choose_language`); an error answered before the token
    is checked (401, 413, a NUL in the query) has only the header. It sits inside the compression
    middleware and outside the ones that answer errors themselves (input limits, ETag/If-Match,
    the request context's last-resort 500).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with request.state, even in a copied scope
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_localized(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] >= 400 and _is_json(message):
                    start = message  # held until the body is complete
                    return
            elif start is not None and message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                held, start = start, None
                await _send_error(send, held, b"".join(chunks), _language(scope, state))
                return
            await send(message)

        await self.app(scope, receive, send_localized)


def _is_json(start: Message) -> bool:
    for name, value in start.get("headers", ()):
        if name.lower() == b"content-type":
            ctype = value.split(b";")[0].strip().lower()
            return ctype == b"application/json" or ctype.endswith(b"+json")
    return False


def _language(scope: Scope, state: Any) -> str:
    user = state.get("user") if isinstance(state, dict) else None
    accept = None
    for name, value in scope.get("headers", ()):
        if name == b"accept-language":
            accept = value.decode("latin-1")
            break
    return choose_language(getattr(user, "language", None), accept)


async def _send_error(send: Send, start: Message, body: bytes, language: str) -> None:
    """Send the held answer: an error body's message translated, with ``Content-Language``; any
    other body (or none, a HEAD answer) as it was."""
    headers = MutableHeaders(raw=list(start["headers"]))
    document = _error_document(body)
    if document is not None:
        error = document["error"]
        message, used = translate(error["code"], language, error["message"], error.get("details"))
        if message != error["message"]:
            error["message"] = message
            body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
            headers["content-length"] = str(len(body))
        headers["content-language"] = used
        headers.add_vary_header("Accept-Language")
    await send({**start, "headers": headers.raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _error_document(body: bytes) -> dict[str, Any] | None:
    """``body`` parsed when it is an error body ``{"error": {"code", "message", ...}}``."""
    if not body or len(body) > MAX_ERROR_BODY:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    error = document.get("error") if isinstance(document, dict) else None
    if (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
    ):
        return document
    return None
