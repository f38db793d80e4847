"""A Nameko queue consumer that survives malformed messages.

Nameko's own ``QueueConsumer`` lets kombu raise when a message cannot be decoded (not JSON, a
content type it does not accept), which kills the consumer thread and with it the whole
service. This one hands such messages to the provider (an event handler parks them in its
dead-letter queue) or, failing that, parks them in ``crm.malformed`` and acks them: one bad
message never takes a service down and is never silently dropped.

It also acks and requeues safely when the broker connection is gone (a broker restart while a
worker runs): Nameko's own ``ack_message`` lets the socket error escape, which kills the worker
thread and with it the container. An unacked message is redelivered by the broker anyway.
"""

from __future__ import annotations

import logging
from functools import partial

from amqp.exceptions import AMQPError
from kombu import Connection
from kombu.exceptions import OperationalError as KombuOperationalError
from kombu.pools import producers
from nameko.messaging import QueueConsumer

from .config import durable_queue

log = logging.getLogger(__name__)

MALFORMED_QUEUE = "crm.malformed"

# what acking on a connection the broker dropped raises: socket errors (ConnectionResetError,
# BrokenPipeError …), py-amqp's and kombu's connection errors
BROKER_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (OSError, AMQPError, KombuOperationalError)


def park(amqp_uri: str, queue: str, message, reason: str, extra_headers: dict | None = None) -> None:
    """Copy ``message`` byte for byte into the durable queue ``queue`` with the reason."""
    headers = dict(message.headers or {})
    headers.update(extra_headers or {})
    headers["x-crm-error"] = reason[:2000]
    headers.setdefault("x-crm-original-routing-key", message.delivery_info.get("routing_key"))
    conn = Connection(amqp_uri, transport_options={"confirm_publish": True})
    with producers[conn].acquire(block=True, timeout=10) as producer:
        q = durable_queue(queue)
        producer.publish(
            message.body,
            exchange="",
            routing_key=queue,
            declare=[q],
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            headers=headers,
            delivery_mode=2,
            retry=True,
            retry_policy={"max_retries": 3},
        )


class SafeQueueConsumer(QueueConsumer):
    def ack_message(self, message) -> None:
        try:
            super().ack_message(message)
        except BROKER_CONNECTION_ERRORS as exc:
            log.warning("could not ack a message, the broker will redeliver it: %r", exc)

    def requeue_message(self, message) -> None:
        try:
            super().requeue_message(message)
        except BROKER_CONNECTION_ERRORS as exc:
            log.warning("could not requeue a message, the broker will redeliver it: %r", exc)

    def get_consumers(self, consumer_cls, channel):
        for provider in self._providers:
            consumer = consumer_cls(
                queues=[provider.queue],
                callbacks=[partial(self.handle_message, provider)],
                accept=self.accept,
                on_decode_error=partial(self.on_decode_error, provider),
            )
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    def on_decode_error(self, provider, message, exc) -> None:
        reason = f"undecodable message: {type(exc).__name__}: {exc}"
        log.error("%s on %s; parked", reason, getattr(provider.queue, "name", provider))
        handler = getattr(provider, "handle_undecodable", None)
        try:
            if handler is not None:
                handler(message, reason)
            else:
                park(self.amqp_uri, MALFORMED_QUEUE, message, reason)
        except Exception:  # pragma: no cover - broker trouble: let it come back later
            log.exception("could not park a malformed message; requeueing it")
            self.requeue_message(message)
            return
        self.ack_message(message)
