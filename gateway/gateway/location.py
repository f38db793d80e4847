"""``Location`` on ``201 Created``: where to GET the resource a request just created.

:class:`LocationMiddleware` looks at every ``201`` JSON answer whose body is an object with an
``id`` and, when the app has a GET route for that resource, adds ``Location`` (a path, with the
proxy's ``root_path``). The GET route is found by matching concrete paths against the app's own
routes, in this order:

1. the request's path and the id (``POST /api/v1/customers`` → ``/api/v1/customers/42``;
   ``POST /api/v1/contracts/7/amendments`` → ``/api/v1/contracts/7/amendments/3``);
2. the last segment of the request's path as a top-level collection under the same API prefix
   (``POST /api/v1/invoices/9/credit-notes`` → ``/api/v1/credit-notes/5``);
3. for an action that creates a sibling of its resource (:data:`SIBLING_ACTIONS`), the
   resource's own collection (``POST /api/v1/contracts/7/renew`` → ``/api/v1/contracts/8``).

A resource with no GET route of its own (a contact, a follow-up) gets no ``Location``.
:func:`document_locations` declares the header on the ``201`` responses of the operations
where the same rule finds a route (the OpenAPI document is post-processed once)."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .listing import find_route, route_path

API_PREFIX = re.compile(r"^(/api/v\d+)/")
HOLD_METHODS = {"POST", "PUT"}
# actions whose answer is a new resource of the same collection as the one acted on
SIBLING_ACTIONS = frozenset({"renew"})


def _candidates(path: str, new_id: str) -> list[str]:
    base = path.rstrip("/")
    found = [f"{base}/{new_id}"]
    prefix = API_PREFIX.match(base)
    segments = base.split("/")
    if prefix is not None and len(segments) > 4:  # nested: /api/v1/<parent>/<id>/<collection>
        found.append(f"{prefix.group(1)}/{segments[-1]}/{new_id}")
        if segments[-1] in SIBLING_ACTIONS:
            found.append(f"{'/'.join(segments[:-2])}/{new_id}")
    return found


def resource_path(app: Any, path: str, new_id: Any) -> str | None:
    """The path of the GET route of the resource ``new_id`` created by a request to ``path``
    (without ``root_path``), or None when the app has no such route."""
    if isinstance(new_id, bool) or not isinstance(new_id, (int, str)) or str(new_id) in ("", "/"):
        return None
    text = str(new_id)
    if "/" in text or "?" in text or "#" in text:
        return None
    for candidate in _candidates(path, text):
        route = find_route(app, "GET", candidate)
        if route is not None and route.path.endswith("}"):
            return candidate
    return None


def _created_id(body: bytes) -> Any:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document.get("id") if isinstance(document, dict) else None


class LocationMiddleware:
    """Pure ASGI: holds back the start of a ``201`` JSON answer without ``Location`` until its
    body is complete, then adds ``Location`` when :func:`resource_path` finds the resource's
    GET route. Every other answer passes through untouched."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in HOLD_METHODS:
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        chunks: list[bytes] = []

        async def send_wrapper(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and _wants_location(message):
                held = message
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            start, held = held, None
            await send(_with_location(start, scope, body))
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, send_wrapper)


def _wants_location(start: Message) -> bool:
    if start.get("status") != 201:
        return False
    headers = dict((k.lower(), v) for k, v in start.get("headers", []))
    ctype = headers.get(b"content-type", b"").split(b";")[0].strip()
    return b"location" not in headers and ctype == b"application/json"


def _with_location(start: Message, scope: Scope, body: bytes) -> Message:
    found = resource_path(scope.get("app"), route_path(scope), _created_id(body))
    if found is None:
        return start
    return {
        **start,
        "headers": [
            *start.get("headers", []),
            (b"location", (scope.get("root_path", "") + found).encode("utf-8")),
        ],
    }


LOCATION_HEADER = {
    "description": "Path of the new resource: GET it there",
    "schema": {"type": "string", "format": "uri-reference"},
}


def document_locations(app: Any, document: dict[str, Any]) -> None:
    """Declare ``Location`` on the ``201`` response of every operation whose new resource has
    a GET route (found by :func:`resource_path` with placeholder ids)."""
    for template, operations in document.get("paths", {}).items():
        concrete = re.sub(r"\{[^}]+\}", "1", template)
        for method, operation in operations.items():
            created = operation.get("responses", {}).get("201") if isinstance(operation, dict) else None
            if method.upper() not in HOLD_METHODS or created is None:
                continue
            if resource_path(app, concrete, 1) is not None:
                created.setdefault("headers", {})["Location"] = LOCATION_HEADER
