"""Prometheus metrics without a client library: counters, histograms and scrape-time gauges in
the text exposition format (0.0.4), for the Nameko services and the gateway.

Services: the dependency provider :class:`Metrics` (one line in ``ServiceBase``:
``metrics = Metrics()``) times every worker and serves ``/metrics`` on ``CRM_METRICS_PORT``
(unset or 0: no server, nothing recorded but the counters in memory):

=====================================================  =============================================
``crm_entrypoint_duration_seconds{service,entrypoint,kind}``  histogram of every worker (kind: rpc,
                                                       event, timer, ...)
``crm_entrypoint_calls_total{service,entrypoint,kind,outcome}``  ok or the exception class name
``crm_events_consumed_total{service,source,event,outcome}``  event handlers (outcome ``ok``/``failed``)
``crm_outbox_pending{service}``, ``crm_outbox_oldest_seconds{service}``  outbox lag at scrape time
``crm_queue_messages{service,queue}``, ``crm_queue_consumers{service,queue}``  the service's RPC
                                                       queue and event queues (``.retry``, ``.dlq``)
=====================================================  =============================================

The gateway uses :class:`Registry` too (``gateway/gateway/metrics.py``).
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from nameko.extensions import DependencyProvider

log = logging.getLogger(__name__)

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LabelValues = tuple[str, ...]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(str(v))}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _num(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        self.name, self.help, self.label_names = name, help_text, tuple(labels)
        self._lock = threading.Lock()

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def render(self) -> list[str]:
        return self.header()


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()):
        super().__init__(name, help_text, labels)
        self._values: dict[LabelValues, float] = {}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def render(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return self.header() + [f"{self.name}{_labels(self.label_names, k)} {_num(v)}" for k, v in items]


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = (), buckets=DEFAULT_BUCKETS):
        super().__init__(name, help_text, labels)
        self.buckets = tuple(sorted(buckets))
        self._values: dict[LabelValues, list[float]] = {}  # bucket counts..., sum, count

    def observe(self, value: float, *labels: str) -> None:
        with self._lock:
            row = self._values.setdefault(labels, [0.0] * (len(self.buckets) + 2))
            i = bisect.bisect_left(self.buckets, value)
            if i < len(self.buckets):
                row[i] += 1
            row[-2] += value
            row[-1] += 1

    def count(self, *labels: str) -> float:
        row = self._values.get(labels)
        return row[-1] if row else 0.0

    def render(self) -> list[str]:
        with self._lock:
            items = sorted((k, list(v)) for k, v in self._values.items())
        out = self.header()
        for key, row in items:
            cumulative = 0.0
            for bound, n in zip(self.buckets, row, strict=False):
                cumulative += n
                le = f'le="{_num(bound)}"'
                out.append(f"{self.name}_bucket{_labels(self.label_names, key, le)} {_num(cumulative)}")
            inf = _labels(self.label_names, key, 'le="+Inf"')
            out.append(f"{self.name}_bucket{inf} {_num(row[-1])}")
            out.append(f"{self.name}_sum{_labels(self.label_names, key)} {_num(row[-2])}")
            out.append(f"{self.name}_count{_labels(self.label_names, key)} {_num(row[-1])}")
        return out


class Gauge(_Metric):
    """Values computed at scrape time by ``collect`` (label values → value)."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str] = (),
        collect: Callable[[], Iterable[tuple[LabelValues, float]]] | None = None,
    ):
        super().__init__(name, help_text, labels)
        self.collect = collect
        self._values: dict[LabelValues, float] = {}

    def set(self, value: float, *labels: str) -> None:
        with self._lock:
            self._values[labels] = value

    def render(self) -> list[str]:
        values = dict(self._values)
        if self.collect is not None:
            try:
                values.update(dict(self.collect()))
            except Exception:  # a scrape never fails because one source is down
                log.warning("metric %s: collecting failed", self.name, exc_info=True)
        return self.header() + [
            f"{self.name}{_labels(self.label_names, k)} {_num(v)}" for k, v in sorted(values.items())
        ]


class Registry:
    def __init__(self) -> None:
        self._metrics: dict[str, _Metric] = {}
        self._lock = threading.Lock()

    def register(self, metric: _Metric) -> _Metric:
        with self._lock:
            return self._metrics.setdefault(metric.name, metric)

    def counter(self, name: str, help_text: str, labels: Sequence[str] = ()) -> Counter:
        return self.register(Counter(name, help_text, labels))  # type: ignore[return-value]

    def histogram(
        self, name: str, help_text: str, labels: Sequence[str] = (), buckets=DEFAULT_BUCKETS
    ) -> Histogram:
        return self.register(Histogram(name, help_text, labels, buckets))  # type: ignore[return-value]

    def gauge(self, name: str, help_text: str, labels: Sequence[str] = (), collect=None) -> Gauge:
        return self.register(Gauge(name, help_text, labels, collect))  # type: ignore[return-value]

    def render(self) -> str:
        with self._lock:
            metrics = list(self._metrics.values())
        lines: list[str] = []
        for m in metrics:
            lines.extend(m.render())
        return "\n".join(lines) + "\n"


def metrics_port() -> int:
    raw = os.environ.get("CRM_METRICS_PORT")
    return int(raw) if raw else 0


# -- Nameko ----------------------------------------------------------------------------------


def _kind(entrypoint) -> str:
    name = type(entrypoint).__name__
    return {"EventHandler": "event", "Rpc": "rpc", "CrmRpc": "rpc", "Timer": "timer"}.get(name, name.lower())


class Metrics(DependencyProvider):
    """Times every worker of the service and serves ``/metrics`` on ``CRM_METRICS_PORT``."""

    def __init__(self, port: int | None = None):
        self.port = port
        self.registry = Registry()
        self._started: dict[int, float] = {}
        self._server = None

    def setup(self):
        service = self.container.service_name
        r = self.registry
        self.duration = r.histogram(
            "crm_entrypoint_duration_seconds", "Duration of every worker.", ("service", "entrypoint", "kind")
        )
        self.calls = r.counter(
            "crm_entrypoint_calls_total", "Workers by outcome.", ("service", "entrypoint", "kind", "outcome")
        )
        self.consumed = r.counter(
            "crm_events_consumed_total",
            "Events handled by outcome.",
            ("service", "source", "event", "outcome"),
        )
        from .catalogue import UNDECLARED_EVENTS  # counted by UnitOfWork.publish

        r.register(UNDECLARED_EVENTS)
        r.gauge(
            "crm_outbox_pending", "Unpublished outbox rows.", ("service",), lambda: self._outbox("pending")
        )
        r.gauge(
            "crm_outbox_oldest_seconds",
            "Age of the oldest unpublished outbox row.",
            ("service",),
            lambda: self._outbox("oldest_seconds"),
        )
        self._queue_stats: dict[str, tuple[float, float]] = {}
        r.gauge("crm_queue_messages", "Messages ready in the service's queues.", ("service", "queue"),
                lambda: self._queues(0))  # fmt: skip
        r.gauge("crm_queue_consumers", "Consumers of the service's queues.", ("service", "queue"),
                lambda: self._queues(1))  # fmt: skip
        self._service = service

    # scrape-time sources ------------------------------------------------------------------
    def _relay(self):
        for ext in self.container.dependencies:
            relay = getattr(ext, "relay", None)
            if relay is not None and hasattr(relay, "lag"):
                return relay
        return None

    def _outbox(self, key: str):
        relay = self._relay()
        if relay is None:
            return []
        return [((self._service,), float(relay.lag()[key]))]

    def _queue_names(self) -> list[str]:
        from .events import handler_queues
        from .topology import event_subscriptions

        names = [f"rpc-{self._service}"]
        for source, event_type, method in event_subscriptions(self.container.service_cls):
            names += [q.name for q in handler_queues(source, event_type, self._service, method)]
        return names

    def _queues(self, index: int):
        if index == 0:  # refresh once per scrape (the messages gauge renders first)
            self._queue_stats = self._read_queues()
        return [((self._service, q), float(v[index])) for q, v in sorted(self._queue_stats.items())]

    def _read_queues(self) -> dict[str, tuple[float, float]]:
        from kombu import Connection

        out: dict[str, tuple[float, float]] = {}
        with Connection(self.container.config["AMQP_URI"], connect_timeout=3) as conn:
            for name in self._queue_names():
                channel = conn.channel()
                try:
                    ok = channel.queue_declare(queue=name, passive=True)
                    out[name] = (float(ok.message_count), float(ok.consumer_count))
                except Exception:  # not declared (yet): a passive declare closes the channel
                    pass
                finally:
                    try:
                        channel.close()
                    except Exception:
                        pass
        return out

    # server -------------------------------------------------------------------------------
    def start(self):
        port = self.port if self.port is not None else metrics_port()
        if not port:
            return
        import eventlet
        from eventlet import wsgi

        sock = eventlet.listen(("0.0.0.0", port))
        registry = self.registry

        def app(environ, start_response):
            if environ.get("PATH_INFO") != "/metrics":
                start_response("404 Not Found", [("Content-Type", "text/plain")])
                return [b"not found\n"]
            body = registry.render().encode()
            start_response("200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
            return [body]

        self._server = sock
        self.container.spawn_managed_thread(
            lambda: wsgi.server(sock, app, log_output=False), identifier="crm-metrics"
        )
        log.info("metrics on :%d/metrics", port)

    def stop(self):
        if self._server is not None:
            try:
                self._server.close()
            except OSError:
                pass
            self._server = None

    def kill(self):
        self.stop()

    # workers ------------------------------------------------------------------------------
    def worker_setup(self, worker_ctx):
        self._started[id(worker_ctx)] = time.monotonic()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(id(worker_ctx), None)
        ep = worker_ctx.entrypoint
        kind = _kind(ep)
        outcome = "ok" if exc_info is None else type(exc_info[1]).__name__
        if started is not None:
            self.duration.observe(time.monotonic() - started, self._service, ep.method_name, kind)
        self.calls.inc(self._service, ep.method_name, kind, outcome)
        if kind == "event":
            source = getattr(ep, "source_service", "?")
            event = getattr(ep, "event_type", "?")
            self.consumed.inc(self._service, source, event, "ok" if exc_info is None else "failed")

    def get_dependency(self, worker_ctx):
        return None


__all__ = ["CONTENT_TYPE", "Counter", "Gauge", "Histogram", "Metrics", "Registry", "metrics_port"]
