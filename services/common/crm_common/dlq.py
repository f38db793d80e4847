"""``crm-dlq``: look at and replay dead-lettered messages.

crm-dlq list   --services-dir services       # every .dlq queue and crm.malformed, with counts
crm-dlq show   QUEUE [--limit 10]            # headers (error, attempts) and bodies
crm-dlq replay QUEUE [--limit N]             # back into the handler's queue, attempts reset
                                             # (body and signature unchanged: an unsigned or
                                             # forged event is parked again, never run)
crm-dlq purge  QUEUE                         # drop them (after reading them)
"""

from __future__ import annotations

import argparse
import json
import sys

from kombu import Connection, Queue

from .config import amqp_uri, durable_queue
from .consumer import MALFORMED_QUEUE
from .signing import EVENT_SIGNATURE_HEADER
from .topology import discover_modules, service_classes, topology


def _queue_names(services_dir: str) -> list[str]:
    classes = [c for m in discover_modules(services_dir) for c in service_classes(m)]
    _, queues = topology(classes)
    return [q.name for q in queues if q.name.endswith(".dlq")] + [MALFORMED_QUEUE]


def _depth(conn, name: str) -> int | None:
    try:
        return Queue(name, durable=True)(conn.channel()).queue_declare(passive=True).message_count
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="crm-dlq", description="Dead-letter queues: list, show, replay, purge"
    )
    parser.add_argument("--amqp-uri", default=None)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_list = sub.add_parser("list")
    p_list.add_argument("--services-dir", default="services")
    p_show = sub.add_parser("show")
    p_show.add_argument("queue")
    p_show.add_argument("--limit", type=int, default=10)
    p_replay = sub.add_parser("replay")
    p_replay.add_argument("queue")
    p_replay.add_argument("--limit", type=int, default=0, help="0: all")
    p_purge = sub.add_parser("purge")
    p_purge.add_argument("queue")
    args = parser.parse_args(argv)

    with Connection(args.amqp_uri or amqp_uri()) as conn:
        if args.cmd == "list":
            for name in _queue_names(args.services_dir):
                depth = _depth(conn, name)
                print(f"{'-' if depth is None else depth:>8}  {name}")
            return 0
        queue = durable_queue(args.queue)(conn.default_channel)
        if args.cmd == "purge":
            print(f"purged {queue.purge()} messages from {args.queue}")
            return 0
        if args.cmd == "show":
            shown = []
            for _ in range(args.limit):
                msg = queue.get(no_ack=False)
                if msg is None:
                    break
                shown.append(msg)
                headers = {
                    k: v
                    for k, v in (msg.headers or {}).items()
                    if k.startswith("x-crm") and k != EVENT_SIGNATURE_HEADER
                }
                body = msg.body.decode("utf-8", "replace") if isinstance(msg.body, bytes) else msg.body
                print(json.dumps({"headers": headers, "body": body[:2000]}, ensure_ascii=False, default=str))
            for msg in shown:
                msg.reject(requeue=True)
            return 0
        if args.cmd == "replay":
            producer = conn.Producer()
            moved = 0
            while args.limit == 0 or moved < args.limit:
                msg = queue.get(no_ack=False)
                if msg is None:
                    break
                target = (msg.headers or {}).get("x-crm-original-queue")
                if not target:
                    msg.reject(requeue=True)
                    print(f"message without x-crm-original-queue left in {args.queue}", file=sys.stderr)
                    break
                headers = {
                    k: v
                    for k, v in (msg.headers or {}).items()
                    # the park's own headers go; the event's signature stays (it must verify)
                    if (not k.startswith("x-crm") or k == EVENT_SIGNATURE_HEADER) and k != "x-death"
                }
                producer.publish(
                    msg.body,
                    exchange="",
                    routing_key=target,
                    headers=headers,
                    content_type=msg.content_type,
                    content_encoding=msg.content_encoding,
                    delivery_mode=2,
                )
                msg.ack()
                moved += 1
            print(f"replayed {moved} messages from {args.queue}")
            return 0
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
