"""Errors a service raises for its callers.

Every error carries a message and a JSON-serialisable ``details`` dict as its two positional
arguments, so that Nameko serialises both across RPC (``exc_args``) and the gateway can map the
error by its path (``crm_common.errors.NotFound`` …) to an HTTP status in one table. They are
registered with Nameko, so a service calling another gets these classes back, not RemoteError.
"""

from __future__ import annotations

import json
from typing import Any

from nameko.exceptions import deserialize_to_instance


class CrmError(Exception):
    """Base class of every error a caller is meant to see."""

    code = "ERROR"

    def __init__(self, message: str = "", details: dict[str, Any] | str | None = None):
        if isinstance(details, str):  # as it travels over RPC (see crm_common.rpc.Rpc)
            try:
                details = json.loads(details)
            except ValueError:
                details = {"detail": details}
        self.message = message or self.__class__.__name__
        self.details = details or {}
        super().__init__(self.message, self.details)

    def __str__(self) -> str:
        return self.message


@deserialize_to_instance
class NotFound(CrmError):
    code = "NOT_FOUND"


@deserialize_to_instance
class ValidationFailed(CrmError):
    """Bad input. ``details`` maps each bad field to a list of reasons."""

    code = "VALIDATION_FAILED"

    def __init__(self, message: str = "", details: dict[str, Any] | str | None = None):
        super().__init__(message or "Invalid input", details)

    @classmethod
    def field(cls, field: str, reason: str) -> "ValidationFailed":
        return cls(f"{field}: {reason}", {field: [reason]})


@deserialize_to_instance
class Conflict(CrmError):
    """A state conflict: an illegal transition, a duplicate, a locked document."""

    code = "CONFLICT"


@deserialize_to_instance
class PermissionDenied(CrmError):
    code = "FORBIDDEN"


@deserialize_to_instance
class Unavailable(CrmError):
    """Something the service needs (its database) cannot be reached right now: try again
    later (HTTP 503). Raised for the caller by :func:`crm_common.rpc.unavailable_error`."""

    code = "SERVICE_UNAVAILABLE"


def not_found(entity: str, entity_id: Any) -> NotFound:
    """``NotFound("product 7 not found", {"entity": "product", "id": 7})``."""
    return NotFound(f"{entity} {entity_id} not found", {"entity": entity, "id": entity_id})


EXPECTED_EXCEPTIONS: tuple[type[CrmError], ...] = (
    NotFound,
    ValidationFailed,
    Conflict,
    PermissionDenied,
    Unavailable,
)


def marshmallow_details(messages: Any) -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages into ``{"a.b.0.c": ["reason"]}``."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        elif isinstance(value, list):
            for item in value:
                walk(prefix, item)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    walk("", messages)
    return flat


def load_or_raise(schema: Any, data: Any, **kwargs: Any) -> Any:
    """``schema.load(data)``, turning marshmallow's ValidationError into ValidationFailed."""
    from marshmallow import ValidationError

    if not isinstance(data, dict) and not kwargs.get("many"):
        raise ValidationFailed("Request body must be an object", {"_schema": ["must be an object"]})
    try:
        return schema.load(data, **kwargs)
    except ValidationError as exc:
        details = marshmallow_details(exc.messages)
        fields = ", ".join(sorted(details))
        raise ValidationFailed(f"Invalid input: {fields}", details) from None
