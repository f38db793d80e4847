"""Signed caller context: the broker is not a trust boundary.

A call's caller context (context data ``caller``, the JSON of the :class:`CallerContext`, and
``request_id``) travels in AMQP headers, which anyone connected to RabbitMQ can write. So every
call that carries a caller also carries an HMAC-SHA256 signature over

    ["crm-ctx-v1", "<service>.<method>", request_id, expires, caller JSON]

(headers ``nameko.caller_sig`` and ``nameko.caller_expires``, a Unix time) made with the key
every process of the installation has, ``CRM_CONTEXT_KEY``. The gateway signs its calls
(``gateway.rpc``); a service re-signs the context it propagates for each call it makes
(:class:`crm_common.rpc.RpcProxy`, :class:`crm_common.rpc.ClusterRpcProxy`), since the signature
names the target method. Every ``@rpc`` entrypoint (:class:`crm_common.rpc.Rpc`) checks it before
a worker runs and answers :class:`UntrustedCallerContext` to an unsigned, expired (beyond
``CRM_CONTEXT_CLOCK_SKEW_SECONDS``, default 30) or altered context. A call without any caller
runs as an anonymous caller, which every method needing a user refuses.

Events are signed with the same key (:func:`sign_event`, :func:`event_problem`): the outbox relay
signs what it publishes (header ``x-crm-signature``), every ``@event_handler`` parks an unsigned
or altered event in its dead-letter queue before any worker runs.

Key: ``CRM_CONTEXT_KEY``; ``CRM_CONTEXT_KEY_PREVIOUS`` is also accepted when verifying (rotation).
Without ``CRM_CONTEXT_KEY`` (development only) the key of the installation is kept in
``$CRM_DATA_DIR/context-key`` (generated once, mode 0600). With ``CRM_ENV=production`` a missing,
short, low-entropy or published key stops the process at start (:func:`check_context_key`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nameko.exceptions import deserialize_to_instance

from .context import CALLER_KEY, REQUEST_ID_KEY
from .errors import PermissionDenied
from .keyfile import load_or_create_secret, secret_problem

log = logging.getLogger(__name__)

KEY_ENV = "CRM_CONTEXT_KEY"
PREVIOUS_ENV = "CRM_CONTEXT_KEY_PREVIOUS"
TTL_ENV = "CRM_CONTEXT_TTL_SECONDS"
SKEW_ENV = "CRM_CONTEXT_CLOCK_SKEW_SECONDS"
KEY_FILE = "context-key"
# context data keys (AMQP headers ``nameko.caller_sig``, ``nameko.caller_expires``)
SIGNATURE_KEY = "caller_sig"
EXPIRES_KEY = "caller_expires"
VERSION = "crm-ctx-v1"
DEFAULT_TTL_SECONDS = 60.0
DEFAULT_SKEW_SECONDS = 30.0

REASONS = {
    "unsigned": "the caller context is not signed",
    "malformed": "the caller context's signature is malformed",
    "expired": "the caller context's signature has expired",
    "bad_signature": (
        "the caller context's signature does not match (altered, signed for another method, "
        "or with another key)"
    ),
    "no_key": "the service has no usable caller-context key",
}


@deserialize_to_instance
class UntrustedCallerContext(PermissionDenied):
    """A call whose caller context is unsigned, expired or altered: refused before any worker
    runs. A :class:`PermissionDenied` for services; the gateway answers 500 (its own calls are
    signed, so a refusal means the processes disagree about the key)."""

    code = "UNTRUSTED_CALLER_CONTEXT"


class ContextKeyError(RuntimeError):
    """The caller-context key is missing or unfit (the process must not start)."""


def production() -> bool:
    return os.environ.get("CRM_ENV", "").strip().lower() == "production"


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


def default_ttl() -> float:
    """Seconds a signature stays valid when the call has no timeout of its own."""
    return _env_float(TTL_ENV, DEFAULT_TTL_SECONDS)


def clock_skew() -> float:
    """Seconds past its expiry a signature is still accepted (clocks of hosts differ)."""
    return max(_env_float(SKEW_ENV, DEFAULT_SKEW_SECONDS), 0.0)


# -- keys ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContextKeys:
    current: bytes
    previous: bytes | None
    source: str  # "CRM_CONTEXT_KEY" or the key file

    @property
    def verifying(self) -> tuple[bytes, ...]:
        return (self.current,) if self.previous is None else (self.current, self.previous)


_cache: dict[tuple[str, ...], ContextKeys] = {}


def context_keys() -> ContextKeys:
    """The keys of this process: ``CRM_CONTEXT_KEY`` (signs and verifies) and
    ``CRM_CONTEXT_KEY_PREVIOUS`` (verifies only); without ``CRM_CONTEXT_KEY`` outside production,
    the installation's key file ``$CRM_DATA_DIR/context-key`` (created on first use)."""
    current = os.environ.get(KEY_ENV, "").strip()
    previous = os.environ.get(PREVIOUS_ENV, "").strip()
    if current:
        cache_key = ("env", current, previous)
    elif production():
        raise ContextKeyError(f"{KEY_ENV} is not set (required with CRM_ENV=production)")
    else:
        cache_key = ("file", os.environ.get("CRM_DATA_DIR", ""), previous)
    keys = _cache.get(cache_key)
    if keys is None:
        source = KEY_ENV
        if not current:
            from .config import data_dir

            path = data_dir() / KEY_FILE
            current = load_or_create_secret(
                path, "caller-context key", "every process of the installation must then restart"
            )
            source = str(path)
        keys = ContextKeys(current.encode(), previous.encode() if previous else None, source)
        _cache[cache_key] = keys
    return keys


def check_context_key(component: str = "") -> ContextKeys:
    """At start: the keys this process will use. With ``CRM_ENV=production`` a missing, short
    (< 32 bytes), low-entropy or published (placeholder) key — current or previous — raises
    :class:`ContextKeyError`; otherwise a weak key is only logged."""
    who = f"{component}: " if component else ""
    for name in (KEY_ENV, PREVIOUS_ENV):
        value = os.environ.get(name, "").strip()
        if not value and name == PREVIOUS_ENV:
            continue
        if not value and not production():
            continue  # the installation's key file (checked when loaded)
        problem = secret_problem(value)
        if problem is None:
            continue
        if production():
            raise ContextKeyError(
                f"{who}{name} {problem}: with CRM_ENV=production it must be at least 32 random "
                "bytes (e.g. `openssl rand -hex 32`), the same in every process"
            )
        log.warning("%s%s %s (acceptable only in development)", who, name, problem)
    keys = context_keys()
    if keys.source != KEY_ENV:
        log.warning(
            "%s%s is not set: using this installation's key in %s (development only; every "
            "process must share it)",
            who,
            KEY_ENV,
            keys.source,
        )
    return keys


# -- signing and verifying -------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, str):
        return value
    return None


def _request_id(data: Mapping[str, Any]) -> str:
    value = data.get(REQUEST_ID_KEY)
    if value is None:
        return ""
    text = _text(value)
    return text if text is not None else str(value)


def signature(key: bytes, caller_json: str, target: str, request_id: str, expires: int) -> str:
    """HMAC-SHA256 (hex) of one call's caller context for ``target`` (``service.method``)."""
    message = json.dumps([VERSION, target, request_id, int(expires), caller_json], separators=(",", ":"))
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_context_data(
    context_data: Mapping[str, Any],
    target: str,
    ttl: float | None = None,
    *,
    now: float | None = None,
    key: bytes | None = None,
) -> dict[str, Any]:
    """``context_data`` for a call to ``target`` (``service.method``): a signature made with this
    process's key, valid ``ttl`` seconds (default :func:`default_ttl`), replaces any signature
    it carried. Context data without a caller (an anonymous call) is returned unsigned."""
    data = {k: v for k, v in context_data.items() if k not in (SIGNATURE_KEY, EXPIRES_KEY)}
    caller = _text(data.get(CALLER_KEY))
    if caller is None:
        return data
    data[CALLER_KEY] = caller
    lifetime = ttl if ttl and ttl > 0 else default_ttl()
    expires = int(math.ceil((time.time() if now is None else now) + lifetime))
    signing_key = key if key is not None else context_keys().current
    data[EXPIRES_KEY] = str(expires)
    data[SIGNATURE_KEY] = signature(signing_key, caller, target, _request_id(data), expires)
    return data


def context_problem(
    context_data: Mapping[str, Any],
    target: str,
    *,
    now: float | None = None,
    keys: ContextKeys | None = None,
) -> str | None:
    """Why the caller context of a call to ``target`` must not be trusted (a key of
    :data:`REASONS`), or None: it carries no caller (anonymous) or a valid, unexpired signature
    made with the current or the previous key."""
    if context_data.get(CALLER_KEY) is None:
        return None
    caller = _text(context_data.get(CALLER_KEY))
    sig = context_data.get(SIGNATURE_KEY)
    raw_expires = context_data.get(EXPIRES_KEY)
    if sig is None and raw_expires is None:
        return "unsigned"
    sig_text = _text(sig)
    try:
        expires = int(_text(raw_expires) or "")
    except ValueError:
        return "malformed"
    if caller is None or sig_text is None or len(sig_text) != 64:
        return "malformed"
    request_id = _request_id(context_data)
    for key in (keys or context_keys()).verifying:
        if hmac.compare_digest(signature(key, caller, target, request_id, expires), sig_text):
            if (time.time() if now is None else now) > expires + clock_skew():
                return "expired"
            return None
    return "bad_signature"


# -- events ----------------------------------------------------------------------------------
# An event is trusted only with an HMAC-SHA256 (hex, AMQP header ``x-crm-signature``) made with
# the same key over ["crm-evt-v1", source service, event type, event id, sha256 of the body
# bytes exactly as published]. Retries, parking and ``crm-dlq replay`` copy body and headers
# unchanged, so the signature survives them; it has no expiry (events wait in queues for hours).

EVENT_VERSION = "crm-evt-v1"
EVENT_SIGNATURE_HEADER = "x-crm-signature"

EVENT_REASONS = {
    "unsigned": "the event is not signed",
    "malformed": "the event's signature is malformed",
    "bad_signature": (
        "the event's signature does not match (altered body, another source, type or event id, "
        "or another key)"
    ),
    "no_key": "the service has no usable context key",
}


def _body_bytes(body: bytes | bytearray | memoryview | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def event_signature(key: bytes, source: str, event_type: str, event_id: str, body: bytes) -> str:
    """HMAC-SHA256 (hex) of one event as published: ``body`` is the exact message body."""
    digest = hashlib.sha256(_body_bytes(body)).hexdigest()
    message = json.dumps([EVENT_VERSION, source, event_type, event_id, digest], separators=(",", ":"))
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_event(
    source: str, event_type: str, event_id: str, body: bytes | str, *, key: bytes | None = None
) -> str:
    """The ``x-crm-signature`` header value of an event ``source`` publishes (current key)."""
    signing_key = key if key is not None else context_keys().current
    return event_signature(signing_key, source, event_type, event_id, _body_bytes(body))


def event_headers(source: str, event_type: str, event_id: str, body: bytes | str) -> dict[str, str]:
    """The headers of a published event: ``event_id``, ``event_type`` and its signature."""
    return {
        "event_id": event_id,
        "event_type": event_type,
        EVENT_SIGNATURE_HEADER: sign_event(source, event_type, event_id, body),
    }


def event_problem(
    headers: Mapping[str, Any] | None,
    body: bytes | str,
    source: str,
    event_type: str,
    *,
    keys: ContextKeys | None = None,
) -> str | None:
    """Why an event received from ``source``'s exchange as ``event_type`` must not be trusted
    (a key of :data:`EVENT_REASONS`), or None: its signature, made with the current or the
    previous key, covers this source, type, its ``event_id`` header and these body bytes."""
    headers = headers or {}
    sig = headers.get(EVENT_SIGNATURE_HEADER)
    if sig is None:
        return "unsigned"
    sig_text = _text(sig)
    event_id = _text(headers.get("event_id"))
    if sig_text is None or len(sig_text) != 64 or event_id is None:
        return "malformed"
    raw = _body_bytes(body)
    for key in (keys or context_keys()).verifying:
        if hmac.compare_digest(event_signature(key, source, event_type, event_id, raw), sig_text):
            return None
    return "bad_signature"


def untrusted(reason: str, target: str) -> UntrustedCallerContext:
    return UntrustedCallerContext(
        f"Call refused: {REASONS.get(reason, reason)}", {"reason": reason, "target": target}
    )


__all__ = [
    "ContextKeyError",
    "ContextKeys",
    "UntrustedCallerContext",
    "check_context_key",
    "context_keys",
    "context_problem",
    "event_headers",
    "event_problem",
    "event_signature",
    "sign_event",
    "sign_context_data",
    "signature",
]
