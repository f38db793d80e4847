"""The event catalogue: every event a service publishes, declared once.

Each service declares its published events in its ``events.py`` as ``CATALOGUE``, a tuple of
:class:`EventSpec` whose ``payload`` is the marshmallow schema of the event's payload. From
those declarations (and the ``@event_handler`` entrypoints, which give the consumers) the build
(:mod:`crm_common.catalogue_build`, ``make events``) writes:

* ``crm_common/event_catalogue.json``: what services and the gateway read at run time through
  :func:`load` (declared types, JSON Schemas, which events are public, personal-data fields);
* ``docs/events/asyncapi.yaml`` (AsyncAPI 3.0) and ``docs/events/schemas/*.json``.

At run time: :func:`load` gives the :class:`Catalogue` (notify's webhook and event-log checks,
the gateway's ``GET /api/v1/event-types``, the partner bus); :func:`check_published`, called by
``UnitOfWork.publish``, refuses undeclared types and payloads that do not match their schema when
``CRM_VALIDATE_EVENTS`` is set (the test suites set it) and otherwise logs and counts undeclared
types without blocking anything; :func:`register` declares events of a source that has no
``events.py`` in the build (a test's sample service).

Versioning rule (docs/events/README.md): changes to a published type are additive only; a
breaking change is a new type version, and both versions are published during a deprecation
period.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .metrics import Counter

log = logging.getLogger(__name__)

CATALOGUE_FILE = Path(__file__).with_name("event_catalogue.json")


@dataclass(frozen=True)
class EventSpec:
    """One published event type.

    ``payload``: the marshmallow ``Schema`` class (or instance) describing the payload.
    ``public``: offered to partners (webhooks, ``GET /api/v1/events``, the partner vhost);
    internal events (read-model plumbing, user directory sync) are ``False``.
    ``personal``: payload fields that carry personal data (names of people, e-mail addresses,
    phone numbers, birthdays, addresses, tax ids of natural persons); the catalogue marks them and
    the partner bus leaves them out unless a partner is allowed to see them; dotted paths
    (``contacts.email``) reach into nested objects. ``version``: the payload's version (a breaking
    change is a new version, published as ``<type>.v<version>``: :func:`routing_key`);
    ``deprecated``: still published while its successor is; ``examples``: payloads the build checks
    against the schema and shows in the AsyncAPI document.
    """

    source: str
    type: str
    payload: Any
    summary: str
    version: int = 1
    public: bool = True
    personal: tuple[str, ...] = ()
    deprecated: bool = False
    examples: tuple[dict[str, Any], ...] = field(default=())

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.source, self.type, self.version)


# --------------------------------------------------------------------------------------
# The envelope every event travels in
# --------------------------------------------------------------------------------------

ENVELOPE_KEYS = ("event_id", "type", "version", "occurred_at", "source", "request_id", "payload")
ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Envelope",
    "description": (
        "Every event on the bus: published to the topic exchange <source>.events with the event "
        "type as routing key, signed by its source (AMQP header x-crm-signature)."
    ),
    "properties": {
        "event_id": {
            "type": "string",
            "format": "uuid",
            "description": "unique per event; consumers dedupe on it",
        },
        "type": {"type": "string", "description": "the event type, also the routing key"},
        "version": {"type": "integer", "minimum": 1, "description": "the version of the type's payload"},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "when the change was made (UTC)",
        },
        "source": {
            "type": "string",
            "description": "the publishing service, also the exchange <source>.events",
        },
        "request_id": {"type": ["string", "null"], "description": "the API request that caused it, if any"},
        "payload": {"type": "object", "description": "the event's data: the schema of its type and version"},
    },
    "required": list(ENVELOPE_KEYS),
    "additionalProperties": False,
}


def routing_key(event_type: str, version: int = 1) -> str:
    """The routing key an event is published with (and the type its handlers bind to): the type
    for version 1, ``<type>.v<version>`` for later versions, so a consumer of one version never
    receives another while both are published."""
    return event_type if version == 1 else f"{event_type}.v{version}"


# --------------------------------------------------------------------------------------
# The catalogue as loaded at run time
# --------------------------------------------------------------------------------------


class UndeclaredEvent(LookupError):
    """An event published with a (source, type, version) that no catalogue entry declares."""

    def __init__(self, source: str, event_type: str, version: int):
        self.source, self.event_type, self.version = source, event_type, version
        super().__init__(
            f"{source} published {event_type!r} (version {version}), which its events.py CATALOGUE "
            "does not declare; declare it there and run `make events`"
        )


class EventPayloadMismatch(ValueError):
    """A payload that does not match its declared JSON Schema; ``path`` locates the problem
    (``"payload.customer.id"``)."""

    def __init__(self, source: str, event_type: str, version: int, path: str, message: str):
        self.source, self.event_type, self.version = source, event_type, version
        self.path, self.message = path, message
        super().__init__(f"{source}.{event_type} v{version}: {path}: {message}")


@dataclass(frozen=True)
class EventInfo:
    """One declared event type as the catalogue describes it (what :func:`load` returns)."""

    source: str
    type: str
    version: int
    summary: str
    public: bool
    personal: tuple[str, ...]
    deprecated: bool
    schema: dict[str, Any]
    consumers: tuple[str, ...] = ()
    examples: tuple[dict[str, Any], ...] = ()

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.source, self.type, self.version)

    @property
    def exchange(self) -> str:
        return f"{self.source}.events"

    @property
    def routing_key(self) -> str:
        return routing_key(self.type, self.version)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "type": self.type,
            "version": self.version,
            "summary": self.summary,
            "public": self.public,
            "personal": list(self.personal),
            "deprecated": self.deprecated,
            "schema": self.schema,
            "consumers": list(self.consumers),
            "examples": [dict(e) for e in self.examples],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "EventInfo":
        return cls(
            source=data["source"],
            type=data["type"],
            version=int(data["version"]),
            summary=data["summary"],
            public=bool(data["public"]),
            personal=tuple(data.get("personal") or ()),
            deprecated=bool(data.get("deprecated", False)),
            schema=data["schema"],
            consumers=tuple(data.get("consumers") or ()),
            examples=tuple(data.get("examples") or ()),
        )


def info_of(spec: EventSpec, consumers: Iterable[str] = ()) -> EventInfo:
    """The catalogue entry of a declaration: its payload schema as JSON Schema."""
    from .jsonschema import schema_of

    return EventInfo(
        source=spec.source,
        type=spec.type,
        version=spec.version,
        summary=spec.summary,
        public=spec.public,
        personal=tuple(spec.personal),
        deprecated=spec.deprecated,
        schema=schema_of(spec.payload),
        consumers=tuple(sorted(set(consumers))),
        examples=tuple(spec.examples),
    )


class Catalogue:
    """The declared event types: ``get(source, type)``, ``find(type)``, ``types()``, ``public()``;
    iterating gives every :class:`EventInfo` sorted by source, type and version."""

    def __init__(self, events: Iterable[EventInfo], unpublished: Iterable[Mapping[str, Any]] = ()):
        self._by_key = {e.key: e for e in events}
        self.events: tuple[EventInfo, ...] = tuple(self._by_key[k] for k in sorted(self._by_key))
        # consumed types no entry publishes (allowed with a reason in crm_common.catalogue_build)
        self.unpublished: tuple[dict[str, Any], ...] = tuple(dict(u) for u in unpublished)

    def __iter__(self) -> Iterator[EventInfo]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def get(self, source: str, event_type: str, version: int | None = None) -> EventInfo | None:
        """The entry of ``source``'s ``event_type`` (its newest version unless one is named)."""
        if version is not None:
            return self._by_key.get((source, event_type, version))
        found = [e for e in self.events if e.source == source and e.type == event_type]
        return found[-1] if found else None

    def find(self, event_type: str) -> list[EventInfo]:
        """Every entry of a type name, whatever its source (type names are unique in practice)."""
        return [e for e in self.events if e.type == event_type]

    def types(self, public_only: bool = False) -> list[str]:
        """The declared type names, sorted (``public_only``: those offered to partners)."""
        return sorted({e.type for e in self.events if e.public or not public_only})

    def public(self) -> list[EventInfo]:
        return [e for e in self.events if e.public]

    def sources(self) -> list[str]:
        return sorted({e.source for e in self.events})

    def with_events(self, extra: Iterable[EventInfo]) -> "Catalogue":
        return Catalogue([*self.events, *extra], self.unpublished)


_registered: dict[tuple[str, str, int], EventInfo] = {}
_lock = threading.Lock()


@lru_cache(maxsize=4)
def _read(path: str) -> Catalogue:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return Catalogue((EventInfo.from_dict(e) for e in data.get("events", ())), data.get("unpublished", ()))


@lru_cache(maxsize=1)
def _loaded() -> Catalogue:
    return _read(str(CATALOGUE_FILE)).with_events(_registered.values())


def load(path: str | Path | None = None) -> Catalogue:
    """The generated catalogue (``event_catalogue.json`` shipped with crm_common, or ``path``),
    plus whatever :func:`register` added in this process. ``FileNotFoundError`` when the file
    was never generated (``make events``)."""
    if path is not None:
        return _read(str(path))
    return _loaded()


def _current() -> Catalogue:
    """:func:`load`, or only the registered events when no catalogue was generated."""
    try:
        return _loaded()
    except FileNotFoundError:
        return Catalogue(_registered.values())


def register(spec: EventSpec) -> EventInfo:
    """Declare an event of a source that has no ``events.py`` in the build (a test's sample
    service): from then on this process treats it as in the catalogue."""
    info = info_of(spec)
    with _lock:
        _registered[info.key] = info
        _validators.pop(info.key, None)
        _loaded.cache_clear()
    return info


def reload() -> None:
    """Forget the loaded catalogue (after the build rewrote it)."""
    _read.cache_clear()
    _loaded.cache_clear()
    _validators.clear()


# --------------------------------------------------------------------------------------
# The check made on every publish (crm_common.db.UnitOfWork.publish_many)
# --------------------------------------------------------------------------------------

VALIDATE_ENV = "CRM_VALIDATE_EVENTS"
UNDECLARED_EVENTS = Counter(
    "crm_undeclared_events_total",
    "Events published with a type the event catalogue does not declare.",
    ("service", "event_type"),
)
_reported: set[tuple[str, str, int]] = set()
_validators: dict[tuple[str, str, int], Any] = {}


def validating() -> bool:
    """Whether publishing validates against the catalogue (``CRM_VALIDATE_EVENTS``; the tests
    set it)."""
    return os.environ.get(VALIDATE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def check_published(source: str, event_type: str, version: int, payloads: Sequence[Any]) -> None:
    """The check on events about to enter the outbox.

    With ``CRM_VALIDATE_EVENTS``: :class:`UndeclaredEvent` for a type the catalogue does not
    declare, :class:`EventPayloadMismatch` for a payload its JSON Schema refuses. Without it
    (production): an undeclared type is logged (ERROR, once per type and process) and counted
    (``crm_undeclared_events_total``), and the transaction goes on; payloads are not checked.
    """
    key = (source, event_type, version)
    info = _current()._by_key.get(key)
    strict = validating()
    if info is None:
        if strict:
            raise UndeclaredEvent(source, event_type, version)
        UNDECLARED_EVENTS.inc(source, event_type)
        if key not in _reported:
            _reported.add(key)
            log.error("%s", UndeclaredEvent(source, event_type, version))
        return
    if strict:
        validator = _validator(info)
        for payload in payloads:
            _validate(validator, info, payload)


def _validator(info: EventInfo) -> Any:
    found = _validators.get(info.key)
    if found is None:
        from jsonschema import Draft202012Validator

        found = Draft202012Validator(info.schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        _validators[info.key] = found
    return found


def _validate(validator: Any, info: EventInfo, payload: Any) -> None:
    from jsonschema.exceptions import best_match

    from .db import dumps  # the payload as the outbox will write it (decimals, dates as text)

    document = json.loads(dumps(payload))
    error = best_match(validator.iter_errors(document))
    if error is not None:
        path = ".".join(["payload", *(str(p) for p in error.absolute_path)])
        raise EventPayloadMismatch(info.source, info.type, info.version, path, error.message)
