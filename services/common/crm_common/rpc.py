"""``@rpc`` for CRM services: Nameko's RPC entrypoint on a consumer that survives malformed
requests (undecodable bodies, bodies that are not ``{"args": [...], "kwargs": {...}}``,
requests without a reply address). Such requests are parked in ``crm.malformed`` and acked;
a well-formed request to an unknown method still gets Nameko's ``MethodNotFound`` reply."""

from __future__ import annotations

import logging

from nameko.rpc import ReplyListener, RpcConsumer
from nameko.rpc import Rpc as NamekoRpc
from nameko.rpc import RpcProxy as NamekoRpcProxy

from .consumer import MALFORMED_QUEUE, SafeQueueConsumer, park
from .db import dumps
from .errors import EXPECTED_EXCEPTIONS, CrmError

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

    def handle_result(self, message, worker_ctx, result, exc_info):
        if exc_info is not None and isinstance(exc_info[1], CrmError):
            exc = canonical_error(exc_info[1])
            exc.args = (exc.message, dumps(exc.details))
            exc_info = (type(exc), exc, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


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


class RpcProxy(NamekoRpcProxy):
    """``customers_rpc = RpcProxy("customers")``: Nameko's proxy for calling another service,
    whose reply queue is consumed by the consumer that survives malformed messages. The caller
    context of the current worker travels with the call, so the callee enforces the original
    caller's scopes."""

    rpc_reply_listener = SafeReplyListener()


rpc = Rpc.decorator
