"""Which ``*_submitted`` events open approval requests.

Nameko binds an event handler to one (source exchange, event type) when the service class is
defined, so the subscriptions are fixed at start: :data:`DEFAULT_SUBSCRIPTIONS` (the
``*_submitted`` events the services publish today, each declared in its publisher's event
catalogue) plus ``APPROVALS_SUBMITTED_EVENTS`` (``source:event_type`` pairs, comma separated,
e.g. ``billing:refund_submitted,field:visit_report_submitted``). The document type is the event
type without ``_submitted`` unless the payload names ``document_type``. A service that prefers
not to publish an event calls the ``approvals.request_approval`` RPC instead; any document type
is accepted there.
"""

from __future__ import annotations

import os
import re

from crm_common.events import event_handler

from . import domain, usecases

ENV = "APPROVALS_SUBMITTED_EVENTS"

DEFAULT_SUBSCRIPTIONS: tuple[tuple[str, str], ...] = (
    ("contracts", "contract_submitted"),
    ("contracts", "amendment_submitted"),
    ("contracts", "price_update_submitted"),
    ("contracts", "termination_submitted"),
    ("contracts", "change_batch_submitted"),
    ("inventory", "trade_in_submitted"),
)

_PAIR = re.compile(r"^[a-z][a-z0-9_-]{0,49}$")


def configured(value: str | None = None) -> list[tuple[str, str]]:
    """The subscriptions: defaults plus ``APPROVALS_SUBMITTED_EVENTS``; a malformed entry stops
    the start with a message naming it."""
    pairs = list(DEFAULT_SUBSCRIPTIONS)
    raw = os.environ.get(ENV, "") if value is None else value
    for item in filter(None, (p.strip() for p in raw.split(","))):
        source, _, event_type = item.partition(":")
        if not (_PAIR.match(source) and domain.document_type_of_event(event_type)):
            raise ValueError(f"{ENV}: {item!r} is not source:<document_type>_submitted")
        if (source, event_type) not in pairs:
            pairs.append((source, event_type))
    return pairs


def handler_name(source: str, event_type: str) -> str:
    return f"handle_{source.replace('-', '_')}_{event_type}"


def install(cls: type, pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> type:
    """Add one idempotent event handler per (source, event type) to the service class ``cls``."""
    for source, event_type in pairs:
        name = handler_name(source, event_type)
        if name in vars(cls):
            continue
        document_type = domain.document_type_of_event(event_type)

        def handle(self, event, _doc=document_type):
            usecases.open_from_event(self.db, event, _doc)

        handle.__name__ = handle.__qualname__ = name
        setattr(cls, name, event_handler(source, event_type)(handle))
    return cls
