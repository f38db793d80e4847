"""The public events of the catalogue as notify uses them: which event types it subscribes to,
which ones webhooks may name, which ones the event log keeps.

The catalogue comes from :func:`crm_common.catalogue.load` (built from every service's
``CATALOGUE`` declarations by ``make events``). When it cannot be loaded (the generated file is
missing in a checkout that has not run ``make events``), notify falls back to the events it has always
consumed (:data:`notify.events.CONSUMED`) and logs a warning once: webhooks and the event log
then cover those.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import lru_cache

from crm_common.catalogue import load

from . import events as ev

log = logging.getLogger(__name__)

# reminders notify fires itself from its daily job: they reach webhooks (never the bus) under these
# types, so a subscription may name them
REMINDER_TYPES = ("invoice_due_soon", "customer_birthday")
# never delivered to webhooks: every delivery would publish another one (a loop)
NOT_FOR_WEBHOOKS = frozenset({ev.WEBHOOK_DELIVERED})


@lru_cache(maxsize=1)
def public_pairs() -> frozenset[tuple[str, str]]:
    """``(source, type)`` of every public, published event type of the catalogue."""
    try:
        catalogue = load()
    except FileNotFoundError as exc:
        log.warning("event catalogue not generated (%s): using notify's consumed events", exc)
        return frozenset(p for p in ev.CONSUMED if p not in ev.USER_EVENTS)
    return frozenset((e.source, e.type) for e in catalogue.public())


def public_types() -> frozenset[str]:
    return frozenset(t for _, t in public_pairs())


def is_public(source: str | None, event_type: str) -> bool:
    return (str(source), event_type) in public_pairs()


def subscribable() -> frozenset[str]:
    """The event types a webhook may name (besides ``*``)."""
    return (public_types() | frozenset(REMINDER_TYPES)) - NOT_FOR_WEBHOOKS


def unknown_types(names: Iterable[str]) -> list[str]:
    """The names a webhook subscription may not use, in the order given."""
    allowed = subscribable()
    return [n for n in names if n != "*" and n not in allowed]


def extra_subscriptions() -> list[tuple[str, str]]:
    """Public ``(source, type)`` pairs notify has no handler for in :data:`ev.CONSUMED`: the
    service registers one for each, so webhooks and the event log see every public event."""
    known = set(ev.CONSUMED)
    return sorted(p for p in public_pairs() if p not in known)
