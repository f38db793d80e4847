"""``crm-partner-bridge``: the public events of the catalogue, forwarded to the partner vhost.

    crm-partner-bridge setup   # partner vhost, crm.public, queue policy, partner users (CRM_PARTNERS),
                               # the bridge's own queues on the internal vhost; idempotent
    crm-partner-bridge run     # forward until SIGTERM (``--setup`` first runs setup)

Partners never connect to the internal vhost. For every source service with public event types
in the catalogue (:func:`crm_common.catalogue.load`) the bridge has a durable queue
``partner-bridge.<source>`` on the internal vhost, bound to ``<source>.events`` with each public
type of that source (and unbound from its internal types). Each event it receives is

1. checked: the internal signature of its source (:func:`crm_common.signing.event_problem`) —
   an unsigned or altered event is parked in ``partner-bridge.<source>.dlq`` (``crm-dlq``), never
   forwarded; a type the catalogue does not list as public is dropped;
2. stripped of the payload fields the catalogue marks personal (absent, not nulled; their names
   in the header ``x-crm-removed-fields``), unless ``CRM_PARTNER_PERSONAL_DATA=1``;
3. re-published on the partner vhost's topic exchange ``crm.public``, routing key
   ``<source>.<type>``, as the JSON of the envelope ``{event_id, type, version, occurred_at,
   source, payload}`` (keys sorted, compact, UTF-8 — exactly a webhook's body), persistent,
   ``message_id`` = ``event_id``, signed with the partner key in the header
   ``x-crm-signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>`` (the webhook
   format; during a key rotation a second ``v1=`` made with the previous key);
4. acknowledged on the internal vhost only after the broker confirmed the partner publish, so a
   crash or restart loses nothing; it may forward an event twice (crash between confirm and ack),
   so partners de-duplicate by ``event_id``, as webhook receivers do.

Keys: ``CRM_PARTNER_KEY`` signs (``CRM_PARTNER_KEY_PREVIOUS`` also signs during a rotation);
without it outside production, the installation's key file ``$CRM_DATA_DIR/partner-key``.
Broker: ``AMQP_URI`` (internal vhost); the partner vhost is ``CRM_PARTNER_VHOST`` (default
``partner``, or ``<internal vhost>-partner`` when the internal vhost is not ``/``) reached as
``CRM_PARTNER_AMQP_URI`` (default: ``AMQP_URI`` with that vhost). Liveness: the heartbeat file
of ``crm-start health``. Design: docs/adr/0014-partner-bus.md; partners: docs/partners.md.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from amqp.exceptions import NotFound
from kombu import Connection, Exchange, Queue

from . import config
from .consumer import park
from .events import validate_envelope
from .keyfile import load_or_create_secret, secret_problem
from .outbox import PERSISTENT, event_exchange
from .partner_admin import PUBLIC_EXCHANGE, PartnerSetupError, broker_admin, parse_partners, provision
from .signing import EVENT_REASONS, event_problem

log = logging.getLogger(__name__)

KEY_ENV = "CRM_PARTNER_KEY"
PREVIOUS_ENV = "CRM_PARTNER_KEY_PREVIOUS"
KEY_FILE = "partner-key"
PERSONAL_ENV = "CRM_PARTNER_PERSONAL_DATA"
SIGNATURE_HEADER = "x-crm-signature"
REMOVED_HEADER = "x-crm-removed-fields"
QUEUE_PREFIX = "partner-bridge"


def production() -> bool:
    return os.environ.get("CRM_ENV", "").strip().lower() == "production"


# -- the catalogue's public events -----------------------------------------------------------


@dataclass
class Routes:
    """What the bridge forwards: ``(source, type)`` → ``{version: personal fields}`` of the public
    types; ``internal``: source → its types that are not public (unbound from the bridge)."""

    public: dict[tuple[str, str], dict[int, tuple[str, ...]]] = field(default_factory=dict)
    internal: dict[str, set[str]] = field(default_factory=dict)

    @property
    def sources(self) -> list[str]:
        return sorted({s for s, _ in self.public})

    def public_types(self, source: str) -> list[str]:
        return sorted(t for s, t in self.public if s == source)

    def personal(self, source: str, event_type: str, version: Any) -> tuple[str, ...] | None:
        """The personal fields of a public event (None: not public). An unknown version of a
        public type gets the union of the personal fields of every declared version."""
        versions = self.public.get((source, event_type))
        if versions is None:
            return None
        try:
            return versions[int(version)]
        except (KeyError, TypeError, ValueError):
            return tuple(sorted({f for fields in versions.values() for f in fields}))


def routes_from(catalogue: Any) -> Routes:
    """:class:`Routes` of a loaded catalogue (:func:`crm_common.catalogue.load`, an iterable of
    ``EventInfo``) or of :class:`~crm_common.catalogue.EventSpec` declarations."""
    routes = Routes()
    for item in catalogue:
        source, event_type = str(item.source), str(item.type)
        if item.public:
            personal = tuple(str(f) for f in item.personal or ())
            routes.public.setdefault((source, event_type), {})[int(item.version)] = personal
        else:
            routes.internal.setdefault(source, set()).add(event_type)
    for source, event_type in routes.public:
        routes.internal.get(source, set()).discard(event_type)
    return routes


def load_routes() -> Routes:
    """The routes of the generated catalogue; :class:`PartnerSetupError` when it lists no public
    event (not generated: ``make events``), rather than a bridge that forwards nothing."""
    from .catalogue import load

    routes = routes_from(load())
    if not routes.public:
        raise PartnerSetupError("the event catalogue lists no public event type: run `make events`")
    return routes


# -- personal data ---------------------------------------------------------------------------


def _remove(value: Any, path: list[str]) -> bool:
    if isinstance(value, list):
        return any([_remove(v, path) for v in value])
    if not isinstance(value, dict) or path[0] not in value:
        return False
    if len(path) == 1:
        del value[path[0]]
        return True
    return _remove(value[path[0]], path[1:])


def strip_personal(payload: dict[str, Any], personal: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """A copy of ``payload`` without the ``personal`` fields (``a.b``: field ``b`` of the object,
    or of every object of the list, under ``a``), and the names of those it had."""
    out = json.loads(json.dumps(payload))
    removed = [f for f in personal if _remove(out, f.split("."))]
    return out, removed


# -- signing ---------------------------------------------------------------------------------


def partner_keys() -> tuple[bytes, ...]:
    """The signing keys, current first: ``CRM_PARTNER_KEY`` and, during a rotation,
    ``CRM_PARTNER_KEY_PREVIOUS``. Without ``CRM_PARTNER_KEY`` (development only) the
    installation's key file ``$CRM_DATA_DIR/partner-key``, created on first use. With
    ``CRM_ENV=production`` a missing or weak key raises :class:`PartnerSetupError`."""
    current = os.environ.get(KEY_ENV, "").strip()
    previous = os.environ.get(PREVIOUS_ENV, "").strip()
    for name, value in ((KEY_ENV, current), (PREVIOUS_ENV, previous)):
        problem = secret_problem(value) if value or name == KEY_ENV else None
        if problem and production():
            raise PartnerSetupError(f"{name} {problem}: with CRM_ENV=production use `openssl rand -hex 32`")
        if problem and value:
            log.warning("%s %s (acceptable only in development)", name, problem)
    if not current:
        current = load_or_create_secret(
            config.data_dir() / KEY_FILE, "partner signing key", "partners must then get the new one"
        )
    return tuple(k.encode() for k in (current, previous) if k)


def sign(key: bytes, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 (hex) over ``"<timestamp>." + body``, as webhooks are signed."""
    return hmac.new(key, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def signature_header(keys: Iterable[bytes], timestamp: int, body: bytes) -> str:
    """``t=<timestamp>,v1=<hex>[,v1=<hex>]``: one ``v1`` per key."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(k, timestamp, body)}" for k in keys)])


def verify(key: bytes, header: str, body: bytes) -> bool:
    """What a partner does with a message (docs/partners.md): any ``v1`` of the header matches."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit():
        return False
    expected = sign(key, int(stamps[0]), body)
    return any(hmac.compare_digest(expected, v.strip()) for k, v in parts if k.strip() == "v1")


ENVELOPE_KEYS = ("event_id", "type", "version", "occurred_at", "source", "payload")


def partner_body(envelope: Mapping[str, Any]) -> bytes:
    """The message body: the envelope as partners get it everywhere (the webhook body, notify's
    ``event_log.envelope_body``): ``event_id``, ``type``, ``version``, ``occurred_at``,
    ``source``, ``payload``; sorted keys, compact JSON, UTF-8."""
    out = {k: envelope.get(k) for k in ENVELOPE_KEYS}
    out["version"] = envelope.get("version", 1)
    out["payload"] = envelope.get("payload") or {}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str).encode()


# -- addresses -------------------------------------------------------------------------------


def _vhost_of(uri: str) -> str:
    path = urllib.parse.urlsplit(uri).path
    return urllib.parse.unquote(path[1:]) if len(path) > 1 else "/"


def partner_vhost(amqp_uri: str | None = None) -> str:
    explicit = os.environ.get("CRM_PARTNER_VHOST", "").strip()
    if explicit:
        return explicit
    internal = _vhost_of(amqp_uri or config.amqp_uri())
    return "partner" if internal == "/" else f"{internal}-partner"


def with_vhost(uri: str, vhost: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit(parts._replace(path="/" + urllib.parse.quote(vhost, safe="")))


def partner_uri(amqp_uri: str | None = None) -> str:
    """How the bridge reaches the partner vhost: ``CRM_PARTNER_AMQP_URI`` or ``AMQP_URI`` with
    the partner vhost."""
    explicit = os.environ.get("CRM_PARTNER_AMQP_URI", "").strip()
    if explicit:
        return explicit
    uri = amqp_uri or config.amqp_uri()
    return with_vhost(uri, partner_vhost(uri))


def public_exchange() -> Exchange:
    return Exchange(PUBLIC_EXCHANGE, type="topic", durable=True, delivery_mode=PERSISTENT)


def declare_public_exchange(uri: str) -> None:
    with Connection(uri) as conn:
        conn.ensure_connection(max_retries=3)
        public_exchange()(conn.default_channel).declare()


def bridge_queues(routes: Routes, channel: Any) -> list[Queue]:
    """Declare (idempotently) the bridge's queue and DLQ of every source on the internal vhost,
    bound to the source's public types and unbound from its internal ones."""
    queues = []
    for source in routes.sources:
        exchange = event_exchange(source)(channel)
        exchange.declare()
        args = config.queue_arguments() or None
        queue = Queue(f"{QUEUE_PREFIX}.{source}", durable=True, queue_arguments=args)(channel)
        queue.declare()
        for event_type in routes.public_types(source):
            queue.bind_to(exchange=exchange, routing_key=event_type)
        for event_type in sorted(routes.internal.get(source, ())):
            queue.unbind_from(exchange=exchange, routing_key=event_type)
        config.durable_queue(f"{QUEUE_PREFIX}.{source}.dlq")(channel).declare()
        queues.append(queue)
    for source in sorted(set(routes.internal) - set(routes.sources)):
        _unbind_retired(channel, source, sorted(routes.internal[source]))
    return queues


def _unbind_retired(channel: Any, source: str, internal_types: list[str]) -> None:
    """A source none of whose types is public any more: its old queue (if any) stops receiving."""
    name = f"{QUEUE_PREFIX}.{source}"
    probe = channel.connection.channel()
    try:
        probe.queue_declare(name, passive=True)
    except NotFound:
        return  # the server closed the probe channel
    for event_type in internal_types:
        probe.queue_unbind(name, f"{source}.events", event_type)
    probe.close()
    log.warning("%s has no public event type any more: %s is no longer fed; delete it", source, name)


# -- the bridge ------------------------------------------------------------------------------


class PartnerBridge:
    """Forwards public events from the internal vhost to ``crm.public`` (module docstring)."""

    def __init__(
        self,
        routes: Routes,
        amqp_uri: str | None = None,
        target_uri: str | None = None,
        keys: tuple[bytes, ...] | None = None,
        personal_data: bool | None = None,
        prefetch: int = 50,
        heartbeat: Any = None,
    ):
        self.routes = routes
        self.amqp_uri = amqp_uri or config.amqp_uri()
        self.target_uri = target_uri or partner_uri(self.amqp_uri)
        self.keys = keys or partner_keys()
        self.personal_data = (
            personal_data if personal_data is not None else os.environ.get(PERSONAL_ENV, "") == "1"
        )
        self.prefetch = prefetch
        self.heartbeat = heartbeat  # a callable run about once a second while healthy
        self.stop_event = threading.Event()
        self.forwarded = 0
        self.dropped = 0
        self.parked = 0
        self._producer: Any = None

    # -- one message ---------------------------------------------------------------------
    def outgoing(self, source: str, event_type: str, raw: bytes, headers: Mapping[str, Any]) -> Any:
        """What to do with one event: ``("forward", body, headers)``, ``("drop", reason)`` or
        ``("park", reason)``."""
        try:
            problem = event_problem(headers, raw, source, event_type)
        except Exception as exc:  # no usable key: refuse rather than trust
            log.error("cannot verify the events of %s: %s", source, exc)
            problem = "no_key"
        if problem is not None:
            return ("park", f"untrusted event: {EVENT_REASONS.get(problem, problem)}")
        try:
            envelope = json.loads(raw)
        except ValueError as exc:
            return ("park", f"malformed: not JSON: {exc}")
        malformed = validate_envelope(envelope)
        if malformed is not None:
            return ("park", f"malformed: {malformed}")
        personal = self.routes.personal(source, event_type, envelope.get("version", 1))
        if personal is None:
            return ("drop", f"{source}.{event_type} is not a public event")
        removed: list[str] = []
        if not self.personal_data:
            envelope["payload"], removed = strip_personal(envelope["payload"], personal)
        envelope.setdefault("source", source)
        body = partner_body(envelope)
        out_headers = {
            "event_id": envelope["event_id"],
            "event_type": event_type,
            "source": source,
            SIGNATURE_HEADER: signature_header(self.keys, int(time.time()), body),
        }
        if removed:
            out_headers[REMOVED_HEADER] = ",".join(removed)
        return ("forward", body, out_headers)

    def on_message(self, message: Any) -> None:
        event_type = message.delivery_info.get("routing_key") or ""
        source = self._source_of(message)
        decision = self.outgoing(source, event_type, message.body, message.headers or {})
        if decision[0] == "forward":
            _, body, headers = decision
            self._producer.publish(
                body,
                exchange=PUBLIC_EXCHANGE,
                routing_key=f"{source}.{event_type}",
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=PERSISTENT,
                message_id=headers["event_id"],
                timestamp=int(time.time()),
                headers=headers,
                retry=False,
                timeout=30,
            )
            self.forwarded += 1
        elif decision[0] == "park":
            log.warning("refused event from %s (type %.100r): %s; parked", source, event_type, decision[1])
            original = {"x-crm-attempts": 0, "x-crm-original-queue": f"{QUEUE_PREFIX}.{source}"}
            park(self.amqp_uri, f"{QUEUE_PREFIX}.{source}.dlq", message, decision[1], original)
            self.parked += 1
        else:
            log.info("dropped an event: %s", decision[1])
            self.dropped += 1
        message.ack()

    @staticmethod
    def _source_of(message: Any) -> str:
        exchange = message.delivery_info.get("exchange") or ""
        return exchange[: -len(".events")] if exchange.endswith(".events") else exchange

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        """Forward until :meth:`stop`; on a broker error reconnect (backoff up to 30 s): the
        unacknowledged events are delivered again."""
        backoff = 0.5
        while not self.stop_event.is_set():
            try:
                self._session()
                backoff = 0.5
            except Exception as exc:
                log.warning("partner bridge: %s: %s; reconnecting in %.1fs", type(exc).__name__, exc, backoff)
                if self.heartbeat is not None:
                    self.heartbeat()  # alive and retrying (a broker outage is no reason to restart)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _session(self) -> None:
        with (
            Connection(self.amqp_uri, heartbeat=30) as src,
            Connection(self.target_uri, heartbeat=0, transport_options={"confirm_publish": True}) as dst,
        ):
            src.ensure_connection(max_retries=1)
            dst.ensure_connection(max_retries=1)
            public_exchange()(dst.default_channel).declare()
            self._producer = dst.Producer()
            queues = bridge_queues(self.routes, src.default_channel)
            consumer = src.Consumer(queues, on_message=self.on_message, no_ack=False)
            consumer.qos(prefetch_count=self.prefetch)
            with consumer:
                log.info(
                    "partner bridge: forwarding %d public types of %s",
                    len(self.routes.public),
                    ", ".join(self.routes.sources),
                )
                while not self.stop_event.is_set():
                    try:
                        src.drain_events(timeout=1.0)
                    except TimeoutError:
                        pass
                    src.heartbeat_check()
                    if self.heartbeat is not None:
                        self.heartbeat()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run, name="partner-bridge", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.stop_event.set()


# -- command line ----------------------------------------------------------------------------


def setup(amqp_uri: str | None = None, routes: Routes | None = None) -> dict[str, Any]:
    """Provision the partner vhost and users (:func:`crm_common.partner_admin.provision`),
    declare ``crm.public`` and the bridge's queues on the internal vhost."""
    uri = amqp_uri or config.amqp_uri()
    target = partner_uri(uri)
    vhost = _vhost_of(target)
    bridge_user = urllib.parse.unquote(urllib.parse.urlsplit(target).username or "guest")
    routes = routes or load_routes()
    partners = parse_partners(production=production())
    summary = provision(broker_admin(), vhost, bridge_user, partners)
    declare_public_exchange(target)
    with Connection(uri) as conn:
        conn.ensure_connection(max_retries=3)
        bridge_queues(routes, conn.default_channel)
    summary["sources"] = routes.sources
    summary["public_types"] = len(routes.public)
    return summary


def _heartbeat() -> Any:
    """The liveness beat of ``crm-start health`` (when ``CRM_HEARTBEAT_FILE`` is set, as in the
    images): written about every ``CRM_HEARTBEAT_SECONDS`` while the bridge is connected."""
    from .start import beat, heartbeat_interval

    if not (os.environ.get("CRM_HEARTBEAT_FILE") or os.environ.get("CRM_HEARTBEAT") == "1"):
        return None
    last = [0.0]

    def tick() -> None:
        now = time.monotonic()
        if now - last[0] >= heartbeat_interval():
            beat()
            last[0] = now

    return tick


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-partner-bridge", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", nargs="?", choices=["setup", "run"], default="run")
    parser.add_argument("--setup", action="store_true", help="run: set up first")
    parser.add_argument("--amqp-uri", default=None, help="internal broker (default: $AMQP_URI)")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("CRM_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "setup" or args.setup:
            from .start import wait_for, wait_seconds

            # a container starting with the broker: wait for it (CRM_WAIT_SECONDS) as crm-start does
            wait_for("RabbitMQ", args.amqp_uri or config.amqp_uri(), 5672, wait_seconds())
            mgmt = os.environ.get("RABBIT_MGMT_URL", "").strip()
            if mgmt:
                wait_for("RabbitMQ's management API", mgmt, 15672, wait_seconds())
            s = setup(args.amqp_uri)
            print(
                f"partner vhost {s['vhost']}: {s['public_types']} public event types of "
                f"{', '.join(s['sources'])}; partners: {', '.join(s['partners']) or 'none'}"
                + (f"; revoked: {', '.join(s['revoked'])}" if s["revoked"] else ""),
                flush=True,
            )
            if args.command == "setup":
                return 0
        bridge = PartnerBridge(load_routes(), args.amqp_uri, heartbeat=_heartbeat())
    except PartnerSetupError as exc:
        print(f"crm-partner-bridge: {exc}", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: bridge.stop())
    signal.signal(signal.SIGINT, lambda *_: bridge.stop())
    log.info("partner bridge: %s -> %s", _vhost_of(bridge.amqp_uri), _vhost_of(bridge.target_uri))
    bridge.run()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
