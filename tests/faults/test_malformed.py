"""Malformed messages on every service's RPC queue and event handler queues leave the service
running: it answers a normal call afterwards, and every poisoned message is parked where an
operator finds it (``crm.malformed`` for RPC requests, the handler's ``.dlq`` for events) —
exactly as many as were published, nothing else.

    make test-faults-quick    # or make test-faults
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from kombu import Connection, Exchange, Queue

from .harness import ROOT, dlq_depths

MALFORMED = "crm.malformed"
HUGE = 2 * 1024 * 1024  # a 2 MiB body

# RPC requests a service must park (each with reply_to unless said otherwise)
RPC_POISON = [
    ("not JSON", b"\xff\xfe{not json", "application/json", True),
    ("a content type nobody accepts", b"\x80\x04garbage", "application/x-python-serialize", True),
    ("a JSON list, not {args, kwargs}", b"[1, 2, 3]", "application/json", True),
    ("args that are not a list", b'{"args": "x", "kwargs": {}}', "application/json", True),
    ("no reply_to", b'{"args": [], "kwargs": {}}', "application/json", False),
    ("a huge body that is not JSON", b"\x00" * HUGE, "application/json", True),
]

# event deliveries a handler must dead-letter
EVENT_POISON = [
    ("not JSON", b"\xff\xfe{not json", "application/json"),
    ("a content type nobody accepts", b"\x80\x04garbage", "application/x-python-serialize"),
    ("JSON without the envelope", b'{"hello": "world"}', "application/json"),
    (
        "an envelope whose payload is not an object",
        b'{"event_id": "e1", "type": "x", "payload": 7}',
        "application/json",
    ),
]
HUGE_EVENT = (
    "a huge envelope without event_id",
    json.dumps({"type": "x", "payload": {"blob": "x" * HUGE}}).encode(),
)


def handler_queues_by_service() -> dict[str, list[str]]:
    """``{service: [event handler queue, ...]}`` from the services' own declarations."""
    code = (
        "import json, sys\n"
        "from crm_common.topology import discover_modules, service_classes, event_subscriptions\n"
        "from crm_common.events import queue_name\n"
        "out = {}\n"
        "for m in discover_modules(sys.argv[1]):\n"
        "    for cls in service_classes(m):\n"
        "        out[cls.name] = [queue_name(s, t, cls.name, meth) for s, t, meth in event_subscriptions(cls)]\n"
        "print(json.dumps(out))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "services")],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, CRM_DAILY_DISABLED="1"),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_malformed_messages_leave_every_service_running(faulty, figures):
    cluster = faulty.cluster
    queues = handler_queues_by_service()
    assert set(queues) == set(cluster.services)
    before = dlq_depths(faulty.amqp_uri)
    expected = {name: 0 for name in before}
    began = time.monotonic()
    rpc_exchange = Exchange("nameko-rpc", type="topic", durable=True)
    with Connection(faulty.amqp_uri) as conn:
        producer = conn.Producer()
        reply = Queue("faults-replies", exclusive=True, auto_delete=True)(conn.default_channel)
        reply.declare()
        for service in cluster.services:
            for _, body, content_type, with_reply in RPC_POISON:
                producer.publish(
                    body,
                    exchange=rpc_exchange,
                    routing_key=f"{service}.health",
                    content_type=content_type,
                    content_encoding="binary",
                    reply_to="faults-replies" if with_reply else None,
                    correlation_id="poison",
                    delivery_mode=2,
                )
                expected[MALFORMED] += 1
            for i, queue in enumerate(queues[service]):
                poison = [(body, ct) for _, body, ct in EVENT_POISON]
                if i == 0:
                    poison.append((HUGE_EVENT[1], "application/json"))
                for body, content_type in poison:
                    producer.publish(
                        body,
                        exchange="",
                        routing_key=queue,
                        content_type=content_type,
                        content_encoding="binary",
                        delivery_mode=2,
                    )
                    expected[f"{queue}.dlq"] += 1
    published = sum(expected.values())
    figures.update(
        services=len(cluster.services), event_queues=sum(map(len, queues.values())), poisoned=published
    )

    want = {q: before[q] + n for q, n in expected.items()}
    deadline = time.monotonic() + 180
    depths = dlq_depths(faulty.amqp_uri)
    while depths != want and time.monotonic() < deadline:
        time.sleep(2)
        depths = dlq_depths(faulty.amqp_uri)
    figures["parked_seconds"] = round(time.monotonic() - began, 1)
    assert {q: (depths[q], n) for q, n in want.items() if depths[q] != n} == {}

    # every service still runs and answers a normal call (the gateway's readiness calls health)
    assert all(cluster.alive().values()), cluster.alive()
    assert cluster.wait_ready(60), cluster.log_tail()

    # the parked messages are this test's own: drop them so later runs start clean
    with Connection(faulty.amqp_uri) as conn:
        for name, n in expected.items():
            if n:
                Queue(name, durable=True)(conn.default_channel).purge()
