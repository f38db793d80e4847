"""What billing holds for one customer, as counts — the customers service asks before it deletes
a customer (a customer with invoices, payments or credit notes is archived instead, so finance
can still record its payments)."""

from __future__ import annotations

from typing import Any

from crm_common.context import CallerContext
from crm_common.errors import PermissionDenied
from crm_common.paging import parse_id
from sqlalchemy import func, select

from . import models as m
from .scopes import READ_ALL_ROLES, RECORD_ROLES

COUNTED = (("invoices", m.invoices), ("payments", m.payments), ("credit_notes", m.credit_notes))


def customer_activity(db, caller: CallerContext, customer_id: Any) -> dict:
    """``{"customer_id", "invoices": n, "payments": n, "credit_notes": n}`` — every document of
    the customer in any status, whoever owns it (read-only counts, no document data). Internal
    callers who deal with customers (system, admin, finance, sales, read-only); others 403."""
    if not caller.authenticated or caller.customer_id is not None:
        raise PermissionDenied("Not allowed to count a customer's billing documents")
    caller.require_any(READ_ALL_ROLES + RECORD_ROLES, "count a customer's billing documents")
    customer_id = parse_id(customer_id, "customer_id")
    out: dict[str, Any] = {"customer_id": customer_id}
    with db.read() as s:
        for name, table in COUNTED:
            out[name] = s.execute(
                select(func.count()).select_from(table).where(table.c.customer_id == customer_id)
            ).scalar_one()
    return out
