"""Errors this service raises: exactly :mod:`crm_common.errors`' classes (the gateway maps
them by class path), and crm_common's ``@rpc`` that declares them expected."""

from __future__ import annotations

from crm_common.errors import EXPECTED_EXCEPTIONS, Conflict, NotFound, PermissionDenied, ValidationFailed
from crm_common.rpc import rpc as crm_rpc

__all__ = ["EXPECTED_EXCEPTIONS", "Conflict", "NotFound", "PermissionDenied", "ValidationFailed", "rpc"]

rpc = crm_rpc
