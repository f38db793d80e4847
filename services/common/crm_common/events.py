"""Idempotent, retried, dead-lettered event handlers.

``@event_handler("customers", "customer_created")`` on a service method consumes the events a
service published through its outbox. Each handler has its own durable queue
``evt-<source>-<type>--<service>.<method>`` (Nameko's naming) plus two more:

* ``<queue>.retry`` — a failed delivery waits here (per-message TTL, exponential backoff) and
  then dead-letters back into the handler's queue;
* ``<queue>.dlq`` — after ``CRM_EVENT_MAX_ATTEMPTS`` attempts (default 5), or at once for a
  malformed message, the message is parked here with its error, attempts and original queue in
  headers; ``crm-dlq`` lists and replays them.

Only signed events run (:func:`crm_common.signing.event_problem`: an HMAC of the source
service, event type, event id and body bytes, header ``x-crm-signature``, made by the outbox
relay): an unsigned or altered one is parked in ``<queue>.dlq`` at once with the reason
``untrusted event: …``, logged (WARNING) and counted (``crm_untrusted_events_total``). Retries
and replays keep body and headers, so the signature still holds.

The handler receives the event envelope ``{"event_id", "type", "version", "occurred_at",
"source", "request_id", "payload"}``. A handler that opens ``self.db.transaction()`` commits
``(event_id, handler)`` in ``processed_events`` together with its effect; a delivery whose
event was already processed is acked without running the handler again.
"""

from __future__ import annotations

import logging
from functools import partial

from kombu import Connection, Queue
from kombu.pools import producers
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import Entrypoint

from .config import durable_queue, env_float, env_int, queue_arguments
from .consumer import SafeQueueConsumer, park
from .context import CallerContext
from .db import Database, already_processed, is_duplicate_marker_error
from .outbox import event_exchange
from .signing import EVENT_REASONS, event_problem

log = logging.getLogger(__name__)

ENVELOPE_KEYS = ("event_id", "type", "payload")


def queue_name(source: str, event_type: str, service: str, method: str) -> str:
    return f"evt-{source}-{event_type}--{service}.{method}"


def handler_queues(source: str, event_type: str, service: str, method: str) -> tuple[Queue, Queue, Queue]:
    name = queue_name(source, event_type, service, method)
    args = queue_arguments()
    main = Queue(
        name,
        exchange=event_exchange(source),
        routing_key=event_type,
        durable=True,
        queue_arguments=args or None,
    )
    retry = Queue(
        f"{name}.retry",
        durable=True,
        queue_arguments={"x-dead-letter-exchange": "", "x-dead-letter-routing-key": name, **args},
    )
    dlq = durable_queue(f"{name}.dlq")
    return main, retry, dlq


def validate_envelope(body) -> str | None:
    if not isinstance(body, dict):
        return "event body is not an object"
    missing = [k for k in ENVELOPE_KEYS if k not in body]
    if missing:
        return f"event envelope lacks {', '.join(missing)}"
    if not isinstance(body["event_id"], str) or not body["event_id"]:
        return "event_id is not a string"
    if not isinstance(body["payload"], dict):
        return "payload is not an object"
    return None


class EventHandler(Entrypoint):
    queue_consumer = SafeQueueConsumer()
    crm_idempotent = True

    def __init__(self, source_service: str, event_type: str, **kwargs):
        self.source_service = source_service
        self.event_type = event_type
        super().__init__(**kwargs)

    # -- lifecycle ---------------------------------------------------------------------
    def setup(self) -> None:
        self.queue, self.retry_queue, self.dlq = handler_queues(
            self.source_service, self.event_type, self.container.service_name, self.method_name
        )
        self.handler_key = f"{self.container.service_name}.{self.method_name}"
        self.amqp_uri = self.container.config["AMQP_URI"]
        self.max_attempts = int(
            self.container.config.get("EVENT_MAX_ATTEMPTS") or env_int("CRM_EVENT_MAX_ATTEMPTS", 5)
        )
        self.backoff_base = float(
            self.container.config.get("EVENT_RETRY_BASE_SECONDS")
            or env_float("CRM_EVENT_RETRY_BASE_SECONDS", 1.0)
        )
        with Connection(self.amqp_uri) as conn:
            channel = conn.default_channel
            for q in (self.queue, self.retry_queue, self.dlq):
                q(channel).declare()
        self.queue_consumer.register_provider(self)

    def stop(self) -> None:
        self.queue_consumer.unregister_provider(self)

    @property
    def _db(self):
        for dep in self.container.dependencies:
            if isinstance(dep, Database):
                return dep.handle
        return None

    # -- messages ----------------------------------------------------------------------
    def handle_undecodable(self, message, reason: str) -> None:
        park(self.amqp_uri, self.dlq.name, message, reason, {"x-crm-original-queue": self.queue.name})

    def handle_message(self, body, message) -> None:
        if not self._trusted(message):
            return
        problem = validate_envelope(body)
        if problem is not None:
            log.error("malformed event on %s: %s; dead-lettered", self.queue.name, problem)
            self._dead_letter(message, f"malformed: {problem}", attempts=0)
            return
        db = self._db
        try:
            done = db is not None and already_processed(db, body["event_id"], self.handler_key)
        except Exception as exc:
            # the database is down: this runs in the consumer's thread, where an exception
            # would stop the service. Let the handler run: it fails on the database too and
            # takes the retry path; its processed marker still keeps it idempotent.
            log.warning(
                "cannot check whether %s processed event %s: %r", self.handler_key, body["event_id"], exc
            )
            done = False
        if done:
            log.info("event %s already processed by %s; skipped", body["event_id"], self.handler_key)
            self.queue_consumer.ack_message(message)
            return
        caller = CallerContext.system(self.container.service_name, body.get("request_id"))
        try:
            self.container.spawn_worker(
                self,
                (body,),
                {},
                context_data=caller.to_context_data(),
                handle_result=partial(self.handle_result, message),
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def _trusted(self, message) -> bool:
        """Whether the event carries a valid signature of its source for this event type; if
        not, it is parked in the DLQ (``untrusted event: <reason>``), logged and counted, and
        no worker runs."""
        headers = message.headers or {}
        try:
            reason = event_problem(headers, message.body, self.source_service, self.event_type)
        except Exception as exc:  # no usable key: refuse rather than trust
            log.error("cannot verify the events of %s: %s", self.handler_key, exc)
            reason = "no_key"
        if reason is None:
            return True
        self._count_untrusted(reason)
        # every value is the sender's, so quoted (repr) and cut: a forged header cannot forge log lines
        log.warning(
            "refused event on %s: untrusted event: %s (source %s, claimed type %.100r, event %.100r, "
            "routing key %.200r)",
            self.queue.name,
            reason,
            self.source_service,
            headers.get("event_type"),
            headers.get("event_id"),
            message.delivery_info.get("routing_key"),
        )
        self._dead_letter(message, f"untrusted event: {EVENT_REASONS.get(reason, reason)}", attempts=0)
        return False

    def _count_untrusted(self, reason: str) -> None:
        from .metrics import Metrics

        for dep in self.container.dependencies:
            if isinstance(dep, Metrics):
                dep.registry.counter(
                    "crm_untrusted_events_total",
                    "Events parked unprocessed because they were unsigned or their signature did not match.",
                    ("service", "source", "event_type", "reason"),
                ).inc(self.container.service_name, self.source_service, self.event_type, reason)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        exc = exc_info[1]
        if is_duplicate_marker_error(exc):
            log.info(
                "concurrent duplicate of event %s in %s; acked",
                worker_ctx.args[0]["event_id"],
                self.handler_key,
            )
            self.queue_consumer.ack_message(message)
            return None, None
        attempts = int((message.headers or {}).get("x-crm-attempts", 0)) + 1
        reason = f"{type(exc).__name__}: {exc}"
        if attempts >= self.max_attempts:
            log.error(
                "%s failed %d times on event %s; dead-lettered: %s",
                self.handler_key,
                attempts,
                worker_ctx.args[0]["event_id"],
                reason,
            )
            self._dead_letter(message, reason, attempts)
        else:
            delay = min(self.backoff_base * (2 ** (attempts - 1)), 300.0)
            log.warning(
                "%s failed on event %s (attempt %d/%d), retry in %.1fs: %s",
                self.handler_key,
                worker_ctx.args[0]["event_id"],
                attempts,
                self.max_attempts,
                delay,
                reason,
            )
            self._retry(message, reason, attempts, delay)
        return result, exc_info

    def _retry(self, message, reason: str, attempts: int, delay: float) -> None:
        headers = dict(message.headers or {})
        headers.update({"x-crm-attempts": attempts, "x-crm-error": reason[:2000]})
        try:
            conn = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
            with producers[conn].acquire(block=True, timeout=10) as producer:
                producer.publish(
                    message.body,
                    exchange="",
                    routing_key=self.retry_queue.name,
                    content_type=message.content_type,
                    content_encoding=message.content_encoding,
                    headers=headers,
                    delivery_mode=2,
                    expiration=max(delay, 0.001),
                    retry=True,
                    retry_policy={"max_retries": 3},
                )
        except Exception:
            log.exception("could not schedule a retry; requeueing the event")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)

    def _dead_letter(self, message, reason: str, attempts: int) -> None:
        try:
            park(
                self.amqp_uri,
                self.dlq.name,
                message,
                reason,
                {"x-crm-attempts": attempts, "x-crm-original-queue": self.queue.name},
            )
        except Exception:
            log.exception("could not dead-letter an event; requeueing it")
            self.queue_consumer.requeue_message(message)
            return
        self.queue_consumer.ack_message(message)


event_handler = EventHandler.decorator
