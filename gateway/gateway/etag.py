"""``ETag`` and ``If-Match`` on the JSON resources people edit (customers, contracts, products),
so two people editing the same record do not overwrite each other silently.

* ``GET /api/v1/{customers,contracts,products}/{id}`` answers ``ETag: "<hash of the body>"``
  (strong; the body as JSON, before compression); ``If-None-Match`` with it → 304.
* ``PATCH``/``PUT`` there with ``If-Match``: the gateway reads the record first (the same GET,
  with the caller's own credentials) and, when its ETag is not among those sent, answers
  412 ``PRECONDITION_FAILED`` without passing the write on. ``If-Match: *`` only needs the record
  to exist. A successful write answers the record's new ``ETag``.

The check and the write are two calls: a write landing between them is not caught (the services
have no conditional update); the window is the length of one RPC.

One pure ASGI middleware (:class:`ETagMiddleware`) for every such route, inside the request-id
middleware and outside routing, so the reads it makes run through the same authentication and
scopes as the caller's own request.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body

EDITABLE = re.compile(r"^/api/v1/(customers|contracts|products)/[^/]+$")
WRITES = ("PATCH", "PUT")
# request headers the internal read does not carry over
_DROPPED = {b"if-match", b"if-none-match", b"content-type", b"content-length", b"accept-encoding"}


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def tags(header: str | None) -> list[str]:
    """The entity tags of an ``If-Match``/``If-None-Match`` header (``*`` kept as is)."""
    return [t.strip() for t in (header or "").split(",") if t.strip()]


class _Captured:
    def __init__(self) -> None:
        self.start: Message | None = None
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    @property
    def is_json(self) -> bool:
        if self.start is None:
            return False
        content_type = Headers(raw=self.start.get("headers", [])).get("content-type", "")
        return content_type.split(";")[0].strip().endswith("json")


def _with_header(start: Message, name: bytes, value: str) -> Message:
    headers = [h for h in start.get("headers", []) if h[0].lower() != name]
    headers.append((name, value.encode("latin-1")))
    return {**start, "headers": headers}


class ETagMiddleware:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not EDITABLE.match(self._path(scope)):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method in ("GET", "HEAD"):
            await self._read(scope, receive, send)
        elif method in WRITES:
            await self._write(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    @staticmethod
    def _path(scope: Scope) -> str:
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        return path[len(root) :] if root and path.startswith(root) else path

    async def _read(self, scope: Scope, receive: Receive, send: Send) -> None:
        captured = _Captured()
        await self.app(scope, receive, captured.send)
        assert captured.start is not None
        start: Message = captured.start
        body = bytes(captured.body)
        if captured.status == 200 and captured.is_json:
            tag = etag_of(body) if scope["method"] == "GET" else (await self._current(scope))[1]
            if tag is not None:
                start = _with_header(start, b"etag", tag)
                if tag in tags(Headers(scope=scope).get("if-none-match")):
                    headers = [
                        h
                        for h in start["headers"]
                        if h[0].lower() not in (b"content-length", b"content-type")
                    ]
                    await send({"type": "http.response.start", "status": 304, "headers": headers})
                    await send({"type": "http.response.body", "body": b""})
                    return
        await send(start)
        await send({"type": "http.response.body", "body": body})

    async def _write(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = tags(Headers(scope=scope).get("if-match"))
        if wanted:
            status, current = await self._current(scope)
            if status == 200 and current is not None and "*" not in wanted and current not in wanted:
                await self._precondition_failed(send, current, wanted)
                return
            # not readable (401, 403, 404, ...): the write itself answers the same way
        captured = _Captured()
        await self.app(scope, receive, captured.send)
        assert captured.start is not None
        start: Message = captured.start
        if 200 <= captured.status < 300:
            status, fresh = await self._current(scope)
            if status == 200 and fresh is not None:
                start = _with_header(start, b"etag", fresh)
        await send(start)
        await send({"type": "http.response.body", "body": bytes(captured.body)})

    async def _current(self, scope: Scope) -> tuple[int, str | None]:
        """The record as the caller reads it now: (status, its ETag when it is 200 JSON)."""
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in _DROPPED]
        read_scope = {**scope, "method": "GET", "headers": headers, "query_string": b""}
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": b"", "more_body": False}
            return {"type": "http.disconnect"}

        captured = _Captured()
        await self.app(read_scope, receive, captured.send)
        if captured.status == 200 and captured.is_json:
            return 200, etag_of(bytes(captured.body))
        return captured.status, None

    @staticmethod
    async def _precondition_failed(send: Send, current: str, wanted: list[str]) -> None:
        details: dict[str, Any] = {"if_match": wanted, "etag": current}
        body = json.dumps(
            error_body(
                "PRECONDITION_FAILED",
                "The record was changed since you read it (If-Match does not match its ETag): "
                "read it again and reapply your change",
                details,
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 412,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"etag", current.encode("latin-1")),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def document_etags(app: Any) -> None:
    """Say it in the OpenAPI document: ``ETag`` on the reads and writes of these records,
    ``If-None-Match`` → 304, ``If-Match`` on the writes and its 412."""
    generate = app.openapi
    etag_header = {"ETag": {"description": "the record's version", "schema": {"type": "string"}}}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}

    def header(name: str, description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "header",
            "required": False,
            "description": description,
            "schema": {"type": "string"},
        }

    def openapi() -> dict[str, Any]:
        document = generate()
        for path, operations in document.get("paths", {}).items():
            if not EDITABLE.match(path):
                continue
            for method, operation in operations.items():
                parameters = operation.setdefault("parameters", [])
                names = {p.get("name") for p in parameters}
                responses = operation.setdefault("responses", {})
                if method == "get":
                    if "If-None-Match" not in names:
                        parameters.append(
                            header("If-None-Match", "the ETag you hold: 304 while it is current")
                        )
                    responses.setdefault("304", {"description": "Not modified (the ETag sent is current)"})
                elif method.upper() in WRITES:
                    if "If-Match" not in names:
                        parameters.append(
                            header("If-Match", "the ETag you read: 412 when the record changed since")
                        )
                    responses.setdefault(
                        "412",
                        {
                            "description": "The record changed since it was read (PRECONDITION_FAILED)",
                            "content": error,
                        },
                    )
                else:
                    continue
                ok = responses.get("200")
                if ok is not None:
                    ok.setdefault("headers", {}).update(etag_header)
        return document

    app.openapi = openapi
