"""Errors this service raises: exactly :mod:`crm_common.errors`' classes (the gateway maps them
by class path), built by the helpers below."""

from __future__ import annotations

from typing import Any

from crm_common.errors import (
    EXPECTED_EXCEPTIONS,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from crm_common.rpc import rpc as crm_rpc

from .domain import Refused

__all__ = [
    "EXPECTED_EXCEPTIONS",
    "Conflict",
    "NotFound",
    "PermissionDenied",
    "ValidationFailed",
    "from_refusal",
    "invalid",
    "not_found",
    "rpc",
]


def not_found(entity: str, entity_id: Any) -> NotFound:
    return NotFound(f"{entity} {entity_id} not found", {"entity": entity, "id": entity_id})


def invalid(details: dict[str, list[str]]) -> ValidationFailed:
    return ValidationFailed(f"Invalid input: {', '.join(sorted(details))}", details)


def from_refusal(refused: Refused) -> Exception:
    if refused.kind == "forbidden":
        return PermissionDenied(refused.message, refused.details)
    if refused.kind == "invalid":
        return ValidationFailed(refused.message, refused.details)
    return Conflict(refused.message, refused.details)


rpc = crm_rpc
