"""An asyncio AMQP client speaking Nameko 2.14's RPC protocol (aiormq).

One connection, one channel and one exclusive auto-delete reply queue per gateway process; any
number of calls in flight, each waiting on a future keyed by its correlation id.

Request: published to the topic exchange ``nameko-rpc`` with routing key ``<service>.<method>``,
body ``{"args": [...], "kwargs": {...}}`` (JSON; Decimal and dates as strings), properties
``content_type="application/json"`` (always: Nameko answers in the request's content type and
fails without one), ``content_encoding="utf-8"``, ``reply_to`` (the reply queue's routing key),
``correlation_id``, ``expiration`` (the call's timeout in ms: a request nobody took in time is
dropped, never run late) and headers ``nameko.call_id_stack`` plus the caller context
(``nameko.caller``, ``nameko.request_id``) that Nameko turns into the worker's context data,
signed for ``<service>.<method>`` with ``CRM_CONTEXT_KEY`` (``nameko.caller_sig``,
``nameko.caller_expires``; :mod:`crm_common.signing`), without which the service refuses it.

Reply: ``{"result": ..., "error": null | {"exc_path", "exc_type", "exc_args", "value"}}`` on the
reply queue, with the request's correlation id.

Failure modes, never a hang:

* broker down or the connection lost → :class:`ServiceUnavailable` at once (the client
  reconnects in the background with backoff; calls in flight fail, their replies would land in
  the lost exclusive queue);
* a service that never started (no queue bound for ``<service>.*``) → the mandatory publish is
  returned → :class:`ServiceUnavailable`;
* a service whose queue exists but has no consumer (stopped) → :class:`ServiceUnavailable` from a
  passive ``queue.declare`` of ``rpc-<service>`` (cached ~1 s per service, on a separate probe
  channel because a passive declare of a missing queue closes its channel);
* no reply in time → :class:`RpcTimeout`;
* the remote method raised → :class:`RemoteError` (mapped to HTTP in :mod:`gateway.errors`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import aiormq
from aiormq.abc import DeliveredMessage
from aiormq.exceptions import AMQPError, ChannelInvalidStateError, ChannelNotFoundEntity, PublishError
from crm_common.context import CallerContext
from crm_common.db import dumps
from crm_common.signing import check_context_key, sign_context_data
from pamqp import commands as spec

log = logging.getLogger(__name__)

RPC_EXCHANGE = "nameko-rpc"


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class RpcError(Exception):
    """Base of every error an RPC call raises."""


class ServiceUnavailable(RpcError):
    def __init__(self, service: str, reason: str):
        self.service = service
        self.reason = reason
        super().__init__(f"service {service!r} unavailable: {reason}")


class RpcTimeout(RpcError):
    def __init__(self, service: str, method: str, timeout: float):
        self.service = service
        self.method = method
        self.timeout = timeout
        super().__init__(f"{service}.{method} did not answer within {timeout:g} s")


class RemoteError(RpcError):
    """The remote method raised. ``exc_path`` names the exception class
    (``crm_common.errors.NotFound``); ``message``/``details`` are its two arguments."""

    def __init__(
        self,
        exc_path: str,
        message: str,
        details: dict[str, Any] | None = None,
        exc_type: str | None = None,
        value: Any = None,
        service: str = "",
        method: str = "",
    ):
        self.exc_path = exc_path
        self.message = message
        self.details = details or {}
        self.exc_type = exc_type or exc_path.rsplit(".", 1)[-1]
        self.value = value
        self.service = service
        self.method = method
        super().__init__(exc_path, message, self.details)

    def __str__(self) -> str:
        return f"{self.exc_path}: {self.message}"

    @classmethod
    def from_reply(cls, error: dict[str, Any], service: str = "", method: str = "") -> "RemoteError":
        exc_path = str(error.get("exc_path") or error.get("exc_type") or "UnknownError")
        args = error.get("exc_args") or []
        value = error.get("value")
        message = args[0] if args and isinstance(args[0], str) else (str(value) if value else exc_path)
        details = args[1] if len(args) > 1 else {}
        if isinstance(details, str):
            # Nameko stringifies every non-string scalar inside exc_args ({"id": 7} arrives as
            # {"id": "7"}); a service may send its details as a JSON string to keep the types
            try:
                details = json.loads(details)
            except ValueError:
                details = {"detail": details}
        if not isinstance(details, dict):
            details = {}
        return cls(exc_path, message, details, error.get("exc_type"), value, service, method)


# --------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------


@dataclass
class Call:
    """One call for :meth:`RpcClient.call_many`."""

    service: str
    method: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    timeout: float | None = None


class RpcClient:
    def __init__(
        self,
        amqp_uri: str,
        *,
        timeout: float = 10.0,
        name: str = "gateway",
        exchange: str = RPC_EXCHANGE,
        probe_ttl: float = 1.0,
        probe_timeout: float = 2.0,
        max_backoff: float = 10.0,
    ):
        self.amqp_uri = amqp_uri
        self.timeout = timeout
        self.name = name
        self.exchange = exchange
        self.probe_ttl = probe_ttl
        self.probe_timeout = probe_timeout
        self.max_backoff = max_backoff

        self._connection: aiormq.Connection | None = None
        self._channel: Any = None
        self._probe_channel: Any = None
        self._probe_lock: asyncio.Lock | None = None
        self._reply_routing_key: str | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._probe_cache: dict[str, tuple[float, int]] = {}
        self._probes: dict[str, asyncio.Future] = {}
        self._ready = asyncio.Event()
        self._runner: asyncio.Task | None = None
        self._closed = False
        self.last_error: str | None = None
        self.connects = 0

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self, wait: float = 5.0) -> bool:
        """Start connecting (in the background, reconnecting forever); wait up to ``wait``
        seconds for the first connection. Returns whether the broker is connected. Raises
        :class:`crm_common.signing.ContextKeyError` when there is no fit caller-context key
        (``CRM_ENV=production``)."""
        if self._runner is None:
            check_context_key(self.name)
            self._closed = False
            self._probe_lock = asyncio.Lock()
            self._runner = asyncio.create_task(self._run(), name=f"rpc-client-{self.name}")
        if wait:
            try:
                await asyncio.wait_for(self._ready.wait(), wait)
            except TimeoutError:
                log.warning(
                    "broker not reachable yet (%s); RPC calls answer 503 until it is", self.last_error
                )
        return self.connected

    async def close(self) -> None:
        self._closed = True
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            try:
                await runner
            except (asyncio.CancelledError, Exception):
                pass
        await self._teardown(ServiceUnavailable("*", "RPC client closed"))

    async def __aenter__(self) -> "RpcClient":
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        conn = self._connection
        return self._ready.is_set() and conn is not None and not conn.is_closed

    async def _run(self) -> None:
        backoff = 0.2
        while not self._closed:
            try:
                await asyncio.wait_for(self._connect(), 15)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                await self._teardown(ServiceUnavailable("*", "broker connection failed"))
                delay = backoff * (1 + random.random() / 2)
                log.warning("cannot connect to the broker (%s); retrying in %.1f s", self.last_error, delay)
                await asyncio.sleep(delay)
                backoff = min(backoff * 2, self.max_backoff)
                continue
            backoff = 0.2
            self.connects += 1
            self._ready.set()
            log.info("RPC client connected (reply queue %s)", self._reply_routing_key)
            # the connection closing, or the broker closing our channel, ends this session
            watchers = [self._connection.closing, self._channel.closing]  # type: ignore[union-attr]
            try:
                done, _ = await asyncio.wait(watchers, return_when=asyncio.FIRST_COMPLETED)
                for fut in done:
                    if not fut.cancelled() and fut.exception() is not None:
                        exc = fut.exception()
                        self.last_error = f"{type(exc).__name__}: {exc}"
            finally:
                for fut in watchers:
                    fut.cancel()
            if not self._closed:
                log.warning("broker connection lost (%s); reconnecting", self.last_error)
            await self._teardown(ServiceUnavailable("*", "broker connection lost"))

    async def _connect(self) -> None:
        conn = aiormq.Connection(
            self.amqp_uri, client_properties={"connection_name": f"{self.name}-rpc-client"}
        )
        await conn.connect()
        try:
            channel = await conn.channel(publisher_confirms=True)
            await channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            queue = f"rpc.reply-{self.name}-{uuid.uuid4().hex}"
            await channel.queue_declare(queue, exclusive=True, auto_delete=True)
            await channel.queue_bind(queue, self.exchange, routing_key=queue)
            await channel.basic_consume(queue, self._on_reply, no_ack=True)
        except BaseException:
            await conn.close()
            raise
        self._connection, self._channel, self._reply_routing_key = conn, channel, queue

    async def _teardown(self, reason: Exception) -> None:
        self._ready.clear()
        self._probe_cache.clear()
        pending, self._pending = self._pending, {}
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(reason)
        conn, self._connection, self._channel, self._probe_channel = (
            self._connection,
            None,
            None,
            None,
        )
        if conn is not None and not conn.is_closed:
            try:
                await asyncio.wait_for(conn.close(), 2)
            except Exception:  # pragma: no cover - closing a broken connection
                pass

    # -- replies -----------------------------------------------------------------------
    async def _on_reply(self, message: DeliveredMessage) -> None:
        correlation_id = message.header.properties.correlation_id
        fut = self._pending.get(correlation_id or "")
        if fut is None or fut.done():
            log.debug("reply for unknown or expired call %s", correlation_id)
            return
        try:
            payload = json.loads(message.body)
            if not isinstance(payload, dict):
                raise ValueError("reply is not an object")
        except ValueError as exc:
            fut.set_exception(RemoteError("gateway.rpc.InvalidReply", f"undecodable reply: {exc}"))
            return
        fut.set_result(payload)

    # -- consumers probe ---------------------------------------------------------------
    async def consumer_count(self, service: str, fresh: bool = False) -> int:
        """Consumers of ``rpc-<service>`` (0 when the queue does not exist), cached
        ``probe_ttl`` seconds; concurrent callers share one probe."""
        now = time.monotonic()
        cached = self._probe_cache.get(service)
        if cached is not None and cached[0] > now and not fresh:
            return cached[1]
        probe = self._probes.get(service)
        if probe is None or fresh:
            probe = asyncio.ensure_future(self._probe(service))
            self._probes[service] = probe
            probe.add_done_callback(
                lambda f, s=service: self._probes.pop(s, None) if self._probes.get(s) is f else None
            )
        return await asyncio.shield(probe)

    async def _probe(self, service: str) -> int:
        if not self.connected:
            raise ServiceUnavailable(service, "broker unavailable")
        assert self._probe_lock is not None
        async with self._probe_lock:
            try:
                if self._probe_channel is None or self._probe_channel.is_closed:
                    self._probe_channel = await self._connection.channel(  # type: ignore[union-attr]
                        publisher_confirms=False
                    )
                ok = await self._probe_channel.queue_declare(
                    f"rpc-{service}", passive=True, timeout=self.probe_timeout
                )
                count = int(ok.consumer_count or 0)
            except ChannelNotFoundEntity:
                self._probe_channel = None  # the broker closed it
                count = 0
            except (TimeoutError, AMQPError, ChannelInvalidStateError, RuntimeError) as exc:
                self._probe_channel = None
                raise ServiceUnavailable(service, f"broker probe failed: {exc}") from None
        self._probe_cache[service] = (time.monotonic() + self.probe_ttl, count)
        return count

    # -- calls -------------------------------------------------------------------------
    async def call(
        self,
        service: str,
        method: str,
        *args: Any,
        caller: CallerContext | None = None,
        timeout: float | None = None,
        check_consumers: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Call ``service.method(*args, **kwargs)`` and return its result."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if not self.connected:
            raise ServiceUnavailable(service, "broker unavailable")
        if check_consumers and await self.consumer_count(service) == 0:
            raise ServiceUnavailable(service, "no instance is running")
        channel = self._channel
        if channel is None:
            raise ServiceUnavailable(service, "broker unavailable")

        correlation_id = uuid.uuid4().hex
        headers: dict[str, Any] = {
            "nameko.call_id_stack": [f"{self.name}.{method}.{uuid.uuid4()}"],
        }
        if caller is not None:
            signed = sign_context_data(caller.to_context_data(), f"{service}.{method}", timeout)
            for key, value in signed.items():
                headers[f"nameko.{key}"] = value
        body = dumps({"args": list(args), "kwargs": kwargs}).encode("utf-8")
        remaining = max(deadline - time.monotonic(), 0.001)
        properties = spec.Basic.Properties(
            content_type="application/json",
            content_encoding="utf-8",
            reply_to=self._reply_routing_key,
            correlation_id=correlation_id,
            expiration=str(max(int(remaining * 1000), 1)),
            headers=headers,
            delivery_mode=1,
        )
        fut = asyncio.get_running_loop().create_future()
        self._pending[correlation_id] = fut
        try:
            async with asyncio.timeout(remaining):
                try:
                    await channel.basic_publish(
                        body,
                        exchange=self.exchange,
                        routing_key=f"{service}.{method}",
                        properties=properties,
                        mandatory=True,
                    )
                except PublishError:
                    self._probe_cache[service] = (time.monotonic() + self.probe_ttl, 0)
                    raise ServiceUnavailable(service, "no queue is bound for it") from None
                except (AMQPError, ChannelInvalidStateError, RuntimeError, ConnectionError) as exc:
                    raise ServiceUnavailable(service, f"publish failed: {exc}") from None
                reply = await fut
        except TimeoutError:
            raise RpcTimeout(service, method, timeout) from None
        except ServiceUnavailable as exc:
            if exc.service == "*":
                raise ServiceUnavailable(service, exc.reason) from None
            raise
        finally:
            self._pending.pop(correlation_id, None)

        error = reply.get("error")
        if error:
            if not isinstance(error, dict):
                error = {"exc_path": "UnknownError", "value": str(error)}
            raise RemoteError.from_reply(error, service, method)
        return reply.get("result")

    async def call_many(self, calls: Iterable[Call], caller: CallerContext | None = None) -> list[Any]:
        """Run ``calls`` concurrently; each item of the result is the call's result or the
        :class:`RpcError` it raised (in the order of ``calls``)."""
        return await asyncio.gather(
            *(
                self.call(c.service, c.method, *c.args, caller=caller, timeout=c.timeout, **c.kwargs)
                for c in calls
            ),
            return_exceptions=True,
        )


class BoundRpc:
    """An :class:`RpcClient` bound to one request's caller: ``await rpc.customers.get_customer(7)``
    or ``await rpc.call("customers", "get_customer", 7)``."""

    def __init__(self, client: RpcClient, caller: CallerContext):
        self.client = client
        self.caller = caller

    async def call(
        self, service: str, method: str, *args: Any, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        return await self.client.call(service, method, *args, caller=self.caller, timeout=timeout, **kwargs)

    async def call_many(self, calls: Iterable[Call]) -> list[Any]:
        return await self.client.call_many(calls, caller=self.caller)

    def __getattr__(self, service: str) -> "_ServiceProxy":
        if service.startswith("_"):
            raise AttributeError(service)
        return _ServiceProxy(self, service)


class _ServiceProxy:
    def __init__(self, rpc: BoundRpc, service: str):
        self._rpc = rpc
        self._service = service

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)

        async def invoke(*args: Any, **kwargs: Any) -> Any:
            return await self._rpc.call(self._service, method, *args, **kwargs)

        invoke.__name__ = method
        return invoke
