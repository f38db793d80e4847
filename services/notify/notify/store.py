"""The bottom of notify's use cases: the tables' column aliases, the idempotent insert
(``ON CONFLICT DO NOTHING``), paging, the caller checks (a signed-in user, an admin), lenient ids,
and the row loaders every use case shares (a notification rule with its template overrides, a
webhook that is not deleted). Every other use-case module imports from here; this module imports
no use case."""

from __future__ import annotations

from typing import Any

from crm_common.context import CallerContext
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from . import domain
from . import models as m
from .exceptions import PermissionDenied, invalid, not_found

U, C, CT, N, T, W, D, A, R = (
    m.users.c,
    m.customers.c,
    m.contacts.c,
    m.notifications.c,
    m.tasks.c,
    m.webhooks.c,
    m.deliveries.c,
    m.delivery_attempts.c,
    m.reminders.c,
)


def insert_ignore(session: Session, table, values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING; True when the row was new (idempotent effects)."""
    dialect = session.get_bind().dialect.name
    ins = sqlite_insert if dialect == "sqlite" else pg_insert
    result = session.execute(ins(table).values(**values).on_conflict_do_nothing())
    return bool(result.rowcount)


def page_args(page: Any, page_size: Any) -> tuple[int, int]:
    p, s, errors = domain.page_args(page, page_size)
    if errors:
        raise invalid(errors)
    return p, s


def run_page(session: Session, query, page: int, page_size: int) -> tuple[list, int]:
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows = session.execute(query.limit(page_size).offset((page - 1) * page_size)).mappings().all()
    return list(rows), total


def page_of(items: list, total: int, page: int, page_size: int, **extra: Any) -> dict:
    return {"items": items, "total": total, "page": page, "page_size": page_size, **extra}


def require_user(caller: CallerContext) -> int:
    if caller.user_id is None:
        raise PermissionDenied("This needs a signed-in user", {"user_id": ["missing"]})
    return int(caller.user_id)


def require_admin(caller: CallerContext, action: str) -> None:
    caller.require_any(("admin",), action)


def int_id(value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        return -1


def load_rule(session: Session, event_type: str) -> tuple[domain.Rule | None, dict | None]:
    row = session.execute(select(m.rules).where(m.rules.c.event_type == event_type)).mappings().first()
    rule = domain.rule_from_row(dict(row) if row else None, event_type)
    return rule, (row["templates"] if row else None)


def load_webhook(session: Session, webhook_id: Any) -> dict:
    row = (
        session.execute(select(m.webhooks).where(W.id == int_id(webhook_id), W.deleted_at.is_(None)))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("webhook", webhook_id)
    return dict(row)
