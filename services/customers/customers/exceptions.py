"""Errors this service raises.

They are exactly :mod:`crm_common.errors`' classes, never subclasses: Nameko sends an error's
class path (``crm_common.errors.Conflict``) to the caller and the gateway maps those paths to
HTTP statuses in one table, so a subclass defined here would reach it as an unknown error (500).
What differs per case is the message and the ``details``; the helpers below build them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crm_common.errors import (
    EXPECTED_EXCEPTIONS,
    Conflict,
    NotFound,
    PermissionDenied,
    ValidationFailed,
    not_found,
)
from crm_common.rpc import rpc as crm_rpc

__all__ = [
    "EXPECTED_EXCEPTIONS",
    "Conflict",
    "NotFound",
    "PermissionDenied",
    "ValidationFailed",
    "not_found",
    "duplicate_customer",
    "invalid",
    "rpc",
]


def duplicate_customer(candidates: Iterable[dict[str, Any]]) -> Conflict:
    """409: a likely duplicate; ``details.candidates`` = ``[{id, name, owner_name, reasons,
    archived}]`` — whose it is and which keys matched, never the record (the candidate may be
    outside the caller's scope); send ``allow_duplicate: true`` to create it anyway."""
    return Conflict("Likely duplicate customer", {"candidates": list(candidates)})


def invalid(details: dict[str, list[str]]) -> ValidationFailed:
    fields = ", ".join(sorted(details))
    return ValidationFailed(f"Invalid input: {fields}", details)


rpc = crm_rpc  # crm_common's @rpc: CRM errors expected, details keep their types
