"""The ``Idempotency-Key`` request header: a client that retries a create or a money-moving
request (after a timeout, a dropped connection, a 5xx) sends the same key again and gets the
first result back, with nothing done twice.

The gateway turns the key into the request id it sends to the services
(``nameko.request_id``): a hash of the caller (user or API key), the HTTP method, the path and
the key, so one client's key never meets another's, nor another route's. The services store
that id with the effect of every create and money-moving call in the same transaction
(``crm_common.idempotency``): a replay returns the first result (the same record, the same id);
the same key with a different body is refused with 422 (``VALIDATION_FAILED``,
``details.idempotency_key``), as the IETF draft on the header says. Without the header, the
request's own id (``X-Request-ID`` or a fresh one) plays that part, which protects a request
RabbitMQ delivers twice but not a client's retry.

The header is read on every state-changing request that reaches a service and documented on
the routes that create or move money (``dependencies=[IDEMPOTENCY_HEADER]``)."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from fastapi import Depends, Header, Request

from .errors import ApiError
from .users import UserInfo

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
PREFIX = "ik-"
# visible ASCII: a UUID, a ULID, any client-chosen token
_KEY = re.compile(r"^[\x21-\x7e]{1," + str(MAX_KEY_LENGTH) + "}$")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DESCRIPTION = (
    "A unique key of the client's choosing (e.g. a UUID, at most 255 visible ASCII characters). "
    "Send the same key when retrying the same request: the first result comes back, nothing is "
    "done twice (kept 7 days). The same key with a different body → 422."
)


def bad_key(reason: str) -> ApiError:
    return ApiError(422, f"Idempotency-Key: {reason}", {"idempotency_key": [reason]}, "VALIDATION_FAILED")


def check_key(raw: str) -> str:
    if not _KEY.match(raw):
        raise bad_key(f"1 to {MAX_KEY_LENGTH} visible ASCII characters, no spaces")
    return raw


def derive_request_id(user: UserInfo, method: str, path: str, key: str) -> str:
    """The request id of ``key`` sent by ``user`` to ``method path``: ``ik-`` and 40 hex digits
    (fits every request id column)."""
    who = f"key:{user.api_key_id}" if user.api_key_id is not None else f"user:{user.id}"
    text = "\x1f".join((who, method.upper(), path, key))
    return PREFIX + hashlib.sha256(text.encode()).hexdigest()[:40]


def request_id_for(request: Request, path: str, user: UserInfo) -> str | None:
    """The request id derived from the request's ``Idempotency-Key``, if it has one and changes
    state; ``None`` otherwise (the request keeps its own id). A malformed key → 422."""
    raw = request.headers.get(HEADER)
    if raw is None or request.method in SAFE_METHODS:
        return None
    return derive_request_id(user, request.method, path, check_key(raw.strip()))


async def idempotency_header(
    idempotency_key: Annotated[
        str | None,
        Header(alias="Idempotency-Key", max_length=MAX_KEY_LENGTH, description=DESCRIPTION),
    ] = None,
) -> None:
    """Documents the header on a route (the caller dependency is what reads it)."""


IDEMPOTENCY_HEADER = Depends(idempotency_header)
