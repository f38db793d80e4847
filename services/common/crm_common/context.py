"""Caller context: who is calling, carried with every RPC call and event.

The gateway puts the authenticated user into Nameko context data (AMQP headers
``nameko.caller`` as a JSON string and ``nameko.request_id``); Nameko propagates context data
to every downstream RPC call a worker makes. Services read it with the :class:`Caller`
dependency and enforce record-level scopes themselves, so a direct RPC call made with a sales
rep's context gets no more than that rep would get through the gateway.

The broker is not a trust boundary: a context is trusted only when it carries a signature made
with the installation's ``CRM_CONTEXT_KEY`` for the method called (:mod:`crm_common.signing`,
checked by every ``@rpc`` entrypoint before a worker runs). Event handlers and the daily timer
never take a caller from a message: their workers run as the service's own system caller.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from nameko.extensions import DependencyProvider

from .errors import PermissionDenied

CALLER_KEY = "caller"
REQUEST_ID_KEY = "request_id"

ROLES = (
    "admin",
    "sales_manager",
    "sales_rep",
    "finance",
    "approver",
    "warehouse",
    "readonly",
    "portal",
)
# Roles of internal callers (daily jobs, event handlers); never given to a human user.
SYSTEM_ROLE = "system"


@dataclass(frozen=True)
class CallerContext:
    user_id: int | None = None
    username: str | None = None
    roles: tuple[str, ...] = ()
    department: str | None = None
    customer_id: int | None = None
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def system(cls, service: str, request_id: str | None = None) -> "CallerContext":
        return cls(username=f"system:{service}", roles=(SYSTEM_ROLE,), request_id=request_id)

    @classmethod
    def from_context_data(cls, data: dict[str, Any]) -> "CallerContext":
        raw = data.get(CALLER_KEY)
        request_id = data.get(REQUEST_ID_KEY)
        if isinstance(raw, (bytes, bytearray)):
            raw = raw.decode("utf-8", "replace")
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = None
        if not isinstance(raw, dict):
            return cls(request_id=request_id)
        roles = raw.get("roles") or ()
        if isinstance(roles, str):
            roles = (roles,)
        return cls(
            user_id=raw.get("user_id"),
            username=raw.get("username"),
            roles=tuple(str(r) for r in roles),
            department=raw.get("department"),
            customer_id=raw.get("customer_id"),
            request_id=request_id,
        )

    def to_context_data(self) -> dict[str, str]:
        data = {CALLER_KEY: json.dumps(self.as_dict(), separators=(",", ":"))}
        if self.request_id:
            data[REQUEST_ID_KEY] = self.request_id
        return data

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("request_id")
        d.pop("extra")
        d["roles"] = list(self.roles)
        return d

    # -- questions ----------------------------------------------------------------------
    @property
    def authenticated(self) -> bool:
        return bool(self.roles)

    @property
    def is_system(self) -> bool:
        return SYSTEM_ROLE in self.roles

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        if self.user_id is not None:
            return f"user:{self.user_id}"
        return self.username or "anonymous"

    def has_any(self, roles: Iterable[str]) -> bool:
        return self.is_system or bool(set(self.roles) & set(roles))

    def require_any(self, roles: Iterable[str], action: str = "do this") -> None:
        roles = tuple(roles)
        if not self.authenticated:
            raise PermissionDenied("No caller context: the call is not authenticated")
        if not self.has_any(roles):
            raise PermissionDenied(
                f"Not allowed to {action}",
                {"required_roles": list(roles), "roles": list(self.roles)},
            )


class Caller(DependencyProvider):
    """Injects the :class:`CallerContext` of the current worker (``self.caller``). At start it
    checks the caller-context key (:func:`crm_common.signing.check_context_key`): with
    ``CRM_ENV=production`` a service without a fit ``CRM_CONTEXT_KEY`` does not start."""

    def setup(self):
        from .signing import check_context_key

        check_context_key(self.container.service_name)

    def get_dependency(self, worker_ctx):
        return caller_of(worker_ctx)


def caller_of(worker_ctx) -> CallerContext:
    return CallerContext.from_context_data(worker_ctx.context_data)


def request_id_of(worker_ctx) -> str | None:
    return worker_ctx.context_data.get(REQUEST_ID_KEY)


def new_request_id() -> str:
    return uuid.uuid4().hex
