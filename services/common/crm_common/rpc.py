"""``@rpc`` for CRM services: Nameko's RPC entrypoint on a consumer that survives malformed
requests (undecodable bodies, bodies that are not ``{"args": [...], "kwargs": {...}}``,
requests without a reply address). Such requests are parked in ``crm.malformed`` and acked;
a well-formed request to an unknown method still gets Nameko's ``MethodNotFound`` reply."""

from __future__ import annotations

import logging

from nameko.rpc import Rpc as NamekoRpc
from nameko.rpc import RpcConsumer

from .consumer import MALFORMED_QUEUE, SafeQueueConsumer, park
from .errors import EXPECTED_EXCEPTIONS

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
    rpc_consumer = SafeRpcConsumer()

    def __init__(self, expected_exceptions=EXPECTED_EXCEPTIONS, sensitive_arguments=(), **kwargs):
        super().__init__(
            expected_exceptions=expected_exceptions, sensitive_arguments=sensitive_arguments, **kwargs
        )


rpc = Rpc.decorator
