"""``@rpc`` for CRM services: Nameko's RPC entrypoint on a consumer that survives malformed
requests (undecodable bodies, bodies that are not ``{"args": [...], "kwargs": {...}}``,
requests without a reply address). Such requests are parked in ``crm.malformed`` and acked;
a well-formed request to an unknown method still gets Nameko's ``MethodNotFound`` reply.

A method that fails because the service's database cannot be reached answers
:class:`~crm_common.errors.Unavailable` (the gateway's 503), not an internal error; a reply
that cannot be sent because the broker connection dropped is logged, never fatal.

The caller context is signed (:mod:`crm_common.signing`): ``@rpc`` refuses a call whose context
is unsigned, expired or altered with :class:`~crm_common.signing.UntrustedCallerContext` before
any worker runs (a warning in the log, ``crm_rpc_untrusted_context_total`` in the metrics);
:class:`RpcProxy` and :class:`ClusterRpcProxy` sign each call for its target method."""

from __future__ import annotations

import logging

import eventlet
from nameko.rpc import MethodProxy, ReplyListener, RpcConsumer, ServiceProxy
from nameko.rpc import Rpc as NamekoRpc
from nameko.rpc import RpcProxy as NamekoRpcProxy
from nameko.standalone.rpc import ClusterProxy
from nameko.standalone.rpc import ClusterRpcProxy as NamekoClusterRpcProxy

from .config import env_float
from .consumer import BROKER_CONNECTION_ERRORS, MALFORMED_QUEUE, SafeQueueConsumer, park
from .db import dumps
from .errors import EXPECTED_EXCEPTIONS, CrmError, Unavailable
from .signing import context_problem, sign_context_data, untrusted

log = logging.getLogger(__name__)


class SafeRpcConsumer(RpcConsumer):
    queue_consumer = SafeQueueConsumer()

    def handle_message(self, body, message):
        reason = None
        if not message.properties.get("reply_to"):
            reason = "RPC request without reply_to"
        elif (
            not isinstance(body, dict)
            or not isinstance(body.get("args", []), list)
            or not isinstance(body.get("kwargs", {}), dict)
        ):
            reason = "RPC request body is not {args: [...], kwargs: {...}}"
        if reason is not None:
            log.error("%s (routing key %s); parked", reason, message.delivery_info.get("routing_key"))
            try:
                park(self.queue_consumer.amqp_uri, MALFORMED_QUEUE, message, reason)
            except Exception:  # pragma: no cover
                log.exception("could not park a malformed RPC request")
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(body, message)


class Rpc(NamekoRpc):
    """Nameko's ``@rpc`` with the CRM errors as expected exceptions. An error's ``details``
    travel as a JSON string: Nameko would turn every non-string value inside an exception's
    arguments into a string (``{"id": 7}`` would arrive as ``{"id": "7"}``); the gateway
    decodes them. In-process, ``exc.details`` stays the dict."""

    rpc_consumer = SafeRpcConsumer()

    def __init__(self, expected_exceptions=EXPECTED_EXCEPTIONS, sensitive_arguments=(), **kwargs):
        super().__init__(
            expected_exceptions=expected_exceptions, sensitive_arguments=sensitive_arguments, **kwargs
        )

    def handle_message(self, body, message):
        """Refuse a call whose caller context is not signed for this method by a process holding
        the key (raising here makes the consumer reply with the error; no worker runs)."""
        target = f"{self.container.service_name}.{self.method_name}"
        context_data = self.unpack_message_headers(message)
        try:
            reason = context_problem(context_data, target)
        except Exception as exc:  # no usable key: refuse rather than trust
            log.error("cannot verify the caller context of %s: %s", target, exc)
            reason = "no_key"
        if reason is not None:
            self._count_untrusted(reason)
            caller = context_data.get("caller")
            # every value is the sender's, so quoted (repr): a forged header cannot forge log lines
            log.warning(
                "refused %s: %s (claimed caller %.300r, request %.100r, reply to %.200r)",
                target,
                reason,
                caller,
                context_data.get("request_id"),
                message.properties.get("reply_to"),
            )
            refusal = untrusted(reason, target)
            refusal.args = (refusal.message, dumps(refusal.details))
            raise refusal
        super().handle_message(body, message)

    def _count_untrusted(self, reason: str) -> None:
        from .metrics import Metrics

        for dep in self.container.dependencies:
            if isinstance(dep, Metrics):
                dep.registry.counter(
                    "crm_rpc_untrusted_context_total",
                    "RPC calls refused because their caller context was unsigned, expired or altered.",
                    ("service", "method", "reason"),
                ).inc(self.container.service_name, self.method_name, reason)

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and not isinstance(exc_info[1], CrmError):
            unavailable = unavailable_error(exc_info[1])
            if unavailable is not None:
                log.warning("%s: %r", unavailable.message, exc_info[1])
                exc_info = (Unavailable, unavailable, exc_info[2])
        if exc_info is not None and isinstance(exc_info[1], CrmError):
            exc = canonical_error(exc_info[1])
            exc.args = (exc.message, dumps(exc.details))
            exc_info = (type(exc), exc, exc_info[2])
        try:
            return super().handle_result(message, worker_ctx, result, exc_info)
        except BROKER_CONNECTION_ERRORS as exc:
            # the broker went away while the worker ran: the caller gets no reply (it answers
            # 503/504 on its side) and the unacked request is the broker's to redeliver; the
            # service itself must keep running
            log.warning("could not reply to %s, broker connection lost: %r", worker_ctx.call_id, exc)
            return result, exc_info


SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error", "database is busy")


def unavailable_error(exc: BaseException) -> Unavailable | None:
    """The :class:`Unavailable` error a caller should get for ``exc`` when ``exc`` says the
    service's database cannot be reached right now (PostgreSQL down, sessions terminated,
    connections refused, pool exhausted, SQLite locked); None for every other error, which
    stays an internal error (a missing table is a bug, not an outage)."""
    from sqlalchemy import exc as sa_exc

    reason = None
    if isinstance(exc, sa_exc.DBAPIError):
        orig = getattr(exc, "orig", None)
        if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
            reason = "connection lost"
        elif isinstance(exc, sa_exc.OperationalError):
            if type(orig).__module__.startswith("sqlite3"):
                text = str(orig).lower()
                if any(marker in text for marker in SQLITE_UNAVAILABLE):
                    reason = text
            else:
                reason = "cannot reach the database"
    elif isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
        reason = type(exc).__name__
    if reason is None:
        return None
    return Unavailable("The service's database is unavailable, try again later", {"reason": reason})


def canonical_error(exc: CrmError) -> CrmError:
    """A service may raise its own subclass of a CRM error; callers see the class from
    :mod:`crm_common.errors` it derives from (the gateway maps those paths to HTTP)."""
    if type(exc) in EXPECTED_EXCEPTIONS:
        return exc
    for base in EXPECTED_EXCEPTIONS:
        if isinstance(exc, base):
            return base(exc.message, exc.details)
    return exc


class SafeReplyListener(ReplyListener):
    queue_consumer = SafeQueueConsumer()


def service_rpc_timeout() -> float:
    """Seconds a service waits for another service's reply (``CRM_SERVICE_RPC_TIMEOUT``,
    default 30)."""
    return env_float("CRM_SERVICE_RPC_TIMEOUT", 30.0)


class SigningMethodProxy(MethodProxy):
    """Nameko's method proxy whose request carries the worker's caller context signed for this
    target method (Nameko would forward the context, and so the signature, of the call that
    started the worker, which names another method)."""

    signature_ttl: float | None = None

    def get_message_headers(self, worker_ctx):
        target = f"{self.service_name}.{self.method_name}"
        data = sign_context_data(worker_ctx.context_data, target, self.signature_ttl)
        return {self._get_header_name(k): v for k, v in data.items() if v is not None}


class TimedMethodProxy(SigningMethodProxy):
    """Nameko's method proxy with a deadline: Nameko 2.14 waits for a reply forever, so a
    service whose dependency is down (killed, not restarted) kept every worker that called it
    blocked until the whole service stopped answering. The request expires with the deadline
    (a late consumer never runs it) and the caller gets :class:`Unavailable` (HTTP 503)."""

    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout=None, **options):
        self.timeout = service_rpc_timeout() if timeout is None else float(timeout)
        self.signature_ttl = self.timeout
        options.setdefault("expiration", self.timeout)
        super().__init__(worker_ctx, service_name, method_name, reply_listener, **options)

    def __call__(self, *args, **kwargs):
        reply = self._call(*args, **kwargs)
        timer = eventlet.Timeout(self.timeout)
        try:
            return reply.result()
        except eventlet.Timeout as fired:
            if fired is not timer:
                raise  # someone else's deadline
            raise Unavailable(
                f"Service {self.service_name!r} did not answer in time",
                {"service": self.service_name, "method": self.method_name, "timeout_seconds": self.timeout},
            ) from None
        finally:
            timer.cancel()


class TimedServiceProxy(ServiceProxy):
    def __getattr__(self, name):
        return TimedMethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener, **self.options)


class RpcProxy(NamekoRpcProxy):
    """``customers_rpc = RpcProxy("customers")``: Nameko's proxy for calling another service,
    whose reply queue is consumed by the consumer that survives malformed messages. The caller
    context of the current worker travels with the call, so the callee enforces the original
    caller's scopes. A call waits at most ``timeout`` seconds (default
    :func:`service_rpc_timeout`), then raises :class:`~crm_common.errors.Unavailable`."""

    rpc_reply_listener = SafeReplyListener()

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener, **self.options)


class SigningServiceProxy(ServiceProxy):
    def __getattr__(self, name):
        return SigningMethodProxy(
            self.worker_ctx, self.service_name, name, self.reply_listener, **self.options
        )


class SigningClusterProxy(ClusterProxy):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        if name not in self._proxies:
            self._proxies[name] = SigningServiceProxy(self._worker_ctx, name, self._reply_listener)
        return self._proxies[name]


class ClusterRpcProxy(NamekoClusterRpcProxy):
    """Nameko's standalone ``ClusterRpcProxy`` (scripts, tests) whose calls carry
    ``context_data`` signed with this process's ``CRM_CONTEXT_KEY`` for each target method::

        with ClusterRpcProxy({"AMQP_URI": uri}, context_data=caller.to_context_data()) as rpc:
            rpc.customers.list_customers()
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._proxy = SigningClusterProxy(self._worker_ctx, self._reply_listener)


rpc = Rpc.decorator
