"""Who may read and change what in billing. Finance and administrators write; sales managers and
read-only users read everything; a sales rep reads the invoices and payments of the customers
they own (the customers copy says who owns whom, so a reassigned customer moves with its
invoices); a portal user reads its own customer's issued documents. Everyone else: 403."""

from __future__ import annotations

from dataclasses import dataclass

from crm_common.context import CallerContext
from crm_common.errors import PermissionDenied, not_found
from sqlalchemy import select

from . import models as m
from .customers import owner_of

WRITE_ROLES = ("admin", "finance")
READ_ALL_ROLES = ("admin", "finance", "sales_manager", "readonly")
OWN_ROLES = ("sales_rep",)
RECORD_ROLES = ("admin", "finance", "sales_manager", "sales_rep")


@dataclass(frozen=True)
class Access:
    owner_id: int | None = None  # a sales rep: customers they own
    customer_id: int | None = None  # a portal user: one customer
    user_id: int | None = None
    write: bool = False

    @property
    def restricted(self) -> bool:
        return self.owner_id is not None or self.customer_id is not None


def _authenticated(caller: CallerContext | None) -> CallerContext:
    if caller is None or not caller.authenticated:
        raise PermissionDenied("No caller context: the call is not authenticated")
    return caller


def read_access(caller: CallerContext | None) -> Access:
    caller = _authenticated(caller)
    if caller.is_system or caller.has_any(READ_ALL_ROLES):
        return Access(user_id=caller.user_id, write=caller.is_system or caller.has_any(WRITE_ROLES))
    if caller.has_any(OWN_ROLES):
        if caller.user_id is None:
            raise PermissionDenied("A sales rep caller without a user id has no customers")
        return Access(owner_id=caller.user_id, user_id=caller.user_id)
    if caller.has_any(("portal",)):
        if caller.customer_id is None:
            raise PermissionDenied("A portal user must be bound to a customer")
        return Access(customer_id=caller.customer_id, user_id=caller.user_id)
    raise PermissionDenied(
        "Not allowed to read billing documents",
        {"required_roles": [*READ_ALL_ROLES, *OWN_ROLES, "portal"], "roles": list(caller.roles)},
    )


def write_access(caller: CallerContext | None, action: str = "change billing documents") -> Access:
    caller = _authenticated(caller)
    caller.require_any(WRITE_ROLES, action)
    return Access(user_id=caller.user_id, write=True)


def owned_customer_ids(owner_id: int):
    """The customers a sales rep owns (a subquery of the customers copy)."""
    return select(m.customers.c.id).where(m.customers.c.owner_id == owner_id)


def scoped(query, access: Access, customer_column, status_column=None):
    """``query`` restricted to the documents ``access`` may read."""
    if access.customer_id is not None:
        query = query.where(customer_column == access.customer_id)
        if status_column is not None:
            query = query.where(status_column != "draft")
        return query
    if access.owner_id is not None:
        return query.where(customer_column.in_(owned_customer_ids(access.owner_id)))
    return query


def allows(access: Access, customer_id: int, owner_id: int | None, status: str | None = None) -> bool:
    if access.customer_id is not None:
        return customer_id == access.customer_id and status != "draft"
    if access.owner_id is not None:
        return owner_id == access.owner_id
    return True


def visible_row(s, table, row_id: int, access: Access, entity: str, for_update: bool = False) -> dict:
    """The row (an invoice, a payment …) with its ``customer_id``, or 404 — also when it lies
    outside the caller's scope (another rep's document looks exactly like a missing one)."""
    query = select(table).where(table.c.id == row_id)
    if for_update:
        query = query.with_for_update()
    row = s.execute(query).mappings().first()
    if row is None:
        raise not_found(entity, row_id)
    row = dict(row)
    owner = owner_of(s, row["customer_id"]) if access.owner_id is not None else None
    if not allows(access, row["customer_id"], owner, row.get("status")):
        raise not_found(entity, row_id)
    return row
