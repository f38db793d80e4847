"""Who may read and change what in billing. Finance and administrators write; sales managers and
read-only users read everything; a sales rep reads the invoices and payments of the customers
they own (the customers copy says who owns whom, so a reassigned customer moves with its
invoices); a portal user reads its own customer's issued documents. Everyone else: 403.

The company dashboard (:func:`dashboard_access`) narrows a sales manager who belongs to a
department to the customers owned by users of that department (the users copy says who is in
which); the lists and reports keep the rule above (managers read everything)."""

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
    department: str | None = None  # a sales manager's dashboard: customers of that department

    @property
    def restricted(self) -> bool:
        return self.owner_id is not None or self.customer_id is not None or self.department is not None


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


def dashboard_access(caller: CallerContext | None) -> Access:
    """Who sees what on the dashboard: a sales rep their own customers; a sales manager with a
    department (and no role that reads everything) the customers owned by that department's
    users; a manager without a department, admin, finance, read-only users everything; portal
    users nothing (403)."""
    caller = _authenticated(caller)
    access = read_access(caller)
    if access.customer_id is not None:
        raise PermissionDenied("Portal users have no dashboard")
    department = (caller.department or "").strip()
    if (
        department
        and not caller.is_system
        and "sales_manager" in caller.roles
        and not caller.has_any(("admin", "finance", "readonly"))
    ):
        return Access(user_id=caller.user_id, department=department)
    return access


def company_read_access(caller: CallerContext | None, action: str) -> Access:
    """Records of the whole company rather than of one customer (billing runs: their counts and
    failures name every customer's contracts): the roles that read everything, not a sales rep
    (who reads only their own customers' documents) nor a portal user → 403."""
    access = read_access(caller)
    if access.restricted:
        raise PermissionDenied(
            f"Only {', '.join(READ_ALL_ROLES)} may {action}: it covers every customer",
            {"required_roles": list(READ_ALL_ROLES), "roles": list(_authenticated(caller).roles)},
        )
    return access


def write_access(caller: CallerContext | None, action: str = "change billing documents") -> Access:
    caller = _authenticated(caller)
    caller.require_any(WRITE_ROLES, action)
    return Access(user_id=caller.user_id, write=True)


def owned_customer_ids(owner_id: int):
    """The customers a sales rep owns (a subquery of the customers copy)."""
    return select(m.customers.c.id).where(m.customers.c.owner_id == owner_id)


def department_customer_ids(department: str):
    """The customers owned by users of ``department`` (a subquery of the customers and users
    copies)."""
    members = select(m.users.c.id).where(m.users.c.department == department)
    return select(m.customers.c.id).where(m.customers.c.owner_id.in_(members))


def scoped(query, access: Access, customer_column, status_column=None):
    """``query`` restricted to the documents ``access`` may read."""
    if access.customer_id is not None:
        query = query.where(customer_column == access.customer_id)
        if status_column is not None:
            query = query.where(status_column != "draft")
        return query
    if access.owner_id is not None:
        return query.where(customer_column.in_(owned_customer_ids(access.owner_id)))
    if access.department is not None:
        # a department owns a good share of the customers: read the rows in the order of the
        # query's own (covering) index and test each customer, rather than walking the
        # customer index row by row (``+ 0`` keeps SQLite's planner from choosing the latter)
        return query.where((customer_column + 0).in_(department_customer_ids(access.department)))
    return query


def allows(access: Access, customer_id: int, owner_id: int | None, status: str | None = None) -> bool:
    if access.customer_id is not None:
        return customer_id == access.customer_id and status != "draft"
    if access.owner_id is not None:
        return owner_id == access.owner_id
    if access.department is not None:
        raise ValueError("the department scope is for the dashboard's aggregates, not documents")
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
