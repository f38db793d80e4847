"""``crm-setup-queues``: declare every exchange and queue the services consume from, before any
service starts (like migrations). An event published before its consumer ever ran is then
already waiting in the consumer's durable queue instead of being dropped by an exchange with
no binding.

    crm-setup-queues --services-dir services          # discover services/*/<name>/service.py
    crm-setup-queues customers.service billing.service  # or name the modules

It declares, for every ``@event_handler`` of every service: the source's topic exchange, the
handler's queue bound to it, its ``.retry`` and ``.dlq`` queues; every service's own event
exchange; and ``crm.malformed``. Declaring is idempotent: run it on every start.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import logging
import os
import sys
from pathlib import Path
from typing import Any

from kombu import Connection, Queue

from .config import amqp_uri, durable_queue
from .consumer import MALFORMED_QUEUE
from .events import EventHandler, handler_queues
from .outbox import event_exchange

log = logging.getLogger(__name__)


def discover_modules(services_dir: str | Path) -> list[str]:
    """``services/<dir>/<dir>/service.py`` → ``<dir>.service`` (``common`` is not a service)."""
    out = []
    for path in sorted(Path(services_dir).glob("*/*/service.py")):
        pkg = path.parent
        if pkg.name == pkg.parent.name and pkg.name != "common":
            out.append(f"{pkg.name}.service")
    return out


def service_classes(module_name: str) -> list[Any]:
    module = importlib.import_module(module_name)
    found = []
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if obj.__module__ != module.__name__ or not isinstance(getattr(obj, "name", None), str):
            continue
        if any(getattr(m, "nameko_entrypoints", None) for _, m in inspect.getmembers(obj)):
            found.append(obj)
    return found


def event_subscriptions(cls: Any) -> list[tuple[str, str, str]]:
    """``(source, event_type, method)`` for every event handler of a service class."""
    subs = []
    for attr, method in inspect.getmembers(cls):
        for ep in getattr(method, "nameko_entrypoints", ()) or ():
            if isinstance(ep, EventHandler):
                subs.append((ep.source_service, ep.event_type, attr))
    return sorted(subs)


def topology(classes: list[Any]) -> tuple[set[str], list[Queue]]:
    exchanges: set[str] = set()
    queues: list[Queue] = []
    for cls in classes:
        exchanges.add(cls.name)
        for source, event_type, method in event_subscriptions(cls):
            exchanges.add(source)
            queues.extend(handler_queues(source, event_type, cls.name, method))
    return exchanges, queues


def declare(classes: list[Any], uri: str | None = None) -> dict[str, int]:
    exchanges, queues = topology(classes)
    with Connection(uri or amqp_uri()) as conn:
        conn.ensure_connection(max_retries=5)
        channel = conn.default_channel
        for source in sorted(exchanges):
            event_exchange(source)(channel).declare()
        for queue in queues:
            queue(channel).declare()
        durable_queue(MALFORMED_QUEUE)(channel).declare()
    return {"exchanges": len(exchanges), "queues": len(queues) + 1}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="crm-setup-queues", description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="service modules, e.g. customers.service")
    parser.add_argument("--services-dir", help="discover services/*/<name>/service.py here")
    parser.add_argument("--amqp-uri", default=None, help="broker (default: $AMQP_URI)")
    args = parser.parse_args(argv)
    modules = list(args.modules)
    if args.services_dir:
        modules += discover_modules(args.services_dir)
    if not modules:
        parser.error("name service modules or --services-dir")
    os.environ.setdefault("CRM_DAILY_DISABLED", "1")
    classes = [cls for m in modules for cls in service_classes(m)]
    counts = declare(classes, args.amqp_uri)
    print(
        f"declared {counts['exchanges']} exchanges and {counts['queues']} queues "
        f"for {', '.join(c.name for c in classes)}"
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
