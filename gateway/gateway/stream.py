"""Server-sent events for the signed-in user (``GET /api/v1/notifications/stream``): their new
inbox notifications and the tasks opened or closed for them, so screens update without polling.

Each gateway process consumes the notify service's events on its own exclusive, auto-delete
queue (``gateway.stream-<uuid>``, bound to ``notify.events`` for :data:`STREAM_EVENTS`) and fans
them out to the streams connected to it:

* ``inbox_notification_created`` → ``event: notification`` to the stream(s) of ``user_id``;
* ``task_opened`` / ``task_closed`` → ``event: task`` to whoever may list the task (as notify's
  own scope: the assignee; with no assignee, every holder of ``assignee_role``; admins: all).

Only events signed by notify's outbox relay (``x-crm-signature``, :mod:`crm_common.signing`)
are passed on; anything else published on ``notify.events`` is dropped with a warning and
counted (``crm_untrusted_events_total``).

``data:`` is the event's payload as JSON (a notification as ``GET /notifications`` lists it, plus
``user_id``; a task with ``status`` open/done/cancelled), ``id:`` the event's id. The stream opens
with ``event: ready`` (reload your lists now: nothing is replayed from before it), sends a
``: heartbeat`` comment every ``CRM_SSE_HEARTBEAT_SECONDS`` (15 s) and ends when this process
loses the broker or the client falls too far behind, so ``EventSource`` reconnects (``retry``:
3 s) and the page reloads its lists on the next ``ready``.

``EventSource`` cannot send headers: this route (only) also takes the access token as
``?access_token=``. A stream ends when its token expires: reconnect with a fresh token (an
``EventSource`` keeps its URL, so the page opens a new one after refreshing its token).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import aiormq
import jwt
from aiormq.abc import DeliveredMessage
from crm_common.signing import event_problem
from fastapi import Depends, Query, Request
from fastapi.sse import EventSourceResponse, format_sse_event

from . import metrics, users
from .deps import State, get_current_user, oauth2_scheme
from .errors import ApiError

log = logging.getLogger(__name__)

SOURCE = "notify"
EXCHANGE = f"{SOURCE}.events"
UNTRUSTED_EVENTS = metrics.registry.counter(
    "crm_untrusted_events_total",
    "Events dropped because they were unsigned or their signature did not match.",
    ("service", "source", "event_type", "reason"),
)
# routing key (event type) → the SSE event name
STREAM_EVENTS = {
    "inbox_notification_created": "notification",
    "task_opened": "task",
    "task_closed": "task",
}
QUEUE_SIZE = 200
RETRY_MS = 3000
HEARTBEAT = b": heartbeat\n\n"


@dataclass(eq=False)
class Subscriber:
    """One open stream: the user it belongs to and the events waiting to be sent (``None``:
    end the stream, the client reconnects and reloads)."""

    user_id: int
    roles: frozenset[str]
    queue: asyncio.Queue[tuple[str, str, dict[str, Any]] | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    ended: bool = False

    def wants(self, name: str, payload: dict[str, Any]) -> bool:
        if name == "notification":
            return payload.get("user_id") == self.user_id
        if "admin" in self.roles:
            return True
        assignee = payload.get("assignee_id")
        if assignee is not None:
            return assignee == self.user_id
        return payload.get("assignee_role") in self.roles

    def offer(self, item: tuple[str, str, dict[str, Any]] | None) -> None:
        if self.ended:
            return
        if item is None or self.queue.full():
            # the end, or too far behind: drop what waits and end the stream (the page
            # reconnects and reloads its lists)
            self.ended = True
            while not self.queue.empty():
                self.queue.get_nowait()
        self.queue.put_nowait(item if not self.ended else None)


class EventHub:
    """The process's consumer of notify's events and the registry of open streams."""

    def __init__(self, amqp_uri: str, *, name: str = "gateway", max_backoff: float = 10.0):
        self.amqp_uri = amqp_uri
        self.name = name
        self.max_backoff = max_backoff
        self.subscribers: set[Subscriber] = set()
        self.queue_name: str | None = None
        self.received = 0
        self.untrusted = 0
        self._connection: aiormq.Connection | None = None
        self._ready = asyncio.Event()
        self._runner: asyncio.Task | None = None
        self._closed = False
        self.last_error: str | None = None

    # -- streams -------------------------------------------------------------------------
    def subscribe(self, user: users.UserInfo) -> Subscriber:
        sub = Subscriber(int(user.id), frozenset(user.roles))
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def dispatch(self, event_type: str, event_id: str, payload: dict[str, Any]) -> int:
        """Hand one event to the streams that may see it; returns how many."""
        name = STREAM_EVENTS.get(event_type)
        if name is None:
            return 0
        count = 0
        for sub in list(self.subscribers):
            if sub.wants(name, payload):
                sub.offer((name, event_id, payload))
                count += 1
        return count

    def _trusted(self, message: DeliveredMessage) -> bool:
        """Only events notify's outbox relay signed reach a stream (``crm_common.signing``): a
        forged one is dropped — this queue is the process's own and transient, there is no DLQ —
        with a WARNING and ``crm_untrusted_events_total``."""
        headers = dict(getattr(message.header.properties, "headers", None) or {})
        event_type = str(message.routing_key or "")
        try:
            reason = event_problem(headers, message.body, SOURCE, event_type)
        except Exception as exc:  # no usable key: refuse rather than trust
            log.error("event stream: cannot verify events: %s", exc)
            reason = "no_key"
        if reason is None:
            return True
        self.untrusted += 1
        UNTRUSTED_EVENTS.inc("gateway", SOURCE, event_type[:100], reason)
        log.warning(
            "event stream: untrusted event dropped: %s (claimed type %.100r, event %.100r)",
            reason,
            event_type,
            headers.get("event_id"),
        )
        return False

    def _end_all_streams(self) -> None:
        for sub in list(self.subscribers):
            sub.offer(None)

    # -- broker --------------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        conn = self._connection
        return self._ready.is_set() and conn is not None and not conn.is_closed

    async def start(self, wait: float = 5.0) -> bool:
        if self._runner is None:
            self._closed = False
            self._runner = asyncio.create_task(self._run(), name=f"event-hub-{self.name}")
        if wait:
            try:
                await asyncio.wait_for(self._ready.wait(), wait)
            except TimeoutError:
                log.warning("event stream: broker not reachable yet (%s)", self.last_error)
        return self.connected

    async def close(self) -> None:
        self._closed = True
        self._end_all_streams()
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            try:
                await runner
            except (asyncio.CancelledError, Exception):
                pass
        await self._teardown()

    async def _run(self) -> None:
        backoff = 0.2
        while not self._closed:
            try:
                await asyncio.wait_for(self._connect(), 15)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                await self._teardown()
                delay = backoff * (1 + random.random() / 2)
                log.warning("event stream: cannot connect (%s); retrying in %.1f s", self.last_error, delay)
                await asyncio.sleep(delay)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = 0.2
            self._ready.set()
            log.info("event stream: consuming %s on %s", ",".join(STREAM_EVENTS), self.queue_name)
            conn = self._connection
            assert conn is not None
            try:
                await conn.closing
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
            if not self._closed:
                log.warning("event stream: broker connection lost (%s); reconnecting", self.last_error)
            # events published while we were away are not seen: every stream reconnects and
            # its page reloads
            self._end_all_streams()
            await self._teardown()

    async def _connect(self) -> None:
        conn = aiormq.Connection(
            self.amqp_uri, client_properties={"connection_name": f"{self.name}-event-stream"}
        )
        await conn.connect()
        try:
            channel = await conn.channel()
            await channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
            queue = f"{self.name}.stream-{uuid.uuid4().hex}"
            await channel.queue_declare(queue, exclusive=True, auto_delete=True)
            for event_type in STREAM_EVENTS:
                await channel.queue_bind(queue, EXCHANGE, routing_key=event_type)
            await channel.basic_consume(queue, self._on_message, no_ack=True)
        except BaseException:
            await conn.close()
            raise
        self._connection, self.queue_name = conn, queue

    async def _teardown(self) -> None:
        self._ready.clear()
        conn, self._connection = self._connection, None
        if conn is not None and not conn.is_closed:
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:  # pragma: no cover - closing a broken connection
                pass

    async def _on_message(self, message: DeliveredMessage) -> None:
        self.received += 1
        if not self._trusted(message):
            return
        try:
            envelope = json.loads(message.body)
            payload = envelope["payload"]
            event_type = str(envelope.get("type") or message.routing_key)
            event_id = str(envelope.get("event_id") or "")
            if not isinstance(payload, dict):
                raise ValueError("payload is not an object")
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("event stream: unreadable %s event skipped: %s", message.routing_key, exc)
            return
        self.dispatch(event_type, event_id, payload)


# -- the route's pieces ---------------------------------------------------------------------


async def stream_user(
    request: Request,
    state: State,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    access_token: Annotated[
        str | None,
        Query(
            max_length=4096,
            description="The access token, for clients that cannot send an Authorization header "
            "(a browser's EventSource); the header wins when both are sent",
        ),
    ] = None,
) -> users.UserInfo:
    """The signed-in user from ``Authorization: Bearer`` or ``?access_token=`` (this route only);
    the token's expiry is kept for the stream, which ends then."""
    user = await get_current_user(request, state, token or access_token)
    claims = jwt.decode(token or access_token or "", options={"verify_signature": False})
    request.state.token_expires = float(claims["exp"])
    return user


StreamUser = Annotated[users.UserInfo, Depends(stream_user)]


def get_hub(request: Request) -> EventHub:
    hub: EventHub | None = getattr(request.app.state, "event_hub", None)
    if hub is None or not hub.connected:
        raise ApiError(503, "The event stream is not available (no broker connection); retry shortly")
    return hub


Hub = Annotated[EventHub, Depends(get_hub)]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


async def user_events(request: Request, hub: EventHub, user: users.UserInfo) -> AsyncIterator[bytes]:
    """The stream of one user, in the SSE wire format, until they disconnect (or it must end,
    see the module doc)."""
    heartbeat = request.app.state.settings.crm_sse_heartbeat_seconds
    expires = getattr(request.state, "token_expires", None)
    sub = hub.subscribe(user)
    try:
        yield format_sse_event(event="ready", data_str=_json({"user_id": user.id}), retry=RETRY_MS)
        while True:
            left = None if expires is None else expires - time.time()
            if left is not None and left <= 0:
                return  # the token expired: the client reconnects with a fresh one
            try:
                item = await asyncio.wait_for(
                    sub.queue.get(), heartbeat if left is None else min(heartbeat, left)
                )
            except TimeoutError:
                yield HEARTBEAT
                continue
            if item is None:
                return
            name, event_id, payload = item
            yield format_sse_event(event=name, data_str=_json(payload), id=event_id or None)
    finally:
        hub.unsubscribe(sub)


def event_stream(request: Request, hub: EventHub, user: users.UserInfo) -> EventSourceResponse:
    return EventSourceResponse(
        user_events(request, hub, user),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


# the 200 answer as the OpenAPI document describes it
STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An endless `text/event-stream`: `ready`, then `notification` and `task` "
        "events (data: JSON) and a `: heartbeat` comment every 15 s",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}
